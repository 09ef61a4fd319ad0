"""TF Serving's versioned layout: ``<base_dir>/<version>/`` with integer versions, written atomically.

TF Serving watches ``<base_dir>`` and loads the integer-named folders (by default the highest). A version is
first written to a hidden, non-numeric folder beside them (which TF Serving ignores), then renamed into
place, so the server never sees half a model; a failed write removes its folder. An existing version is
never replaced.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
from typing import Callable

TMP_PREFIX = ".tmp-export-"


def versions(base_dir) -> list[int]:
    """The integer versions present under ``base_dir``, ascending (empty when it does not exist)."""
    base = pathlib.Path(base_dir)
    if not base.is_dir():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit())


def next_version(base_dir) -> int:
    """One above the highest version under ``base_dir``; 1 for a new model."""
    present = versions(base_dir)
    return present[-1] + 1 if present else 1


def publish(base_dir, write: Callable[[str], None], version: int | None = None) -> str:
    """Calls ``write(folder)`` on a fresh temporary folder in ``base_dir``, then renames it to the version.

    ``version=None`` takes the next free integer (and the one after, should a concurrent export claim it
    first). An explicit ``version`` that exists raises ``FileExistsError`` before anything is written.
    Returns the version folder.
    """
    base = pathlib.Path(base_dir)
    if version is not None:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"version={version!r} must be a positive integer (TF Serving's version numbers)")
        _refuse_existing(base / str(version))
    base.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=TMP_PREFIX, dir=base)
    try:
        write(tmp)
        while True:
            target = base / str(version if version is not None else next_version(base))
            if version is not None:
                _refuse_existing(target)
            if not target.exists():
                try:
                    os.rename(tmp, target)  # atomic on one filesystem; fails if target is a non-empty folder
                    return str(target)
                except OSError:
                    if version is not None or not target.exists():
                        raise
            # Another export took this number between the check and the rename: take the next one.
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _refuse_existing(target: pathlib.Path) -> None:
    if target.exists():
        raise FileExistsError(f"{target} already exists; versions are never overwritten: pick another --version "
                              "or leave it out to take the next free one")
