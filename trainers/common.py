"""What every command-line entry point shares: quiet TensorFlow start-up and clean error exits."""

from __future__ import annotations

import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Errors a user can fix (bad config, missing data): one line on stderr, exit status 2, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError)


@contextlib.contextmanager
def quiet_stderr():
    """Hides the CUDA-stub lines the full tensorflow wheel prints to stderr on first import."""
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow():
    with quiet_stderr():
        import tensorflow  # noqa: F401


def run_cli(main_fn, argv=None) -> int:
    """Runs ``main_fn(argv)``; user errors become ``error: ...`` and exit status 2."""
    from vlae_tf.data import DatasetUnavailableError

    try:
        return main_fn(argv) or 0
    except (*USER_ERRORS, DatasetUnavailableError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
