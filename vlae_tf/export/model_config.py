"""TF Serving's ``--model_config_file``: several models, and chosen versions of each, from one server."""

from __future__ import annotations

import json
from typing import Mapping, Sequence


def models_config(models: Mapping[str, str], versions: Mapping[str, Sequence[int]] | None = None) -> str:
    """The text of a ``ModelServerConfig`` serving ``{name: base_path}``.

    A model listed in ``versions`` serves exactly those versions (``model_version_policy { specific }``);
    the others serve their latest version, TF Serving's default. ``base_path`` is the path *inside* the
    server (e.g. ``/models/vlae_mnist`` in the docker image), holding the integer version folders.
    """
    versions = dict(versions or {})
    unknown = set(versions) - set(models)
    if unknown:
        raise ValueError(f"versions given for {sorted(unknown)}, which are not among the models {sorted(models)}")
    lines = ["model_config_list {"]
    for name, base_path in models.items():
        lines += ["  config {", f"    name: {json.dumps(name)}", f"    base_path: {json.dumps(str(base_path))}",
                  '    model_platform: "tensorflow"']
        if name in versions:
            chosen = [int(v) for v in versions[name]]
            if not chosen or min(chosen) < 1:
                raise ValueError(f"versions[{name!r}]={versions[name]!r} must list positive integers")
            lines.append("    model_version_policy { specific { " + " ".join(f"versions: {v}" for v in chosen) + " } }")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
