"""How the cost of a training step grows with the work: batch size doubling, rungs added.

    python -m benchmarks.scaling --batch-sizes 32 64 128 256 512 --rungs 2 3 4 5 6

- Batch: the ``mnist`` preset at batch 32 .. 512. FLOPs grow linearly; a step time that grows more slowly
  means fixed per-step costs (dispatch, small ops, the optimizer update) are being amortised.
- Rungs: the ``svhn`` preset's 32x32x3 ladder with 2 .. 6 rungs (rungs 1..L-1 convolutional with
  ``RUNG_CHANNELS`` filters, each halving the resolution, rung L dense; 5 latent dims per rung) at batch 100.
  The bottom rungs work at the highest resolution, so each added rung costs less than the one before.

Every point is the custom loop's step function (the ``custom`` path of ``benchmarks.throughput``), best of
``rounds``, with its FLOPs (``benchmarks.flops``) and the fraction of the float32 matmul rate it reaches.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from benchmarks import flops, machine, throughput, workload  # noqa: E402
from vlae_tf import presets  # noqa: E402

BATCH_SIZES = (32, 64, 128, 256, 512)
RUNGS = (2, 3, 4, 5, 6)
RUNG_CHANNELS = (64, 128, 256, 256, 256)
RUNG_PRESET = "svhn"


def rung_overrides(rungs: int) -> dict:
    """Dotted overrides of the ``svhn`` preset for a ladder of ``rungs`` rungs."""
    if not 2 <= rungs <= len(RUNG_CHANNELS) + 1:
        raise ValueError(f"rungs={rungs} is not valid; a 32x32 image takes 2 .. {len(RUNG_CHANNELS) + 1} rungs")
    return {"model.latent_dims": (5,) * rungs, "model.conv_channels": RUNG_CHANNELS[:rungs - 1]}


def time_step(config, precision: str, jit, rounds: int, seconds: float, steps: int | None) -> float:
    """Best seconds per training step of ``config`` (the custom loop's step function)."""
    run = throughput.custom_path(config, precision, workload.fixed_batches(config), workload.resolve_jit(jit))
    run(2)  # trace and warm up
    n = steps or throughput.steps_for(run(2) / 2, seconds)
    return min(run(n) / n for _ in range(rounds))


def _point(config, precision, jit, rounds, seconds, steps, rate) -> dict:
    start = time.perf_counter()
    best = time_step(config, precision, jit, rounds, seconds, steps)
    counted = flops.count(workload.build_model(config), config.data.batch_size)["train_step"]
    workload.release()
    return {"batch_size": config.data.batch_size, "rungs": config.model.num_rungs, "step_ms": 1e3 * best,
            "images_per_s": config.data.batch_size / best, "train_step_gflop": counted / 1e9,
            "fraction_of_matmul": counted / best / rate, "wall_s": time.perf_counter() - start}


def measure(batch_sizes=BATCH_SIZES, rungs=RUNGS, precision: str = "float32", jit="auto", rounds: int = 2,
            seconds: float = 2.0, steps: int | None = None) -> dict:
    """``{"batch": [...], "rungs": [...]}``: one row per point with ``step_ms`` and its ratios to the first."""
    rate = machine.matmul_rate(workload.COMPUTE_DTYPE[precision])
    out = {"path": "custom", "precision": precision, "jit_compile": workload.resolve_jit(jit),
           "matmul_gflops": rate / 1e9,
           "batch": [], "rungs": []}
    for batch in batch_sizes:
        config = presets.get("mnist", **{"data.batch_size": batch})
        out["batch"].append(_point(config, precision, jit, rounds, seconds, steps, rate))
    for count in rungs:
        config = presets.get(RUNG_PRESET, **rung_overrides(count))
        out["rungs"].append(_point(config, precision, jit, rounds, seconds, steps, rate))
    for rows in (out["batch"], out["rungs"]):
        for row in rows:
            row["step_time_vs_first"] = row["step_ms"] / rows[0]["step_ms"]
            row["flops_vs_first"] = row["train_step_gflop"] / rows[0]["train_step_gflop"]
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=int, nargs="*", default=list(BATCH_SIZES))
    p.add_argument("--rungs", type=int, nargs="*", default=list(RUNGS))
    p.add_argument("--precision", default="float32", choices=sorted(workload.COMPUTE_DTYPE))
    p.add_argument("--jit", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--steps", type=int)
    args = p.parse_args(argv)
    result = measure(args.batch_sizes, args.rungs, args.precision, args.jit, args.rounds, args.seconds, args.steps)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
