"""Stopping a long run cleanly: SIGTERM (schedulers, preemption) and SIGINT (Ctrl-C) become a request that
the loop honours after the current step, once a checkpoint is written. A second signal interrupts at once.
"""

from __future__ import annotations

import signal
import threading

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class TrainingInterrupted(Exception):
    """The run stopped on a signal after saving ``checkpoint`` at ``step``; ``exit_code`` is 128 + signal."""

    def __init__(self, signum: int, step: int, checkpoint: str | None):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name if signum else "a stop request"
        where = f"checkpoint {checkpoint}" if checkpoint else "a checkpoint (written by the chief)"
        super().__init__(f"stopped by {name} at step {step}; {where} holds the state, run again to resume")


class DivergenceError(RuntimeError):
    """Too many consecutive steps had a non-finite loss; the newest checkpoint predates them."""


class StopRequests:
    """``with StopRequests() as stop:`` ... ``stop.signum`` is the first signal received (None before).

    Handlers are installed only in the main thread (Python allows no other) and restored on exit.
    """

    def __init__(self, signals=SIGNALS):
        self.signals = signals
        self.signum = None
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signum is not None:  # a second signal: the user does not want to wait for the step
            self.__exit__(None, None, None)
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name} while stopping")
        self.signum = signum

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}
        return False


__all__ = ["DivergenceError", "StopRequests", "TrainingInterrupted"]
