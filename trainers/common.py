"""What every command-line entry point shares: quiet TensorFlow start-up and clean error exits.

Nothing here imports TensorFlow or ``vlae_tf`` (whose package imports TensorFlow), so that ``--help`` and
argument errors answer at once: an entry point parses its arguments first and imports the library after.
"""

from __future__ import annotations

import contextlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Errors a user can fix (bad config, missing data, a busy or mismatched run folder): one line on stderr,
# exit status 2, no traceback.
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError)

# The library's own user errors, by module: (module, class name). They are looked up only in modules already
# imported, since an error of a module never imported cannot have been raised; so run_cli imports nothing.
LIBRARY_ERRORS = (
    ("vlae_tf.data.tfds_source", "DatasetUnavailableError"),
    ("vlae_tf.training.interrupts", "DivergenceError"),
    ("vlae_tf.training.checkpoints", "UnreadableCheckpoints"),
)


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
    # absl holds TensorFlow's start-up lines until its logging initialises, at the first op: run one while
    # stderr is hidden, or they appear later.
    with quiet_stderr():
        import tensorflow

        tensorflow.constant(0.0) + 1.0


def user_errors() -> tuple:
    loaded = [getattr(sys.modules[module], name, None) for module, name in LIBRARY_ERRORS if module in sys.modules]
    return USER_ERRORS + tuple(cls for cls in loaded if cls is not None)


def run_cli(main_fn, argv=None) -> int:
    """Runs ``main_fn(argv)``; user errors become one line ``error: ...`` and exit status 2."""
    try:
        return main_fn(argv) or 0
    except user_errors() as err:
        print(f"error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
