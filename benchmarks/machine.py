"""The machine a benchmark runs on: what it is, and its matrix-multiply rate (the "limit" the training
throughput is compared against).

    python -m benchmarks.machine               # device description and float32 / bfloat16 matmul rates

``describe()`` names the accelerator when there is one (``tf.config.experimental.get_device_details``) and
the CPU otherwise, and records the environment variables that change TensorFlow's threading and kernels
(``SETTINGS``), so a suite run under, say, ``TF_NUM_INTEROP_THREADS=1`` says so in its results file;
``slug()`` turns the device into the results file's machine name. ``matmul_rate`` times a large
square ``tf.linalg.matmul`` after a warm-up, in the dtype asked for, on the device TensorFlow places it on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402

# Square size per device kind: big enough that the multiply, not its launch, is timed.
MATMUL_SIZE = {"CPU": 2048, "GPU": 8192}
# Read when TensorFlow starts: each one changes the speed of every figure taken in the process.
SETTINGS = ("TF_ENABLE_ONEDNN_OPTS", "TF_NUM_INTEROP_THREADS", "TF_NUM_INTRAOP_THREADS",
            "TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD", "XLA_FLAGS", "OMP_NUM_THREADS")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def gpus() -> list[dict]:
    """One entry per physical GPU: ``name`` and ``compute_capability`` where TensorFlow reports them."""
    out = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        out.append({"device": device.name, "name": details.get("device_name", "GPU"),
                    "compute_capability": ".".join(map(str, details.get("compute_capability", ()))) or None})
    return out


def describe() -> dict:
    """What the results were measured on: accelerator (or CPU), cores, memory, software versions."""
    flags = cpu_flags()
    gpu_list = gpus()
    return {
        "device_kind": "GPU" if gpu_list else "CPU",
        "device_name": gpu_list[0]["name"] if gpu_list else cpu_model(),
        "gpus": gpu_list,
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_features": sorted(flags & {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_fp16"}),
        "memory_gib": round(psutil.virtual_memory().total / 2 ** 30, 1),
        "hostname": socket.gethostname(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 CPUs)"),
        "settings": {name: os.environ[name] for name in SETTINGS if name in os.environ},
        "load_average": list(os.getloadavg()),
    }


def slug(info: dict) -> str:
    """A file-name-safe machine name: ``gpu-nvidia-h100-80gb-hbm3`` or ``cpu2-intel-xeon-processor``."""
    if info["device_kind"] == "GPU":
        base = f"gpu-{info['device_name']}"
    else:
        model = re.sub(r"\(r\)|\(tm\)|\bcpu\b|@.*", "", info["cpu"].lower())
        base = f"cpu{info['cpu_cores']}-{model}"
    return re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")


def matmul_rate(dtype: str = "float32", size: int | None = None, repeats: int = 5, min_seconds: float = 0.2) -> float:
    """FLOP/s of ``tf.linalg.matmul`` of two ``size`` x ``size`` matrices in ``dtype`` (best of ``repeats``).

    Each repeat runs enough multiplies to last ``min_seconds``; 2 * size**3 FLOPs per multiply.
    """
    kind = "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
    size = size or MATMUL_SIZE[kind]
    a = tf.random.stateless_uniform((size, size), seed=[1, 2], dtype=tf.float32)
    b = tf.random.stateless_uniform((size, size), seed=[3, 4], dtype=tf.float32)
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)

    @tf.function
    def multiply(n):
        # A chain keeps every product live (nothing to prune) at a constant magnitude.
        total = tf.zeros((), tf.float32)
        for _ in tf.range(n):
            total += tf.cast(tf.linalg.matmul(a, b)[0, 0], tf.float32)
        return total

    multiply(tf.constant(1)).numpy()  # trace, allocate, warm the caches
    start = time.perf_counter()
    multiply(tf.constant(1)).numpy()
    n = max(1, int(min_seconds / max(time.perf_counter() - start, 1e-6)))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        multiply(tf.constant(n)).numpy()
        best = min(best, (time.perf_counter() - start) / n)
    return 2.0 * size ** 3 / best


def main(argv=None):
    
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    p.add_argument("--size", type=int)
    args = p.parse_args(argv)
    info = describe()
    info["slug"] = slug(info)
    info["matmul_gflops"] = {d: matmul_rate(d, args.size) / 1e9 for d in args.dtypes}
    print(json.dumps(info, indent=2))
    return info


if __name__ == "__main__":
    main()
