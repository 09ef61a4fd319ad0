"""Per-rung label-probe accuracy over training: every kept checkpoint of one or more run folders.

Which rung reads the class best, and when it learns to: for each ``checkpoints/ckpt-<step>`` of each run,
a logistic and a k-NN probe per rung are fitted on the codes of training images and scored on the test
split (``vlae_tf.evaluation.probes.probe_per_rung``, the probes ``vlae-eval`` reports). Train the runs
with every checkpoint kept, e.g. (the MNIST curves in docs/comparison.md)::

    vlae-train --preset mnist --dataset npz --data-dir ../shared/datasets/mnist.npz --precision auto \\
      --steps 10000 --seed 0 --out runs/mnist_s0 \\
      --set train.checkpoint_every=1000 --set train.keep_checkpoints=100   # pro-VLAE's order (the preset's)
    vlae-train ... --out runs/mnist_vlae_s0 --set model.progressive_steps=None   # every rung from step 0
    python -m benchmarks.probe_curve runs/mnist_vlae_s0 runs/mnist_s0 --out runs/mnist_probe_curve

writes ``<out>.json`` (every point) and ``<out>.png`` (logistic accuracy per rung against the step, one
panel per run). A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vlae_tf import data, run_dir  # noqa: E402
from vlae_tf.evaluation import model_metrics, probes  # noqa: E402
from vlae_tf.io.run_model import load_model  # noqa: E402

_CKPT = re.compile(r"^ckpt-(\d+)\.index$")


def checkpoint_steps(run) -> list[tuple[int, str]]:
    """(step, checkpoint prefix) of every checkpoint kept in ``run/checkpoints``, oldest first."""
    folder = pathlib.Path(run) / "checkpoints"
    found = [(int(m.group(1)), str(folder / f"ckpt-{m.group(1)}"))
             for m in (_CKPT.match(p.name) for p in folder.glob("ckpt-*.index")) if m]
    return sorted(found)


def curve(run, probe_train_examples: int = 10000, test_examples: int | None = None) -> list[dict]:
    """One ``{step, logistic: [per rung], knn: [per rung], chance}`` per kept checkpoint of ``run``."""
    kept = checkpoint_steps(run)
    if not kept:
        raise SystemExit(f"{run} holds no checkpoints/ckpt-<step>; train it with train.keep_checkpoints high "
                         "enough to keep them")
    config = run_dir.load_config(run)
    train_images, train_targets = data.load_arrays(config, "train", probe_train_examples, binarize=True)
    test_images, test_targets = data.load_arrays(config, "test", test_examples, binarize=True)
    points = []
    for step, prefix in kept:
        model = load_model(run, prefix)
        train_means, _ = model_metrics.posterior_codes(model, train_images)
        test_means, _ = model_metrics.posterior_codes(model, test_images)
        per_rung = probes.probe_per_rung(train_means, train_targets["labels"], test_means, test_targets["labels"])
        point = {"step": step, "logistic": [r["logistic"] for r in per_rung], "knn": [r["knn"] for r in per_rung],
                 "chance": per_rung[0]["chance"]}
        print(f"{run} step {step}: logistic per rung " + " ".join(f"{a:.3f}" for a in point["logistic"])
              + "  k-NN " + " ".join(f"{a:.3f}" for a in point["knn"]), flush=True)
        points.append(point)
    return points


def plot(curves: dict, path) -> None:
    """One panel per run: logistic probe accuracy per rung against the training step."""
    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.6), squeeze=False, sharey=True)
    for ax, (run, points) in zip(axes[0], curves.items()):
        steps = [p["step"] for p in points]
        for rung in range(len(points[0]["logistic"])):
            ax.plot(steps, [p["logistic"][rung] for p in points], marker="o", label=f"rung {rung + 1}")
        ax.axhline(points[0]["chance"], color="grey", linestyle=":", label="chance")
        ax.set_title(pathlib.Path(run).name)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("logistic probe accuracy (test)")
    axes[0][-1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders whose kept checkpoints are probed")
    parser.add_argument("--out", required=True, help="writes OUT.json and OUT.png")
    parser.add_argument("--probe-train-examples", type=int, default=10000)
    args = parser.parse_args(argv)
    curves = {run: curve(run, args.probe_train_examples) for run in args.runs}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(curves, indent=1))
    plot(curves, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
