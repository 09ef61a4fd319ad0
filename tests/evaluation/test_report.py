"""vlae-eval and vlae-compare end to end on tiny runs: eval.json keys, figures, probes, the factor -> rung report."""

import json
import math
import pathlib

import keras
import numpy as np
import pytest

from trainers import compare as compare_cli
from trainers import evaluate as evaluate_cli
from vlae_tf import data, presets, run_dir
from vlae_tf.data.shapes import FACTOR_NAMES
from vlae_tf.evaluation import comparison, report
from vlae_tf.evaluation.evaluate_run import EvalOptions, evaluate_model, factor_metrics
from vlae_tf.evaluation.model_metrics import posterior_codes
from vlae_tf.io.run_model import load_model
from vlae_tf.io import run_model
from vlae_tf.training import keras_fit

TINY = {"model.image_shape": (16, 16, 3), "model.conv_channels": (4, 8), "model.dense_units": 16,
        "data.num_train": 64, "data.num_test": 96, "data.batch_size": 32}
MNIST_NPZ = pathlib.Path(__file__).resolve().parents[3] / "shared" / "datasets" / "mnist.npz"
KEYS = {"model", "dataset", "elbo", "iwae", "kl_per_rung", "active_units_per_rung"}


def seeded_model(config, seed=0):
    keras.utils.set_random_seed(seed)  # module fixtures build before the per-test seeding: seed here
    return run_model.build_model(config)


def make_run(config, out):
    """A run folder as vlae-train leaves it (config.json, model.keras), with an untrained model: the
    report's plumbing is under test here, not training (tests/models covers fit runs)."""
    model = seeded_model(config)
    run_dir.save_config(out, config)
    model.save(str(out / run_dir.MODEL_FILE))
    return out


@pytest.fixture(scope="module")
def shapes_run(tmp_path_factory):
    config = presets.get("shapes", **TINY)
    return config, make_run(config, tmp_path_factory.mktemp("shapes_run"))


def test_vlae_eval_cli_writes_json_markdown_and_figures(shapes_run, capsys):
    config, out = shapes_run
    assert evaluate_cli.main(["--run", str(out), "--iw-samples", "4", "--iw-examples", "8"]) == 0
    result = json.loads((out / report.EVAL_JSON).read_text())
    assert KEYS | {"mig", "mig_sup", "factor_rung"} <= set(result)
    assert result["model"] == "vlae" and result["dataset"] == "shapes" and result["num_examples"] == 96
    assert len(result["kl_per_rung"]) == len(result["active_units_per_rung"]) == 3
    assert set(result["factor_rung"]) == set(FACTOR_NAMES) and set(result["factor_rung"].values()) <= {1, 2, 3}
    assert np.array(result["rung_factor_nmi"]).shape == (3, 7) and np.array(result["dim_factor_nmi"]).shape == (sum(config.model.latent_dims), 7)
    assert result["iwae"] >= result["iwae_elbo"] and result["iwae_samples"] == 4
    assert 0.0 <= result["mig"] <= 1.0 and 0.0 <= result["mig_sup"] <= 1.0
    dims = 16 * 16 * 3  # a Gaussian density: bits per dim include the 8-bit discretisation term
    assert result["likelihood"] == "gaussian"
    assert result["bits_per_dim"] == pytest.approx((dims * math.log(256) - result["elbo"]) / (dims * math.log(2)))
    assert "probe_accuracy_per_rung" not in result  # shapes has factors, not class labels
    markdown = (out / report.EVAL_MD).read_text()
    assert "IWAE bound (K=4" in markdown and "captured by rung" in markdown
    names = {p.name for p in (out / report.FIGURE_DIR).iterdir()}
    assert {"nmi_rungs.png", "nmi_dims.png", "kl_per_rung.png", "traversal_rung_1.png", "traversal_rung_3.png"} <= names
    assert "Evaluation: vlae on shapes" in capsys.readouterr().out


def test_vlae_eval_cli_reports_a_missing_run_as_a_user_error(tmp_path, capsys):
    assert evaluate_cli.main(["--run", str(tmp_path / "nope")]) == 2
    assert "config.json" in capsys.readouterr().err


def test_factor_rung_report_of_make_demo(shapes_run):
    config, out = shapes_run
    images, targets = data.load_arrays(config, "test", 500)
    means, _ = posterior_codes(load_model(out), images)
    result = {"model": "vlae", "dataset": "shapes",
              **factor_metrics(means, targets["factors"], list(targets["factor_names"]), sampled_draws=0)}
    lines = report.factor_rung_summary(result)
    assert "rung (1 = nearest the pixels)" in lines[0]
    for name, line in zip(FACTOR_NAMES, lines[1:]):
        assert line.split()[0] == name and " rung " in line


@pytest.mark.parametrize("kind", ["hvae", "vae"])
def test_baselines_evaluate_with_one_entry_per_rung(kind):
    config = presets.get("shapes", **{**TINY, "model.kind": kind})
    result = evaluate_model(seeded_model(config), config, EvalOptions(iw_samples=3, iw_examples=4))
    rungs = 1 if kind == "vae" else 3
    assert result["model"] == kind and len(result["kl_per_rung"]) == rungs and len(result["rung_factor_nmi"]) == rungs
    assert result["iwae"] >= result["iwae_elbo"]


def _tiny_mnist(path, mnist_file):
    rng = np.random.default_rng(0)
    if mnist_file.exists():
        with np.load(mnist_file) as d:
            arrays = {"x_train": d["x_train"][:300], "y_train": d["y_train"][:300], "x_test": d["x_test"][:100],
                      "y_test": d["y_test"][:100]}
    else:  # stand-in digits: the test is about the report, not about MNIST
        arrays = {"x_train": rng.integers(0, 256, (300, 28, 28), dtype=np.uint8), "y_train": rng.integers(0, 10, 300),
                  "x_test": rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), "y_test": rng.integers(0, 10, 100)}
    np.savez(path, **arrays)
    return str(path)


def test_probe_table_on_a_tiny_mnist_npz_run(tmp_path):
    data_file = _tiny_mnist(tmp_path / "mnist.npz", MNIST_NPZ)
    config = presets.get("mnist", **{"data.dataset": "npz", "data.data_dir": data_file, "model.conv_channels": (4, 8),
                                     "model.dense_units": 16, "data.batch_size": 50})
    make_run(config, tmp_path / "run")
    assert evaluate_cli.main(["--run", str(tmp_path / "run"), "--iw-samples", "2", "--iw-examples", "4"]) == 0
    result = json.loads((tmp_path / "run" / report.EVAL_JSON).read_text())
    assert KEYS <= set(result) and "factor_rung" not in result
    probes = result["probe_accuracy_per_rung"]
    assert len(probes) == 3 and all(0.0 <= p["logistic"] <= 1.0 and 0.0 <= p["knn"] <= 1.0 for p in probes)
    assert result["probe_train_examples"] == 300
    assert "Label probes" in (tmp_path / "run" / report.EVAL_MD).read_text()


def _result(kind, shares, factor_rung):
    total = 10.0
    return {"model": kind, "dataset": "shapes", "split": "test", "num_examples": 10, "latent_dims": [3] * len(shares),
            "likelihood": "bernoulli", "elbo": -100.0, "recon": 90.0, "kl": total, "bits_per_dim": 0.1,
            "kl_per_rung": [s * total for s in shares], "kl_share_per_rung": shares,
            "active_units_per_rung": [3] * len(shares), "factor_names": list(factor_rung),
            "factor_rung": factor_rung, "rung_factor_nmi": [[0.5] * len(factor_rung)] * len(shares),
            "mig": 0.1, "mig_sup": 0.2}


def test_claims_are_checked_on_the_numbers():
    good = {"vlae": _result("vlae", [0.3, 0.3, 0.4], {"bg_color": 1, "fg_color": 1, "shape": 3}),
            "hvae": _result("hvae", [0.95, 0.04, 0.01], {"bg_color": 1, "fg_color": 1, "shape": 1})}
    checks = comparison.claims(good)
    assert all(c["holds"] for c in checks.values()) and len(checks) == 4
    bad = {"vlae": _result("vlae", [0.05, 0.5, 0.45], {"bg_color": 3, "fg_color": 1, "shape": 2}),
           "hvae": _result("hvae", [0.6, 0.3, 0.1], {"bg_color": 1, "fg_color": 1, "shape": 1})}
    assert not any(c["holds"] for c in comparison.claims(bad).values())
    text = comparison.markdown(bad)
    assert "| quantity | vlae | hvae |" in text
    assert "**no**" in text and "shape -> rung 2 of 3" in text


def test_compare_cli_argument_parsing():
    assert compare_cli.parse_budget("4000") == {"steps": 4000}
    assert compare_cli.parse_budget("3epochs") == {"epochs": 3}
    assert compare_cli.parse_models("vlae, hvae") == ["vlae", "hvae"]
    for bad in ("0", "ten", "3 minutes"):
        with pytest.raises(ValueError, match="--budget"):
            compare_cli.parse_budget(bad)
    with pytest.raises(ValueError, match="--models"):
        compare_cli.parse_models("vlae,gan")


def test_compare_cli_trains_evaluates_and_reports_every_model(tmp_path, monkeypatch):
    trained, finished = [], []

    def fake_fit(config, out, epochs=None, steps=None, verbose=0):  # training itself is tested in tests/models
        if (pathlib.Path(out) / run_dir.MODEL_FILE).exists():  # as run_fit: a finished run returns at once
            finished.append(config.model.kind)
            return
        trained.append((config.model.kind, steps))
        make_run(config, pathlib.Path(out))

    monkeypatch.setattr(keras_fit, "run_fit", fake_fit)
    sets = [item for key, value in TINY.items() for item in ("--set", f"{key}={value!r}".replace(" ", ""))]
    argv = ["--preset", "shapes", "--models", "vlae,hvae,vae", "--budget", "2", "--out", str(tmp_path),
            "--iw-samples", "2", "--iw-examples", "4", *sets]
    assert compare_cli.main(argv) == 0
    assert trained == [("vlae", 2), ("hvae", 2), ("vae", 2)]
    saved = json.loads((tmp_path / "comparison.json").read_text())
    assert saved["models"] == list(saved["results"]) == ["vlae", "hvae", "vae"]
    assert set(saved["claims"]) == {"vlae_colour_on_rung_1", "vlae_shape_on_top_rung", "hvae_upper_rungs_small",
                                    "vlae_rungs_substantial"}
    assert (tmp_path / "traversals.png").exists() and (tmp_path / "vlae" / report.EVAL_JSON).exists()
    assert "## The paper's claims, checked" in (tmp_path / "comparison.md").read_text()
    argv[argv.index("vlae,hvae,vae")] = "vlae"
    # An existing run is handed to run_fit (which checks its configuration), evaluated, not retrained.
    assert compare_cli.main(argv) == 0 and len(trained) == 3 and finished == ["vlae"]


def test_report_traversals_start_from_real_images_and_stay_in_their_range(monkeypatch):
    """The report's traversal PNGs, as the run's own figures: rows are posterior means of real images and each
    rung sweeps the central 90% of the images' codes along its direction; the HVAE keeps prior-noise rows."""
    from vlae_tf import visualize
    from vlae_tf.evaluation import figures
    calls = []
    real = visualize.traversal_figure

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)
    monkeypatch.setattr(visualize, "traversal_figure", spy)
    config = presets.get("shapes", **TINY)
    model = seeded_model(config)
    images = data.load_arrays(config, "test", 40)[0]
    grids = figures.traversal_grids(model, images, num_rows=2, num_cols=3)
    codes = [np.asarray(mean) for mean, _ in model.encode(images)]
    assert len(grids) == 3 and all(g.dtype == np.uint8 and g.ndim == 3 for g in grids)
    for rung, call in enumerate(calls, start=1):
        assert call["keep_orthogonal"] is True
        for row, code in zip(call["row_codes"], codes):
            np.testing.assert_allclose(row, code[:2], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(call["values"], visualize.data_sweep_values(codes[rung - 1], config.model.latent_dims,
                                                                               rung, 3, 0), rtol=1e-5, atol=1e-6)
    calls.clear()
    figures.traversal_grids(seeded_model(presets.get("shapes_hvae", **TINY)), images, num_rows=2, num_cols=3)
    assert len(calls) == 3 and all("row_codes" not in call for call in calls)
