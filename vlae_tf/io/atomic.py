"""Files written under a temporary name and renamed into place, so a crash never leaves half a file behind
(``os.replace`` is atomic on POSIX and Windows when both names are in one folder)."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any


def save_model_atomically(model, path) -> str:
    """``model.save`` to ``<stem>.tmp.keras`` beside ``path``, then rename; returns ``path``."""
    path = pathlib.Path(path)
    tmp = path.with_name(path.stem + ".tmp.keras")
    model.save(str(tmp))
    os.replace(tmp, path)
    return str(path)


def write_json_atomically(path, value: Any) -> str:
    """``value`` as indented, key-sorted JSON in ``path`` (through ``<path>.tmp``); returns ``path``."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return str(path)
