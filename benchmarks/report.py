"""Reading a results dict of ``benchmarks.run``: the speed and memory targets checked, and the printed table.

    python -m benchmarks.report benchmarks/results/cpu2-intel-xeon-processor-2026-11-25.json

Targets are reported, never asserted: a benchmark on a shared machine measures the machine as much as the
code, so the figures go into ``benchmarks/README.md`` with the conditions they were taken in. They are
derived from the measured figures each time a file is read, so an older file is checked against the
targets of the current code.
"""

from __future__ import annotations

import json
import sys

MNIST_FRACTION_TARGET = 0.6
PATH_OVERHEAD_TARGET = 1.10
PIPELINE_TARGET = 5.0
MNIST_MEMORY_TARGET_MIB = 2048
GPU_FLOAT16_TARGET = 1.5
REFERENCE_PATH = "custom"  # the custom loop's step function: what model.fit is compared against


def _training(results: dict) -> dict:
    """``{(preset, precision): entry}`` of the training section's successful entries."""
    return {(e["preset"], e["precision"]): e for e in results.get("training", []) if "paths" in e}


def targets(results: dict) -> list[dict]:
    """One row per target: ``target``, ``measured`` (text), ``met`` (bool, or None when not measured)."""
    rows = []
    training = _training(results)
    gpu = results.get("machine", {}).get("device_kind") == "GPU"
    for (preset, precision), entry in training.items():
        ratio = _time_ratios(entry).get("fit")
        if ratio is not None:
            rows.append({"target": f"fit within 10% of the custom loop's step ({preset}, {precision})",
                         "measured": f"{ratio:.3f}x its step time", "met": ratio <= PATH_OVERHEAD_TARGET})
    for source, entry in results.get("pipeline", {}).items():
        train = training.get((entry.get("preset"), "float32"))
        if "images_per_s" in entry and train:
            rate = _best_rate(train)
            ratio = entry["images_per_s"] / rate
            cold = entry["first_epoch_images_per_s"] / rate
            rows.append({"target": f"input pipeline >= 5x training ({source} vs {entry['preset']} float32)",
                         "measured": f"{ratio:.0f}x steady, {cold:.0f}x first epoch", "met": ratio >= PIPELINE_TARGET})
    mnist = training.get(("mnist", "float32"))
    if mnist and not gpu:
        fractions = {p: v["fraction_of_matmul"] for p, v in mnist["paths"].items()}
        text = ", ".join(f"{p} {f:.0%}" for p, f in fractions.items())
        rows.append({"target": "mnist float32 step >= 60% of the float32 matmul rate (2-core CPU)",
                     "measured": text, "met": min(fractions.values()) >= MNIST_FRACTION_TARGET})
    for (preset, precision), entry in training.items():
        base = training.get((preset, "float32"))
        if precision == "float32" or base is None:
            continue
        ratio = _best_rate(entry) / _best_rate(base)
        if precision == "mixed_bfloat16" and not gpu:
            rows.append({"target": f"mixed_bfloat16 no slower than float32 on CPU ({preset})",
                         "measured": f"{ratio:.2f}x float32", "met": ratio >= 1.0})
        if precision == "mixed_float16" and gpu:
            rows.append({"target": f"mixed_float16 >= 1.5x float32 on GPU ({preset})",
                         "measured": f"{ratio:.2f}x float32", "met": ratio >= GPU_FLOAT16_TARGET})
    peak = results.get("memory", {}).get("mnist", {}).get("peak_rss_mib")
    if peak is not None:
        rows.append({"target": "peak memory training mnist < 2 GiB", "measured": f"{peak:.0f} MiB",
                     "met": peak < MNIST_MEMORY_TARGET_MIB})
    return rows


def _time_ratios(entry: dict) -> dict:
    """``{path: its step time over the reference path's}`` (1.05 = 5% slower), when the reference was timed."""
    paths = entry["paths"]
    if REFERENCE_PATH not in paths:
        return {}
    base = paths[REFERENCE_PATH]["step_ms"]
    return {name: v["step_ms"] / base for name, v in paths.items() if name != REFERENCE_PATH}


def _path_names(entries: list[dict]) -> list[str]:
    """Every path timed in ``entries``, in order of first appearance."""
    names = []
    for e in entries:
        names += [name for name in e.get("paths", {}) if name not in names]
    return names


def _best_rate(entry: dict) -> float:
    """The training rate a user gets: ``model.fit``'s when measured, else the best path's."""
    paths = entry["paths"]
    return paths["fit"]["images_per_s"] if "fit" in paths else max(p["images_per_s"] for p in paths.values())


def _rows(header: list[str], rows: list[list], left: int = 1) -> list[str]:
    """Aligned text rows: the first ``left`` columns flush left, the others (numbers) flush right."""
    cells = [[str(c) for c in row] for row in [header] + rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in cells]
    return [lines[0], "  ".join("-" * w for w in widths)] + lines[1:]


def table(results: dict) -> str:
    """The results as text tables, one block per section present."""
    out = []
    info = results.get("machine")
    if info:
        out += [f"machine: {info['device_name']} ({info['device_kind']}), {info['cpu_cores']} CPU cores, "
                f"TF {info['tensorflow']}, Keras {info['keras']}"]
        for r in results.get("runs", []):
            out.append(f"run {r['started']}: {r['command']} (load average at start {r['load_average_start'][0]:.2f})")
        rates = results.get("matmul_gflops", {})
        if rates:
            out.append("matmul rate: " + ", ".join(f"{d} {r:.0f} GFLOP/s" for d, r in rates.items()))
        out.append("")
    training = results.get("training", [])
    if training:
        names = _path_names(training)
        others = [n for n in names if n != REFERENCE_PATH] if REFERENCE_PATH in names else []
        out.append("Training throughput, images/s (fraction of the matmul rate of the compute dtype)")
        rows = []
        for e in training:
            if "paths" not in e:
                error = "error: " + e.get("error", "?")[:60]
                rows.append([e["preset"], e["precision"], "", "", error] + [""] * (len(names) + len(others) + 1))
                continue
            cell = {p: f"{v['images_per_s']:.1f} ({v['fraction_of_matmul']:.0%})" for p, v in e["paths"].items()}
            ratios = _time_ratios(e)
            load = results.get("section_load", {}).get(f"training/{e['preset']}/{e['precision']}")
            rows.append([e["preset"], e["precision"], e["batch_size"], f"{e['train_step_gflop']:.1f}"]
                        + [cell.get(n, "-") for n in names]
                        + [f"{ratios[n]:.2f}" if n in ratios else "-" for n in others]
                        + [f"{e['matmul_gflops']:.0f}", f"{load[0]:.1f}-{load[1]:.1f}" if load else "-"])
        out += _rows(["preset", "precision", "batch", "GFLOP/step", *names,
                      *[f"{n}/{REFERENCE_PATH} time" for n in others], "matmul GFLOP/s", "load"], rows,
                     left=2) + [""]
    pipeline = results.get("pipeline")
    if pipeline:
        by_preset = _training(results)
        out.append("Input pipeline alone vs training (model.fit, float32)")
        rows = []
        for source, e in pipeline.items():
            if "images_per_s" not in e:
                rows.append([source, e["preset"], "skipped: " + e.get("skipped", "")[:60], "", "", ""])
                continue
            train = by_preset.get((e["preset"], "float32"))
            rate = _best_rate(train) if train else None
            rows.append([source, e["preset"], f"{e['images_per_s']:.0f}", f"{e['first_epoch_images_per_s']:.0f}",
                         f"{rate:.1f}" if rate else "-", f"{e['images_per_s'] / rate:.0f}x" if rate else "-"])
        out += _rows(["source", "feeds", "pipeline img/s", "first epoch img/s", "training img/s", "ratio"], rows,
                     left=2)
        out.append("")
    memory = results.get("memory")
    if memory:
        out.append("Peak resident memory of a training run (model.fit, real pipeline, fresh process)")
        rows = []
        for p, e in memory.items():
            if "peak_rss_mib" not in e:
                rows.append([p, "error: " + e.get("error", "?")[:70], "", "", "", "", "", ""])
                continue
            runs = e.get("peak_rss_mib_runs", [e["peak_rss_mib"]])
            gpu = f"{e['gpu_peak_mib']:.0f}" if "gpu_peak_mib" in e else "-"
            rows.append([p, e.get("dataset", ""), f"{e['peak_rss_mib']:.0f}", " / ".join(f"{r:.0f}" for r in runs),
                         f"{e['rss_after_import_mib']:.0f}", f"{e['rss_after_model_mib']:.0f}",
                         f"{e['rss_after_first_batch_mib']:.0f}", gpu])
        out += _rows(["preset", "data", "peak MiB", "runs", "after import", "after model", "after 1st batch",
                      "GPU peak MiB"], rows, left=2) + [""]
    scaling = results.get("scaling")
    if scaling:
        for key, label in (("batch", "batch size (mnist)"), ("rungs", "rungs (svhn 32x32x3, batch 100)")):
            if scaling.get(key):
                out.append(f"Scaling with {label}: {scaling['path']} path, {scaling['precision']}")
                rows = [[r["batch_size"] if key == "batch" else r["rungs"], f"{r['step_ms']:.0f}",
                         f"{r['step_time_vs_first']:.2f}x", f"{r['train_step_gflop']:.1f}",
                         f"{r['flops_vs_first']:.2f}x", f"{r['images_per_s']:.1f}", f"{r['fraction_of_matmul']:.0%}"]
                        for r in scaling[key]]
                out += _rows([key, "step ms", "time vs first", "GFLOP/step", "FLOPs vs first", "img/s",
                              "of matmul"], rows) + [""]
    serving = results.get("serving")
    if serving and "error" not in serving:
        size = serving.get("batch_size", 64)
        out.append(f"Serving ({serving.get('model', 'mnist')}): batch 1 latency and batch {size} throughput")
        rows = [[name, f"{v['batch1_median_ms']:.2f}", f"{v['batch1_p99_ms']:.2f}",
                 f"{v[f'batch{size}_images_per_s']:.0f}"]
                for name, v in serving.items() if isinstance(v, dict) and "batch1_median_ms" in v]
        out += _rows(["path", "median ms", "p99 ms", f"batch {size} img/s"], rows) + [""]
    elif serving:
        out += [f"Serving: error: {serving['error']}", ""]
    loads = results.get("section_load")
    if loads:
        out += ["Load average (1 min) before-after each section: " +
                ", ".join(f"{k} {a:.1f}-{b:.1f}" for k, (a, b) in loads.items()), ""]
    checks = targets(results)
    if checks:
        out.append("Targets (measured, not asserted)")
        rows = [[c["target"], c["measured"], {True: "met", False: "NOT met", None: "-"}[c["met"]]] for c in checks]
        out += _rows(["target", "measured", ""], rows, left=3)
    return "\n".join(out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m benchmarks.report RESULTS.json")
    with open(argv[0]) as f:
        print(table(json.load(f)))


if __name__ == "__main__":
    main()
