"""``python -m benchmarks.run --quick --steps 2`` runs every section and writes a results file that the report
reads back. Split in two so that ``pytest -n 2`` runs the halves side by side; timings are not checked, and
each section runs at its smallest setting (one precision, one scaling point) to keep the suite fast."""

import json
import math

import pytest

from benchmarks import report, run, scaling
from tests.conftest import MNIST_NPZ


def _run(tmp_path, *args) -> dict:
    out = tmp_path / "results.json"
    results = run.main(["--quick", "--steps", "2", "--out", str(out), "--no-table", *args])
    assert json.loads(out.read_text()) == json.loads(json.dumps(results))
    assert report.table(results)
    return results


def _no_errors(value, where="results"):
    if isinstance(value, dict):
        assert "error" not in value, f"{where}: {value.get('error')}"
        for key, item in value.items():
            _no_errors(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_errors(item, f"{where}[{i}]")


@pytest.mark.slow
def test_training_section_times_fit_and_the_custom_step(tmp_path):
    # mixed_bfloat16 rather than float32: it also covers the policy plumbing and the bfloat16 matmul rate.
    results = _run(tmp_path, "--sections", "machine", "training", "--presets", "shapes",
                   "--precisions", "mixed_bfloat16", "--rounds", "1")
    _no_errors(results)
    assert results["machine"]["device_kind"] in ("CPU", "GPU")
    assert set(results["matmul_gflops"]) == {"bfloat16"}
    [entry] = results["training"]
    assert (entry["preset"], entry["precision"], entry["matmul_dtype"]) == ("shapes", "mixed_bfloat16", "bfloat16")
    assert set(entry["paths"]) == {"fit", "custom"}
    for path in entry["paths"].values():
        assert path["images_per_s"] > 0 and 0 < path["fraction_of_matmul"] < math.inf
    [target] = [t for t in report.targets(results) if t["target"].startswith("fit within 10%")]
    ratio = entry["paths"]["fit"]["step_ms"] / entry["paths"]["custom"]["step_ms"]
    assert target["measured"] == f"{ratio:.3f}x its step time"


@pytest.mark.slow
def test_pipeline_memory_scaling_and_serving_sections(tmp_path):
    memory_preset = "mnist" if MNIST_NPZ.exists() else "svhn"
    results = _run(tmp_path, "--sections", "pipeline", "memory", "scaling", "serving",
                   "--memory-presets", memory_preset, "--batch-sizes", "32", "--rungs")
    _no_errors(results)
    assert {"shapes", "folder"} <= set(results["pipeline"])
    assert all(e["images_per_s"] > 0 for e in results["pipeline"].values())
    assert 100 < results["memory"][memory_preset]["peak_rss_mib"] < 64 * 1024
    assert [r["batch_size"] for r in results["scaling"]["batch"]] == [32]
    assert results["scaling"]["rungs"] == [] and results["scaling"]["path"] == "custom"
    for path in ("keras_call", "saved_model"):
        assert results["serving"][path]["batch1_median_ms"] > 0


def test_rung_overrides_fit_a_32x32_ladder():
    assert scaling.rung_overrides(2) == {"model.latent_dims": (5, 5), "model.conv_channels": (64,)}
    assert scaling.rung_overrides(6)["model.conv_channels"] == (64, 128, 256, 256, 256)
    for rungs in (1, 7):
        with pytest.raises(ValueError, match=f"rungs={rungs} is not valid"):
            scaling.rung_overrides(rungs)


def test_throughput_times_a_preset_with_config_overrides():
    from benchmarks import throughput

    result = throughput.main(["--preset", "shapes", "--set", "model.combine=concat", "--set",
                              "model.late_broadcast=False", "--batch-size", "8", "--paths", "fit", "--steps", "1",
                              "--rounds", "1"])
    assert result["batch_size"] == 8 and set(result["paths"]) == {"fit"}
    assert result["paths"]["fit"]["step_ms"] > 0
    # The overrides reach the model: concatenating before u_1 doubles its input channels, so the concat model
    # counts more FLOPs than the preset's late FiLM join (whose 1x1 mix is cheaper than those channels).
    default = throughput.main(["--preset", "shapes", "--batch-size", "8", "--paths", "fit", "--steps", "1",
                               "--rounds", "1"])
    assert result["train_step_gflop"] > default["train_step_gflop"]
