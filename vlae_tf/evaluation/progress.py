"""Progress of evaluation jobs that run for minutes (vlae-eval, vlae-compare): a line per stage, a count per batch.

``Stages(enabled=True).start("IWAE bound, K=1000")`` prints ``eval: IWAE bound, K=1000`` (and how long the
previous stage took); ``stages.counter(500, "image")`` returns an ``update(n)`` to call after each batch of
n images. Lines go to stderr, so stdout holds only the results (vlae-eval's report). On a terminal the
counter is a ``keras.utils.Progbar`` redrawn in place; in a log file it is a plain ``  200/500 images, 12 s``
line per update, as Keras' bar would write escape codes there. Everything is silent when ``enabled`` is
false, the library's default, so tests and notebooks stay quiet unless they ask.
"""

from __future__ import annotations

import sys
import time

import keras


def _on_terminal() -> bool:
    return getattr(sys.stdout, "isatty", lambda: False)()  # where keras.utils.Progbar draws


class Stages:
    """Stage lines ``<prefix>: <text>`` on stderr, and per-batch counters within a stage."""

    def __init__(self, enabled: bool = False, prefix: str = "eval"):
        self.enabled, self.prefix = bool(enabled), prefix
        self._started = None

    def start(self, text: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        took = f" ({now - self._started:.0f} s for the previous stage)" if self._started is not None else ""
        print(f"{self.prefix}: {text}{took}", file=sys.stderr, flush=True)
        self._started = now

    def counter(self, total: int, unit: str):
        """``update(n)`` to call after each batch of ``n`` units, or ``None`` when disabled."""
        if not self.enabled or total <= 0:
            return None
        done, start = [0], time.monotonic()
        bar = keras.utils.Progbar(total, unit_name=unit) if _on_terminal() else None

        def update(n: int) -> None:
            done[0] += int(n)
            if bar is not None:
                bar.update(done[0])
            else:
                print(f"  {done[0]}/{total} {unit}s, {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)

        return update


__all__ = ["Stages"]
