"""Jobs longer than ~10 s show progress on stderr: vlae-eval's stages and IWAE batches, vlae-compare's models."""

import pathlib

import keras
import numpy as np
import pytest

from trainers import compare as compare_cli
from vlae_tf import presets, run_dir
from vlae_tf.evaluation import comparison, figures, progress, report
from vlae_tf.evaluation.evaluate_run import EvalOptions, likelihood_metrics
from vlae_tf.io import run_model
from vlae_tf.training import keras_fit

TINY = {"model.image_shape": (16, 16, 3), "model.conv_channels": (4, 8), "model.dense_units": 16}


def test_stages_print_each_stage_and_batch_count_only_when_enabled(capsys):
    stages = progress.Stages(enabled=True, prefix="eval")
    stages.start("IWAE bound")
    update = stages.counter(250, "image")
    for n in (100, 100, 50):
        update(n)
    stages.start("done")
    captured = capsys.readouterr()
    assert captured.out == ""  # results own stdout
    lines = captured.err.splitlines()
    assert lines[0] == "eval: IWAE bound"
    assert [line.split(",")[0].strip() for line in lines[1:4]] == ["100/250 images", "200/250 images",
                                                                    "250/250 images"]
    assert lines[4].startswith("eval: done (") and "previous stage" in lines[4]
    quiet = progress.Stages(enabled=False)
    quiet.start("anything")
    assert quiet.counter(10, "image") is None
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("enabled", [True, False])
def test_the_iwae_pass_reports_every_batch(enabled, capsys):
    config = presets.get("shapes", **TINY)
    keras.utils.set_random_seed(0)
    model = run_model.build_model(config)
    images = np.random.default_rng(0).random((150, *config.model.image_shape)).round().astype(np.float32)
    options = EvalOptions(iw_samples=2, iw_examples=150, progress=enabled)
    result = likelihood_metrics(model, images, options, progress.Stages(options.progress))
    assert result["iwae_examples"] == 150
    err = capsys.readouterr().err
    if enabled:  # importance_weighted_bounds goes 100 images at a time
        assert "eval: IWAE bound, K=2, over 150 images" in err
        assert "100/150 images" in err and "150/150 images" in err
    else:
        assert err == ""


def test_vlae_compare_names_each_model_and_its_stage(tmp_path, monkeypatch, capsys):
    # Training and evaluation are tested elsewhere (tests/models, test_report): here only what is printed.
    def run_fit(config, out, **kw):  # a run folder, with a file that only this training wrote
        run_dir.save_config(out, config)
        (pathlib.Path(out) / "trained").write_text(str(len(list(pathlib.Path(out).iterdir()))))

    monkeypatch.setattr(keras_fit, "run_fit", run_fit)
    monkeypatch.setattr(run_model, "load_model", lambda run: None)
    monkeypatch.setattr(figures, "traversal_grids", lambda model, *args, **kwargs: {})
    monkeypatch.setattr(figures, "side_by_side_traversals", lambda grids, path: None)
    monkeypatch.setattr(figures, "kl_bars", lambda kls, path: None)
    monkeypatch.setattr(report, "evaluate_run_folder", lambda run, options, **kw: {"kl_per_rung": [], "progress": options.progress})
    monkeypatch.setattr(comparison, "markdown", lambda results, title, extra: "REPORT\n")
    monkeypatch.setattr(comparison, "claims", lambda results: {})
    argv = ["--preset", "shapes", "--models", "vlae,lvae", "--budget", "7", "--out", str(tmp_path)]
    assert compare_cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"[1/2] vlae: training 7 steps into {tmp_path / 'vlae'}",
                                         f"[1/2] vlae: evaluating {tmp_path / 'vlae'}",
                                         f"[2/2] lvae: training 7 steps into {tmp_path / 'lvae'}",
                                         f"[2/2] lvae: evaluating {tmp_path / 'lvae'}"]
    assert captured.out.startswith("REPORT")
    (tmp_path / "vlae" / "left_over").write_text("")
    assert compare_cli.main([*argv, "--retrain", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    # --retrain trained each model into a fresh folder: the old run's files are gone (resuming it would train
    # nothing), and when training began the folder held only what run_fit writes first (config.json); then
    # vlae-compare adds train_time.json
    assert sorted(p.name for p in (tmp_path / "vlae").iterdir()) == [run_dir.CONFIG_FILE, "train_time.json", "trained"]
    assert (tmp_path / "vlae" / "trained").read_text() == "1"


def test_vlae_compare_hands_an_existing_run_to_run_fit_which_checks_its_configuration(tmp_path, monkeypatch, capsys):
    # A finished run is not skipped blindly: run_fit returns at once for the same configuration and refuses
    # another one (tests/training/test_fit_runs.py), so old models are never reported under new settings.
    calls = []
    monkeypatch.setattr(keras_fit, "run_fit", lambda config, out, **kw: calls.append((config.model.beta, out)))
    monkeypatch.setattr(run_model, "load_model", lambda run: None)
    monkeypatch.setattr(figures, "traversal_grids", lambda model, *args, **kwargs: {})
    monkeypatch.setattr(figures, "side_by_side_traversals", lambda grids, path: None)
    monkeypatch.setattr(figures, "kl_bars", lambda kls, path: None)
    monkeypatch.setattr(report, "evaluate_run_folder", lambda run, options, **kw: {"kl_per_rung": []})
    monkeypatch.setattr(comparison, "markdown", lambda results, title, extra: "REPORT\n")
    monkeypatch.setattr(comparison, "claims", lambda results: {})
    (tmp_path / "vlae").mkdir()
    (tmp_path / "vlae" / run_dir.MODEL_FILE).write_text("a finished run")
    argv = ["--preset", "shapes", "--models", "vlae", "--budget", "7", "--out", str(tmp_path), "--quiet",
            "--set", "model.beta=4.0"]
    assert compare_cli.main(argv) == 0
    assert calls == [((4.0, 4.0, 4.0), str(tmp_path / "vlae"))]
