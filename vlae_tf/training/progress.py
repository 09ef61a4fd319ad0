"""The custom loop's progress bar: step, loss and images per second (``keras.utils.Progbar``)."""

from __future__ import annotations

import sys

import keras


class Progress:
    """A bar over the steps of this session (``start`` to ``target``); silent when ``verbose`` is 0.

    On a terminal the bar redraws in place; in a log file it prints a line every ``log_interval`` seconds.
    """

    def __init__(self, start: int, target: int, verbose: int = 1, log_interval: float = 30.0):
        self.start, self.target = start, target
        interactive = getattr(sys.stdout, "isatty", lambda: False)()
        self._bar = None
        if verbose and target > start:
            self._bar = keras.utils.Progbar(target - start, verbose=1, interval=0.1 if interactive else log_interval,
                                            stateful_metrics=["step", "loss", "images/s"], unit_name="step")

    def update(self, step: int, loss: float, images_per_second: float | None = None) -> None:
        if self._bar is None:
            return
        # Stateful values are shown as given: strings keep the step an integer and the loss readable.
        values = [("step", f"{step}/{self.target}"), ("loss", f"{loss:.4g}")]
        if images_per_second:
            values.append(("images/s", f"{images_per_second:.0f}"))
        self._bar.update(step - self.start, values=values)


__all__ = ["Progress"]
