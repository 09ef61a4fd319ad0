"""The end of ``make demo``: for each ground-truth factor of ``shapes``, the rung that captured it."""

from __future__ import annotations


def print_report(config, out) -> None:
    try:
        from vlae_tf.evaluation import report
    except ImportError:
        return
    report.print_factor_rungs(config, out)
