"""``vlae-export`` on a run folder, and ``vlae-serve-request`` / ``vlae_tf.serving`` against stand-ins that answer
like TF Serving's REST and gRPC APIs by running the export."""

import os

import numpy as np
import pytest

from export_helpers import IMAGE_SHAPE, LATENT_DIMS, MODEL_NAME
from trainers import export as export_cli
from trainers import serve_request
from vlae_tf import run_dir, serving

H, W, C = IMAGE_SHAPE


def test_vlae_export_writes_the_next_version_and_refuses_an_existing_one(exported, tmp_path, capsys):
    run = tmp_path / "run"
    run_dir.save_config(run, exported.model.config)
    exported.model.save(str(run / run_dir.MODEL_FILE))
    base = tmp_path / "saved_models"
    args = ["--run", str(run), "--name", MODEL_NAME, "--base-dir", str(base), "--max-samples", "64",
            "--traverse-rows", "2"]
    assert export_cli.main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(base / MODEL_NAME / "1")  # stdout: only the path, for scripts
    stages = [line for line in captured.err.splitlines() if line.startswith("export: ")]  # progress: stderr
    assert len(stages) == 3 and "tracing 5 signatures" in stages[1] and "warmup" in stages[2], captured.err
    assert sorted(os.listdir(base / MODEL_NAME / "1" / "assets.extra")) == ["tf_serving_warmup_requests",
                                                                          "vlae_tf.json"]
    assert export_cli.main([*args, "--version", "1"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert export_cli.main(["--run", str(tmp_path / "nope"), "--name", "x"]) == 2
    assert "not found" in capsys.readouterr().err


def request(capsys, *args):
    status = serve_request.main(["--model", MODEL_NAME, *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("form", ["inputs", "instances"])
def test_rest_reconstruction_from_an_image_file(rest_server, exported, tmp_path, capsys, form):
    pixels = np.random.default_rng(0).integers(0, 256, (5, H, W, C), dtype=np.uint8)
    np.savez(tmp_path / "images.npz", x_test=pixels)
    host, port = rest_server.split(":")
    status, out, err = request(capsys, "--host", host, "--port", port, "--form", form, "--images",
                               str(tmp_path / "images.npz"), "--count", "2", "--out", str(tmp_path / "out.npz"),
                               "--png", str(tmp_path / "rec.png"))
    assert status == 0, err
    assert f"reconstruction: shape [2, {H}, {W}, {C}] float32" in out
    got = np.load(tmp_path / "out.npz")["reconstruction"]
    np.testing.assert_allclose(got, exported.model.reconstruct(pixels[:2] / np.float32(255)), atol=1e-6)
    assert (tmp_path / "rec.png").stat().st_size > 0


def test_rest_encode_then_decode_its_means(rest_server, exported, tmp_path, capsys):
    host, port = rest_server.split(":")
    images = np.random.default_rng(1).random((3, H, W, C), dtype=np.float32)
    np.save(tmp_path / "images.npy", images)
    status, out, err = request(capsys, "--host", host, "--port", port, "--signature", "encode", "--images",
                               str(tmp_path / "images.npy"), "--out", str(tmp_path / "codes.npz"))
    assert status == 0, err
    assert f"mean_{len(LATENT_DIMS)}: shape [3, {LATENT_DIMS[-1]}]" in out
    status, out, err = request(capsys, "--host", host, "--port", port, "--signature", "decode", "--codes",
                               str(tmp_path / "codes.npz"), "--out", str(tmp_path / "decoded.npz"))
    assert status == 0, err
    np.testing.assert_allclose(np.load(tmp_path / "decoded.npz")["images"], exported.model.reconstruct(images),
                               atol=1e-5)


def test_rest_sample_is_reproducible_and_errors_reach_the_client(rest_server, capsys):
    outputs = [serving.predict_rest(rest_server, MODEL_NAME, {"num_samples": 4, "seed": [7, 8]}, "sample")
               for _ in range(2)]
    assert outputs[0]["images"].shape == (4, H, W, C)
    np.testing.assert_array_equal(outputs[0]["images"], outputs[1]["images"])
    with pytest.raises(serving.ServingError, match="num_samples must lie in"):
        serving.predict_rest(rest_server, MODEL_NAME, {"num_samples": 65, "seed": [7, 8]}, "sample")
    host, port = rest_server.split(":")
    status, _, err = request(capsys, "--host", host, "--port", port, "--signature", "sample", "--num-samples", "65")
    assert status == 1 and "num_samples must lie in [1, 64]" in err and "Traceback" not in err
    status, _, err = request(capsys, "--host", host, "--port", port, "--signature", "traverse")
    assert status == 2 and "needs --rung" in err


def test_grpc_traverse_and_errors(grpc_server, exported, tmp_path, capsys):
    host, port = grpc_server.split(":")
    status, out, err = request(capsys, "--protocol", "grpc", "--host", host, "--port", port, "--signature",
                               "traverse", "--rung", "2", "--values", "-1", "1", "--png", str(tmp_path / "t.png"))
    assert status == 0, err
    assert f"images: shape [{LATENT_DIMS[1] * exported.traverse_rows * 2}, {H}, {W}, {C}]" in out
    status, _, err = request(capsys, "--protocol", "grpc", "--host", host, "--port", port, "--signature",
                             "traverse", "--rung", "9")
    assert status == 1 and "INVALID_ARGUMENT" in err and "rung must lie in [1, 3]" in err
