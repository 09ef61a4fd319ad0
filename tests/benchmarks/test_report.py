"""``benchmarks.report`` on the recorded results file: the table benchmarks/README.md quotes, and targets
derived from the measured figures (none are stored in the file)."""

import json
import pathlib

import pytest

from benchmarks import report

RESULTS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "results"


@pytest.fixture(scope="module", params=sorted(RESULTS.glob("*.json")), ids=lambda p: p.name)
def results(request):
    return json.loads(request.param.read_text())


def test_every_recorded_file_prints_and_derives_its_targets(results):
    assert "targets" not in results
    text = report.table(results)
    assert "Training throughput" in text and "Targets (measured, not asserted)" in text
    for entry in results["training"]:
        if "fit" in entry["paths"] and "custom" in entry["paths"]:
            ratio = entry["paths"]["fit"]["step_ms"] / entry["paths"]["custom"]["step_ms"]
            name = f"fit within 10% of the custom loop's step ({entry['preset']}, {entry['precision']})"
            [target] = [t for t in report.targets(results) if t["target"] == name]
            assert target["met"] == (ratio <= report.PATH_OVERHEAD_TARGET)


def test_table_has_one_column_per_timed_path_and_ratios_to_the_custom_step():
    entry = {"preset": "mnist", "precision": "float32", "batch_size": 100, "train_step_gflop": 70.5,
             "matmul_gflops": 300.0,
             "paths": {name: {"images_per_s": 100.0 / s, "step_ms": 1e3 * s, "fraction_of_matmul": 0.5}
                       for name, s in (("fit", 1.1), ("custom", 1.0))}}
    lines = report.table({"training": [entry]}).splitlines()
    header = lines[1].split()
    assert header[4:7] == ["fit", "custom", "fit/custom"]
    assert lines[3].split()[8] == "1.10"
    [target] = [t for t in report.targets({"training": [entry]}) if t["target"].startswith("fit within 10%")]
    assert target["measured"] == "1.100x its step time" and target["met"] is True
