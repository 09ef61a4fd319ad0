"""``python -m benchmarks.run --quick --steps 2`` runs every section and writes a results file that the report
reads back. Split in two so that ``pytest -n 2`` runs the halves side by side; timings are not checked."""

import json
import math

import pytest

from benchmarks import report, run
from tests.conftest import MNIST_NPZ

pytestmark = pytest.mark.slow


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


def test_training_section_times_three_paths_per_precision(tmp_path):
    results = _run(tmp_path, "--sections", "machine", "training", "--presets", "shapes",
                   "--precisions", "float32", "mixed_bfloat16", "--rounds", "1")
    _no_errors(results)
    assert results["machine"]["device_kind"] in ("CPU", "GPU")
    assert set(results["matmul_gflops"]) == {"float32", "bfloat16"}
    assert [(e["preset"], e["precision"]) for e in results["training"]] == [("shapes", "float32"),
                                                                            ("shapes", "mixed_bfloat16")]
    for entry in results["training"]:
        assert set(entry["paths"]) == {"fit", "custom", "handwritten"}
        for path in entry["paths"].values():
            assert path["images_per_s"] > 0 and 0 < path["fraction_of_matmul"] < math.inf
        assert entry["fit_over_handwritten"] > 0 and entry["custom_over_handwritten"] > 0
    assert any(t["target"].startswith("fit within 10%") for t in results["targets"])


def test_pipeline_memory_scaling_and_serving_sections(tmp_path):
    memory_preset = "mnist" if MNIST_NPZ.exists() else "svhn"
    results = _run(tmp_path, "--sections", "pipeline", "memory", "scaling", "serving",
                   "--memory-presets", memory_preset, "--batch-sizes", "32", "--rungs", "2")
    _no_errors(results)
    assert {"shapes", "folder"} <= set(results["pipeline"])
    assert all(e["images_per_s"] > 0 for e in results["pipeline"].values())
    assert 100 < results["memory"][memory_preset]["peak_rss_mib"] < 64 * 1024
    assert [r["batch_size"] for r in results["scaling"]["batch"]] == [32]
    assert [r["rungs"] for r in results["scaling"]["rungs"]] == [2]
    for path in ("keras_call", "saved_model"):
        assert results["serving"][path]["batch1_median_ms"] > 0
