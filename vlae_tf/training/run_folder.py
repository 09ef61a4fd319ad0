"""Claiming a run folder before a run writes into it: the path checks, the lock, the config check, clean-up.

Rules, the same for ``model.fit`` and the custom loop (README.md, "Run folders: resume and locking"):

- One run per folder: the chief process holds an exclusive ``flock`` on ``<run>/.lock`` (its pid and host
  written inside) for the whole run. A second run on the folder stops at once naming the holder. The kernel
  drops the lock when its process dies, however it dies, so a killed run never blocks the next one. The lock
  file is never deleted: unlinking it would let two processes lock two different files of the same name.
- A folder with a previous run (``config.json``, checkpoints or ``model.keras``) is resumed, and only with the
  same configuration up to the fields in ``RESUMABLE``; any other difference stops the run before anything
  is written. With ``resume=False`` such a folder is refused: use a new folder or delete it.
- Left-overs of a crash in the middle of a write (``ckpt-N_temp`` folders of TensorFlow's sharded saves,
  ``*.tmp.keras`` and ``config.json.tmp``) are removed once the lock is held.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pathlib
import shutil
import socket

from vlae_tf.run_dir import CHECKPOINT_DIR, CONFIG_FILE, MODEL_FILE
from vlae_tf.config import ExperimentConfig

LOCK_FILE = ".lock"

# Fields that may differ from the stored config.json when a run is resumed: how long and how fast to train,
# how often to log and save, and where the same data lives. Everything else shapes the model, its optimizer
# state or the data stream, and a checkpoint of one configuration would silently mean something else in
# another (e.g. relu weights loaded under elu). train.precision is not here: mixed_float16 adds loss-scale
# variables to the optimizer, so its checkpoints do not fit the other precisions; nor is train.lr_decay_steps:
# a constant rate is an optimizer variable and a schedule is not, so switching between them misaligns the
# optimizer's checkpointed variables (the floor only rescales the schedule and may change).
RESUMABLE = frozenset({
    "train.epochs", "train.steps_per_epoch", "train.learning_rate", "train.lr_decay_floor", "train.clip_norm",
    "train.checkpoint_every",
    "train.keep_checkpoints", "train.summary_every", "train.image_every", "train.max_nonfinite_steps",
    "data.data_dir",
})


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked (busy, another config, not writable); the message says why."""


def check_writable(run_dir) -> pathlib.Path:
    """``run_dir`` as a Path, after checking it is (or can become) a writable folder; creates nothing."""
    path = pathlib.Path(run_dir)
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"--out {path} is an existing file, not a folder; give a folder path for the run")
    existing = path
    while not existing.exists():  # the nearest existing ancestor is where the folder would be created
        existing = existing.parent
    if not existing.is_dir():
        raise RunFolderError(f"--out {path} cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise RunFolderError(f"--out {path} is not writable ({existing} denies write access); choose another folder")
    return path


def stored_config(run_dir) -> dict | None:
    path = pathlib.Path(run_dir) / CONFIG_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as err:
        raise RunFolderError(f"{path} is not valid JSON ({err}); move the folder away to start afresh") from None


def config_differences(stored: dict, config: ExperimentConfig, allowed=RESUMABLE) -> list[str]:
    """``["model.activation: relu -> elu", ...]`` for each field of ``config`` that differs from ``stored``
    (a ``config.json`` mapping) and is not in ``allowed``. Fields the stored file lacks (written before they
    existed) count as their defaults, which reproduce the behaviour of the code that wrote it."""
    new = _as_json(config)
    try:
        stored = _as_json(ExperimentConfig.from_dict(stored))
    except (TypeError, ValueError):
        pass  # a file this code cannot read as a config: compare it as it is
    out = []
    for section in sorted(set(stored) | set(new)):
        old_fields, new_fields = stored.get(section, {}), new.get(section, {})
        for name in sorted(set(old_fields) | set(new_fields)):
            key, old, value = f"{section}.{name}", old_fields.get(name), new_fields.get(name)
            if old != value and key not in allowed:
                out.append(f"{key}: {old!r} -> {value!r}".replace("'", ""))
    return out


def _as_json(config: ExperimentConfig) -> dict:
    return json.loads(json.dumps(config.to_dict()))  # tuples become lists, as in config.json


def check_config(run_dir, config: ExperimentConfig) -> None:
    """Raises ``RunFolderError`` when ``run_dir`` holds a run of a configuration that ``config`` may not
    resume (see ``RESUMABLE``). Reads only."""
    stored = stored_config(run_dir)
    if stored is None:
        return
    differences = config_differences(stored, config)
    if differences:
        raise RunFolderError(
            f"{run_dir} holds a run with another configuration ({'; '.join(differences)}); only "
            f"{', '.join(sorted(RESUMABLE))} may change on resume: use a new --out for this configuration")


def has_previous_run(run_dir) -> bool:
    path = pathlib.Path(run_dir)
    return any((path / name).exists() for name in (CONFIG_FILE, MODEL_FILE, CHECKPOINT_DIR))


def remove_stale_files(run_dir) -> list[str]:
    """Deletes what a crash in the middle of a write leaves behind; returns the removed paths.

    Call only while holding the folder's lock: a running run's temporary files look the same.
    """
    path = pathlib.Path(run_dir)
    stale = [*(path / CHECKPOINT_DIR).glob("*_temp"), *path.glob("*.tmp.keras"),
             *(path / CHECKPOINT_DIR).glob("*.tmp.keras"), *path.glob("*.json.tmp")]
    for item in stale:
        shutil.rmtree(item) if item.is_dir() and not item.is_symlink() else item.unlink()
    return [str(p) for p in stale]


@contextlib.contextmanager
def locked(run_dir):
    """Holds the exclusive lock of ``run_dir`` (created if needed) for the ``with`` block.

    Raises ``RunFolderError`` naming the holder when another process holds it.
    """
    path = pathlib.Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise RunFolderError(f"cannot use run folder {path}: {err.strerror or err}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise RunFolderError(f"run folder {path} is in use by another run (pid {holder}); wait for it to end "
                                 "or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the flock


@contextlib.contextmanager
def claim(run_dir, config: ExperimentConfig, resume: bool = True, chief: bool = True):
    """Checks, locks and cleans ``run_dir`` for a run of ``config``; the ``with`` block is the run.

    Every process checks the stored config (workers read the folder the chief writes); only the chief
    (``chief=True``) locks the folder and removes stale files, so other workers write nothing there.
    """
    path = check_writable(run_dir)
    check_config(path, config)
    if not chief:  # the chief may already have written the folder: --no-resume is its check alone
        yield path
        return
    with locked(path):
        # Under the lock: another run may have written the folder before we held it.
        check_config(path, config)
        if not resume and has_previous_run(path):
            raise FileExistsError(f"{path} holds a previous run and --no-resume will not mix a new one into it; "
                                  "use a new --out or delete the folder")
        remove_stale_files(path)
        yield path


__all__ = ["LOCK_FILE", "RESUMABLE", "RunFolderError", "check_config", "check_writable", "claim",
           "config_differences", "has_previous_run", "locked", "remove_stale_files"]
