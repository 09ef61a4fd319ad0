"""Peak resident memory (RSS) of a training run per preset, each run in a fresh subprocess.

    python -m benchmarks.memory --presets mnist svhn celeba --steps 20

The child imports TensorFlow, builds the preset's model, reads its data through the real input pipeline (the
sources of ``benchmarks.pipeline``: mnist.npz, procedural shapes, a JPEG folder) and runs ``model.fit`` for
``--steps`` steps; it then reports its own peak RSS, the kernel's high-water mark (``VmHWM``, so nothing
between samples is missed), and the RSS at three points on the way: right after importing
TensorFlow, Keras and vlae_tf (what any TensorFlow program pays before it builds a model), after building the
model, and after the pipeline's first batch (the data in memory and the shuffle buffer filled). With a GPU,
the device's own peak (``tf.config.experimental.get_memory_info``) is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import pipeline, workload  # noqa: E402
from vlae_tf import data, presets  # noqa: E402

MIB = 2 ** 20


def _rss_now() -> int:
    return psutil.Process().memory_info().rss


def _peak_rss() -> int:
    """This process's peak RSS in bytes.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this program's own address space.
    ``getrusage().ru_maxrss`` is not used there: it survives ``fork`` + ``exec``, so a child started by a
    large parent reports at least the parent's RSS at the time of the fork.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB elsewhere


def child(preset: str, overrides: dict, steps: int, precision: str) -> dict:
    """One training run in this process (the module's imports already paid); returns its memory figures."""
    after_import = _rss_now()
    config = presets.get(preset, **overrides)
    model = workload.build_model(config, precision)
    model.compile()
    after_model = _rss_now()
    train = data.build_dataset(config, "train").repeat()
    next(iter(train))
    after_data = _rss_now()
    model.fit(train, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    gpu = {}
    if tf.config.list_logical_devices("GPU"):  # the accelerator's own high-water mark, next to the host's
        gpu = {"gpu_peak_mib": tf.config.experimental.get_memory_info("GPU:0")["peak"] / MIB}
    return {**gpu, "preset": preset, "precision": precision, "steps": steps, "batch_size": config.data.batch_size,
            "dataset": config.data.dataset, "peak_rss_mib": _peak_rss() / MIB,
            "rss_after_import_mib": after_import / MIB, "rss_after_model_mib": after_model / MIB,
            "rss_after_first_batch_mib": after_data / MIB,
            "parameters": int(sum(v.numpy().size for v in model.trainable_variables))}


def run_child(preset: str, overrides: dict, steps: int, precision: str = "float32", timeout: float = 900) -> dict:
    """Runs :func:`child` in a fresh interpreter and returns what it reports (or the error it hit)."""
    command = [sys.executable, "-m", "benchmarks.memory", "--child", preset, "--steps", str(steps),
               "--precision", precision, "--overrides", json.dumps(overrides)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=root)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"preset": preset, "error": f"exit {done.returncode}: {tail[0][:300]}"}
    return json.loads(lines[-1])


def measure(presets_: list[str], steps: int, precision: str = "float32", quick: bool = False,
            repeats: int = 1) -> dict:
    """``{preset: {"peak_rss_mib", "rss_after_import_mib", ...}}`` over the pipeline sources of each preset.

    With ``repeats`` > 1 each preset runs that many times: ``peak_rss_mib`` is the highest peak (what a user
    must provision for), ``peak_rss_mib_runs`` lists them all.
    """
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        by_preset = {preset: overrides for preset, overrides in pipeline.sources(tmp, quick).values()}
        for preset in presets_:
            runs = [run_child(preset, by_preset.get(preset, {}), steps, precision) for _ in range(repeats)]
            good = [r for r in runs if "peak_rss_mib" in r]
            if not good:
                results[preset] = runs[0]
                continue
            results[preset] = {**max(good, key=lambda r: r["peak_rss_mib"]),
                               "peak_rss_mib_runs": [r["peak_rss_mib"] for r in good]}
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", nargs="+", default=["mnist", "svhn", "celeba"])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--precision", default="float32")
    p.add_argument("--repeats", type=int, default=1, help="runs per preset; the highest peak is reported")
    p.add_argument("--child", metavar="PRESET", help=argparse.SUPPRESS)
    p.add_argument("--overrides", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, json.loads(args.overrides), args.steps, args.precision)), flush=True)
        return None
    result = measure(args.presets, args.steps, args.precision, repeats=args.repeats)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
