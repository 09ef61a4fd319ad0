"""The benchmark suite: writes ``benchmarks/results/<machine>-<date>.json`` and prints a table.

    make bench                                  # the full suite (about 20 minutes on 2 CPU cores)
    python -m benchmarks.run --quick            # about 2 minutes: mnist only, fewer points and rounds
    python -m benchmarks.run --sections training scaling --presets mnist --precisions float32
    python -m benchmarks.run --sections memory --merge         # re-measure one section into today's file
    python -m benchmarks.report benchmarks/results/<file>.json      # the table of an earlier run again

Sections (``--sections``; all by default):

- ``machine``: the device (GPU name when one is present), CPU, versions, threading settings, load average;
  the matmul rate of every compute dtype used.
- ``training``: images/s of ``model.fit`` and of the custom loop's step function for each preset and
  precision (``benchmarks.throughput``), with the fraction of the matmul rate reached.
- ``pipeline``: the input pipeline alone per data source (``benchmarks.pipeline``).
- ``memory``: peak resident memory of a short ``model.fit`` run per preset (``benchmarks.memory``).
- ``scaling``: step time against batch size and rung count (``benchmarks.scaling``).
- ``serving``: ``serving_default`` of the exported SavedModel against the Keras model (``benchmarks.serving``).

Settings that TensorFlow reads once at start-up are varied by running the suite under them, each run into
its own file, e.g. ``TF_NUM_INTEROP_THREADS=1 python -m benchmarks.run --sections machine training --presets
mnist --out /tmp/inter_op_1.json``; the results file records them (``machine.settings``). ``--jit on``
and ``--precisions mixed_bfloat16`` vary the step itself within one run.

The same command runs on a GPU machine: ``mixed_float16`` is added to the precisions, XLA is used where
``model.fit`` would use it, and the results file is named after the GPU. Ratios inside one run are the
figures to read on a shared machine; the load average before and after each section is recorded with it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from benchmarks import machine, memory, pipeline, report, scaling, serving, throughput, workload  # noqa: E402

SECTIONS = ("machine", "training", "pipeline", "memory", "scaling", "serving")
PRESETS = ("mnist", "svhn", "celeba")
RESULTS_DIR = pathlib.Path(__file__).resolve().parent / "results"

# (full, quick) settings; --steps N replaces every time budget by N steps.
FULL = {"presets": PRESETS, "rounds": 3, "seconds": 3.0, "batch_sizes": (32, 64, 128, 256, 512),
        "rungs": (2, 3, 4, 5, 6), "scaling_rounds": 2, "scaling_seconds": 2.0, "memory_steps": 20, "memory_repeats": 2,
        "pipeline_batches": 100, "serving": {"rounds": 3, "calls": 100, "seconds": 2.0}}
QUICK = {"presets": ("mnist",), "rounds": 2, "seconds": 1.0, "batch_sizes": (32, 128), "rungs": (2, 4),
         "scaling_rounds": 1, "scaling_seconds": 1.0, "memory_steps": 5, "memory_repeats": 1,
         "pipeline_batches": 20,
         "serving": {"rounds": 1, "calls": 20, "seconds": 0.5}}


def default_precisions() -> list[str]:
    gpu = bool(tf.config.list_physical_devices("GPU"))
    return ["float32", "mixed_bfloat16"] + (["mixed_float16"] if gpu else [])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the 2-minute version")
    p.add_argument("--steps", type=int, help="fixed steps per timing instead of time budgets (smoke tests)")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    p.add_argument("--presets", nargs="+", help="training presets (default: mnist svhn celeba; quick: mnist)")
    p.add_argument("--precisions", nargs="+", help="default: float32 mixed_bfloat16 (+ mixed_float16 on GPU)")
    p.add_argument("--paths", nargs="+", default=list(throughput.PATHS), choices=throughput.PATHS)
    p.add_argument("--memory-presets", nargs="+", help="default: the training presets")
    p.add_argument("--batch-sizes", type=int, nargs="*", help="scaling: mnist batch sizes")
    p.add_argument("--rungs", type=int, nargs="*", help="scaling: rung counts")
    p.add_argument("--rounds", type=int, help="training rounds per path (best counts)")
    p.add_argument("--jit", default="auto", choices=["auto", "on", "off"],
                   help="XLA for every training path; auto: as model.fit (on with a GPU)")
    p.add_argument("--out", help="results file (default: benchmarks/results/<machine>-<date>.json)")
    p.add_argument("--merge", action="store_true",
                   help="re-measure only --sections and merge them into an existing results file")
    p.add_argument("--no-table", action="store_true")
    return p.parse_args(argv)


def _section(results: dict, name: str, fn, *args, **kwargs):
    """Runs one measurement; an exception is recorded in place of its result instead of ending the suite.

    The load average before and after goes into ``section_load``: the conditions each figure was taken in.
    """
    start, load = time.perf_counter(), os.getloadavg()[0]
    try:
        value = fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - one failing section must not lose the others' figures
        traceback.print_exc()
        value = {"error": f"{type(error).__name__}: {error}"[:500]}
    results.setdefault("section_seconds", {})[name] = round(time.perf_counter() - start, 1)
    results.setdefault("section_load", {})[name] = [round(load, 2), round(os.getloadavg()[0], 2)]
    return value


def _write(results: dict, path: pathlib.Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)


def _start(args: argparse.Namespace, argv: list[str]) -> tuple[dict, pathlib.Path]:
    """The results dict to fill (with ``--merge``, the existing file's) and where it goes."""
    info = machine.describe()
    stamp = datetime.datetime.now()
    path = pathlib.Path(args.out) if args.out else RESULTS_DIR / f"{machine.slug(info)}-{stamp:%Y-%m-%d}.json"
    run_info = {"command": " ".join(["python -m benchmarks.run", *argv]), "started": stamp.isoformat("T", "seconds"),
                "sections": list(args.sections), "load_average_start": list(os.getloadavg())}
    if args.merge and path.exists():
        results = json.loads(path.read_text())
        results.pop("targets", None)  # derived figures: report.targets recomputes them from the merged file
        results.setdefault("runs", []).append(run_info)
        return results, path
    return {**run_info, "quick": args.quick, "steps": args.steps, "machine": info, "runs": [run_info]}, path


def run(args: argparse.Namespace, argv: list[str] | None = None) -> tuple[dict, pathlib.Path]:
    """Measures ``args.sections`` into the results dict, written after each section; returns it and its path."""
    s = QUICK if args.quick else FULL
    steps = args.steps
    presets = args.presets or list(s["presets"])
    precisions = args.precisions or default_precisions()
    results, path = _start(args, sys.argv[1:] if argv is None else list(argv))
    if "machine" in args.sections:
        dtypes = sorted({workload.COMPUTE_DTYPE[p] for p in precisions})
        results.setdefault("matmul_gflops", {}).update({d: machine.matmul_rate(d) / 1e9 for d in dtypes})
    if "training" in args.sections:
        entries = results.get("training", []) if args.merge else []
        for preset in presets:
            for precision in precisions:
                entry = _section(results, f"training/{preset}/{precision}", throughput.measure, preset, precision,
                                 args.paths, args.rounds or s["rounds"], s["seconds"], steps, args.jit)
                entry = {"preset": preset, "precision": precision, **entry}
                entries = [e for e in entries if (e["preset"], e["precision"]) != (preset, precision)] + [entry]
                results["training"] = entries
                _write(results, path)
    if "pipeline" in args.sections:
        results["pipeline"] = _section(results, "pipeline", pipeline.measure, args.quick,
                                       steps * 5 if steps else s["pipeline_batches"])
        _write(results, path)
    if "memory" in args.sections:
        results["memory"] = _section(results, "memory", memory.measure, args.memory_presets or presets,
                                     steps or s["memory_steps"], "float32", args.quick,
                                     1 if steps else s["memory_repeats"])
        _write(results, path)
    if "scaling" in args.sections:
        batch_sizes = s["batch_sizes"] if args.batch_sizes is None else args.batch_sizes
        rungs = s["rungs"] if args.rungs is None else args.rungs
        results["scaling"] = _section(results, "scaling", scaling.measure, batch_sizes, rungs, "float32", args.jit,
                                      s["scaling_rounds"], s["scaling_seconds"], steps)
        _write(results, path)
    if "serving" in args.sections:
        settings = s["serving"]
        results["serving"] = _section(results, "serving", serving.measure_preset, "mnist", settings["rounds"],
                                      steps * 5 if steps else settings["calls"],
                                      0.2 if steps else settings["seconds"])
    results["load_average_end"] = list(os.getloadavg())
    _write(results, path)
    return results, path


def main(argv=None):
    args = parse_args(argv)
    results, path = run(args, argv)
    if not args.no_table:
        print(report.table(results))
    print(f"\nresults written to {path}")
    return results


if __name__ == "__main__":
    main()
