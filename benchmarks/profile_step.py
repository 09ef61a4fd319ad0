"""Where a training step's time goes, by TensorFlow op type, from the profiler's trace.

    python -m benchmarks.profile_step --preset mnist --steps 5
    python -m benchmarks.profile_step --preset mnist --precision mixed_bfloat16 --inter-op 1
    python -m benchmarks.profile_step --preset mnist --ablate       # forward / gradients / update, side by side

Runs the hand-written step of ``benchmarks.throughput`` under ``tf.profiler`` and sums, over every op executed
on the host's compute threads, the time per op type (``Conv2DBackpropFilter``, ``MatMul``, ``Mul``, ...):
what the convolutions and matrix multiplies take (the work ``benchmarks.flops`` counts) against everything
else (elementwise and small ops, the optimizer's update, copies). With two inter-op threads, two ops can run
at once, so the sum can exceed the wall time; ``--inter-op 1`` serialises them. Under load, per-op times
also absorb waiting for the shared thread pool; ``--ablate`` is the steadier view: the step cut short after
the forward pass, after the gradients, and whole (with Keras' Adam and with a fused Adam kernel), timed in
interleaved rounds in one process, so the differences are what each part costs.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

MATMUL_LIKE = ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "MatMul", "BatchMatMul", "Einsum", "Dot",
               "Convolution", "FusedConv2D", "Conv2DBackpropFilterWithBias", "_MklMatMul", "MklNative", "convolution",
               "dot", "custom-call")


def _op_type(name: str) -> str:
    """``scope/op_name:OpType`` -> ``OpType`` without oneDNN's ``_MklNative`` / ``_Mkl`` prefixes."""
    kind = name.rsplit(":", 1)[-1] if ":" in name else name
    for prefix in ("_MklNative", "_Mkl"):
        if kind.startswith(prefix):
            kind = kind[len(prefix):]
    return kind


def summarize(logdir: str) -> dict:
    """``{"ops_ms": {type: ms}, "counts": {type: n}}`` over the host compute threads of the newest trace."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    files = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True), key=os.path.getmtime)
    space = xplane_pb2.XSpace()
    with open(files[-1], "rb") as f:
        space.ParseFromString(f.read())
    times, counts = collections.Counter(), collections.Counter()
    for plane in space.planes:
        metadata = plane.event_metadata
        for line in plane.lines:
            if not (line.name.startswith("tf_Compute") or line.name.startswith("tf_XLA")
                    or "Eigen" in line.name or line.name.startswith("tf_inter")):
                continue
            for event in line.events:
                name = metadata[event.metadata_id].name
                if name.startswith(("ExecutorState::Process", "ThreadpoolListener")):
                    continue
                kind = _op_type(name)
                times[kind] += event.duration_ps / 1e9
                counts[kind] += 1
    return {"ops_ms": dict(times), "counts": dict(counts)}


def profile(preset: str, precision: str, steps: int, jit: bool, batch_size: int | None = None) -> dict:
    from benchmarks import flops, throughput
    from vlae_tf import presets

    config = presets.get(preset, **({"data.batch_size": batch_size} if batch_size else {}))
    run = throughput.handwritten_path(config, precision, throughput.fixed_batches(config), jit)
    run(3)
    wall = run(steps) / steps
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        run(steps)
        profiled = (time.perf_counter() - start) / steps
        tf.profiler.experimental.stop()
        summary = summarize(logdir)
    per_step = {k: v / steps for k, v in summary["ops_ms"].items()}
    heavy = sum(v for k, v in per_step.items() if any(m.lower() in k.lower() for m in MATMUL_LIKE))
    total = sum(per_step.values())
    counted = flops.count(throughput._build_model(config, "float32"), config.data.batch_size)["train_step"]
    return {"preset": preset, "precision": precision, "jit_compile": jit, "step_ms": 1e3 * wall,
            "profiled_step_ms": 1e3 * profiled, "op_ms_per_step": total, "matmul_like_ms_per_step": heavy,
            "other_ms_per_step": total - heavy, "ops_per_step": sum(summary["counts"].values()) / steps,
            "train_step_gflop": counted / 1e9, "achieved_gflops": counted / wall / 1e9,
            "top_ops_ms": dict(sorted(per_step.items(), key=lambda kv: -kv[1])[:25])}


def ablate(preset: str, precision: str, rounds: int = 6, steps: int = 4) -> dict:
    """Best ms per step of: ``forward`` (loss only), ``gradients`` (no optimizer update), ``full`` (Keras' Adam),
    ``full_fused_adam`` (``ResourceApplyAdam``, see ``benchmarks.mfu_study.fused_adam``)."""
    import keras

    from benchmarks import mfu_study, throughput
    from vlae_tf import presets
    from vlae_tf.training import precision as mixed

    config = presets.get(preset)
    images = tf.constant(throughput.fixed_batches(config, count=1)[0])

    def make(kind):
        model = throughput._build_model(config, precision)
        optimizer = mixed.build_optimizer(config, precision, (lambda: mfu_study.fused_adam(
            config.train.learning_rate)) if kind == "full_fused_adam" else None)
        optimizer.build(model.trainable_variables)

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model.compute_terms(x, training=True, step=optimizer.iterations)["loss"])
            if kind == "forward":
                return loss
            grads = tape.gradient(loss, model.trainable_variables)
            if kind == "gradients":  # keep every gradient alive without an update
                return loss + tf.add_n([tf.reduce_sum(g[:1]) for g in grads])
            optimizer.apply(grads, model.trainable_variables)
            return loss

        return step

    kinds = ("forward", "gradients", "full", "full_fused_adam")
    fns = {k: make(k) for k in kinds}
    for fn in fns.values():
        fn(images).numpy()
        fn(images).numpy()
    best = {k: float("inf") for k in kinds}
    for _ in range(rounds):
        for kind, fn in fns.items():
            start = time.perf_counter()
            for _ in range(steps):
                loss = fn(images)
            loss.numpy()
            best[kind] = min(best[kind], (time.perf_counter() - start) / steps)
    keras.backend.clear_session()
    return {"preset": preset, "precision": precision, "best_ms": {k: 1e3 * v for k, v in best.items()},
            "optimizer_update_share": (best["full"] - best["gradients"]) / best["full"],
            "fused_adam_speedup": best["full"] / best["full_fused_adam"]}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist")
    p.add_argument("--precision", default="float32")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--jit", action="store_true")
    p.add_argument("--ablate", action="store_true", help="time forward / gradients / full steps instead")
    p.add_argument("--inter-op", type=int, help="tf.config.threading inter-op threads (default: TensorFlow's)")
    p.add_argument("--intra-op", type=int, help="tf.config.threading intra-op threads (default: TensorFlow's)")
    args = p.parse_args(argv)
    if args.inter_op:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    if args.intra_op:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op)
    if args.ablate:
        result = ablate(args.preset, args.precision)
    else:
        result = profile(args.preset, args.precision, args.steps, args.jit, args.batch_size)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
