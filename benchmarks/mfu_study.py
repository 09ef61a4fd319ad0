"""What stands between the ``mnist`` training step and the machine's matrix-multiply rate: settings tried one
by one, each in its own process (threading, oneDNN and XLA flags are fixed when TensorFlow starts).

    python -m benchmarks.mfu_study                                  # every variant, mnist, hand-written step
    python -m benchmarks.mfu_study --variants xla inter_op_1 --path fit --rounds 5

On a shared machine consecutive runs are not comparable, so the variants run side by side: one long-lived
process per variant (the baseline plus ``--group`` others at a time), each built and traced once, then
driven in interleaved rounds: every process runs ``--seconds`` of steps in turn, and the best round counts.
Each process also times a large matmul in its compute dtype within the rounds. Reported per variant:

- ``fraction_of_matmul``: the step's FLOPs (``benchmarks.flops``) per second over the best matmul rate of
  that dtype measured by any process of the group (the machine's limit, as the default settings reach it);
- ``speedup_vs_baseline``: the baseline's best step time over this variant's, from the same rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

# name -> (environment, settings of the step, what it tries)
VARIANTS = {
    "baseline": ({}, {}, "as shipped: no XLA on CPU (model.fit's default), TensorFlow's default threads"),
    "xla": ({}, {"jit": "on"}, "jit_compile=True: XLA compiles the whole step and fuses the small ops"),
    "xla_onednn": ({"XLA_FLAGS": "--xla_cpu_use_onednn=true"}, {"jit": "on"},
                   "XLA with its oneDNN kernels for convolutions and matmuls"),
    "inter_op_1": ({"TF_NUM_INTEROP_THREADS": "1"}, {}, "one op at a time, each on every core"),
    "intra_op_1": ({"TF_NUM_INTRAOP_THREADS": "1"}, {}, "each op on one core, two ops at once"),
    "onednn_caller_thread": ({"TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD": "1"}, {},
                             "oneDNN runs one of its threads on the calling thread"),
    "no_onednn": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {}, "Eigen kernels instead of oneDNN"),
    "batch_200": ({}, {"batch_size": 200}, "twice the batch: fixed per-step costs amortised"),
    "fused_adam": ({}, {"optimizer": "fused_adam"}, "Adam's update as one fused kernel per variable "
                                                     "(tf.raw_ops.ResourceApplyAdam, same arithmetic)"),
    "bfloat16": ({}, {"precision": "mixed_bfloat16"}, "mixed_bfloat16 (fraction of the bfloat16 matmul rate)"),
}


def fused_adam(learning_rate: float):
    """Keras' Adam with its update done by TensorFlow's fused ``ResourceApplyAdam`` kernel: the same formula
    (``m += (1 - b1)(g - m)``, ``v += (1 - b2)(g^2 - v)``, ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)``)
    in one pass over memory instead of about ten elementwise ops. One device only (no strategy)."""
    import keras
    import tensorflow as tf

    class FusedAdam(keras.optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            index = self._get_variable_index(variable)
            m, v = self._momentums[index].value, self._velocities[index].value
            dtype = variable.dtype
            step = tf.cast(self.iterations + 1, dtype)
            tf.raw_ops.ResourceApplyAdam(
                var=variable.handle, m=m.handle, v=v.handle,
                beta1_power=tf.pow(tf.cast(self.beta_1, dtype), step),
                beta2_power=tf.pow(tf.cast(self.beta_2, dtype), step), lr=tf.cast(learning_rate, dtype),
                beta1=tf.cast(self.beta_1, dtype), beta2=tf.cast(self.beta_2, dtype),
                epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype))

    return FusedAdam(learning_rate)


def child(preset: str, path: str, settings: dict) -> None:
    """Builds one path, then answers ``steps N`` / ``matmul`` / ``quit`` lines on stdin with JSON lines."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from benchmarks import flops, machine, throughput
    from vlae_tf import presets

    precision = settings.get("precision", "float32")
    overrides = {"data.batch_size": settings["batch_size"]} if "batch_size" in settings else {}
    config = presets.get(preset, **overrides)
    jit = throughput.resolve_jit(settings.get("jit", "auto"))
    images = throughput.fixed_batches(config)
    if settings.get("optimizer") == "fused_adam":
        if path != "handwritten":
            raise ValueError("the fused_adam variant replaces the hand-written step's optimizer only")
        run = throughput.handwritten_path(config, precision, images, jit,
                                          lambda: fused_adam(config.train.learning_rate))
    else:
        run = throughput.BUILDERS[path](config, precision, images, jit)
    run(2)
    counted = flops.count(throughput._build_model(config, "float32"), config.data.batch_size)["train_step"]
    dtype = throughput.COMPUTE_DTYPE[precision]
    print(json.dumps({"ready": True, "probe_s": run(2) / 2, "train_step_flops": counted, "dtype": dtype,
                      "batch_size": config.data.batch_size, "jit_compile": jit}), flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "steps":
            n = int(command[1])
            print(json.dumps({"step_s": run(n) / n}), flush=True)
        elif command[0] == "matmul":
            print(json.dumps({"flops": machine.matmul_rate(dtype, repeats=2, min_seconds=0.25)}), flush=True)
        else:
            return


class _Process:
    def __init__(self, name: str, preset: str, path: str):
        env_extra, settings, self.what = VARIANTS[name]
        self.name = name
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env_extra}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        command = [sys.executable, "-m", "benchmarks.mfu_study", "--child", name, "--preset", preset,
                   "--path", path]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env, cwd=root)
        self.info = self._read()
        self.steps, self.rates = [], []

    def _read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"variant {self.name} exited (status {self.proc.wait()})")
            if line.startswith("{"):
                return json.loads(line)

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def run_group(names: list[str], preset: str, path: str, rounds: int, seconds: float) -> list[dict]:
    processes = []
    try:
        for name in names:
            processes.append(_Process(name, preset, path))
        for _ in range(rounds):
            for p in processes:
                n = max(2, round(seconds / p.info["probe_s"]))
                p.steps.append(p.ask(f"steps {n}")["step_s"])
                p.rates.append(p.ask("matmul")["flops"])
    finally:
        for p in processes:
            p.close()
    limit = {}
    for p in processes:
        limit[p.info["dtype"]] = max(limit.get(p.info["dtype"], 0.0), max(p.rates))
    base = min(processes[0].steps)
    out = []
    for p in processes:
        best = min(p.steps)
        out.append({"variant": p.name, "what": p.what, "env": VARIANTS[p.name][0], "settings": VARIANTS[p.name][1],
                    "path": path, "batch_size": p.info["batch_size"], "jit_compile": p.info["jit_compile"],
                    "step_ms": 1e3 * best, "images_per_s": p.info["batch_size"] / best,
                    "own_matmul_gflops": max(p.rates) / 1e9, "matmul_dtype": p.info["dtype"],
                    "fraction_of_matmul": p.info["train_step_flops"] / best / limit[p.info["dtype"]],
                    "speedup_vs_baseline": base * p.info["batch_size"] / processes[0].info["batch_size"] / best})
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist")
    p.add_argument("--variants", nargs="+", default=[v for v in VARIANTS if v != "baseline"],
                   choices=[v for v in VARIANTS if v != "baseline"])
    p.add_argument("--path", default="handwritten", choices=["fit", "custom", "handwritten"])
    p.add_argument("--group", type=int, default=3, help="variants run side by side with the baseline")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--out", help="also write the JSON here")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.preset, args.path, VARIANTS[args.child][1])
    results, start = [], time.time()
    for i in range(0, len(args.variants), args.group):
        group = ["baseline"] + args.variants[i:i + args.group]
        load = os.getloadavg()[0]
        for r in run_group(group, args.preset, args.path, args.rounds, args.seconds):
            r["load_average"] = load
            results.append(r)
            print(f"{r['variant']:22s} {r['images_per_s']:7.1f} img/s  {r['fraction_of_matmul']:5.0%} of the "
                  f"{r['matmul_dtype']} matmul rate  {r['speedup_vs_baseline']:5.2f}x baseline  "
                  f"(load {load:.1f})", flush=True)
    print(f"{time.time() - start:.0f} s")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
