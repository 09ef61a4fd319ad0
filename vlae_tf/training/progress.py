"""The custom loop's progress: step, loss and images per second.

On a terminal a ``keras.utils.Progbar`` redraws in place; it counts the steps of this process (``start`` to
``target``) so its ETA stays right on a resumed run, whose first step the trainer prints. In a log file (no
terminal) a plain line ``step 120/3000 - loss 512.3 - 481 images/s`` is printed every ``log_interval``
seconds and at the last step.
"""

from __future__ import annotations

import sys
import time

import keras


class Progress:
    """Progress over steps ``start``..``target``; silent when ``verbose`` is 0."""

    def __init__(self, start: int, target: int, verbose: int = 1, log_interval: float = 30.0):
        self.start, self.target, self.log_interval = start, target, log_interval
        self.enabled = bool(verbose) and target > start
        self._bar = None
        self._last_line = time.monotonic()
        if self.enabled and getattr(sys.stdout, "isatty", lambda: False)():
            self._bar = keras.utils.Progbar(target - start, stateful_metrics=["loss", "images/s"], unit_name="step")

    def update(self, step: int, loss: float, images_per_second: float | None = None) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            values = [("loss", loss)] + ([("images/s", images_per_second)] if images_per_second else [])
            self._bar.update(step - self.start, values=values)
            return
        now = time.monotonic()
        if step >= self.target or now - self._last_line >= self.log_interval:
            speed = f" - {images_per_second:.0f} images/s" if images_per_second else ""
            print(f"step {step}/{self.target} - loss {loss:.4g}{speed}", flush=True)
            self._last_line = now


__all__ = ["Progress"]
