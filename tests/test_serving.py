"""Request helpers for TF Serving: REST bodies and gRPC requests built and parsed without a server."""

import json

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from vlae_tf import serving

IMAGES = np.random.default_rng(0).random((2, 4, 4, 1), dtype=np.float32)


def test_inputs_are_cast_to_the_signature_dtypes():
    arrays = serving.as_inputs({"images": IMAGES.astype(np.float64), "z_2": [[1, 2]], "num_samples": 3,
                                "seed": np.array([1, 2], np.int64), "rung": 2.0, "values": [0, 1], "other": [1]})
    assert {k: str(v.dtype) for k, v in arrays.items()} == {
        "images": "float32", "z_2": "float32", "num_samples": "int32", "seed": "int32", "rung": "int32",
        "values": "float32", "other": "int64"}


def test_rest_url():
    assert serving.rest_url("localhost:8501", "vlae_mnist") == "http://localhost:8501/v1/models/vlae_mnist:predict"
    assert serving.rest_url("https://h:1/", "m", version=3) == "https://h:1/v1/models/m/versions/3:predict"


def test_columnar_body_round_trips_through_json():
    body = json.loads(json.dumps(serving.rest_body({"num_samples": 4, "seed": [1, 2]}, "sample")))
    assert body == {"signature_name": "sample", "inputs": {"num_samples": 4, "seed": [1, 2]}}
    body = json.loads(json.dumps(serving.rest_body({"images": IMAGES})))
    np.testing.assert_array_equal(np.asarray(body["inputs"]["images"], np.float32), IMAGES)


def test_row_body_has_one_instance_per_example():
    body = serving.rest_body({"images": IMAGES}, form="instances")
    assert len(body["instances"]) == 2  # a single input: bare values per row
    np.testing.assert_array_equal(np.asarray(body["instances"], np.float32), IMAGES)
    codes = {"z_1": np.zeros((3, 2)), "z_2": np.ones((3, 1))}
    rows = serving.rest_body(codes, "decode", form="instances")["instances"]
    assert rows[1] == {"z_1": [0.0, 0.0], "z_2": [1.0]}


def test_row_form_refuses_unbatched_inputs():
    with pytest.raises(ValueError, match="use form='inputs' for 'sample'"):
        serving.rest_body({"num_samples": 4, "seed": [1, 2]}, "sample", form="instances")
    with pytest.raises(ValueError, match="form='rows' is not valid"):
        serving.rest_body({"images": IMAGES}, form="rows")


@pytest.mark.parametrize("signature,body,expected", [
    ("serving_default", {"outputs": IMAGES.tolist()}, {"reconstruction": IMAGES}),
    ("serving_default", {"predictions": IMAGES.tolist()}, {"reconstruction": IMAGES}),
    ("sample", {"outputs": IMAGES.tolist()}, {"images": IMAGES}),
    ("encode", {"outputs": {"mean_1": [[0.5, 1.0]], "stddev_1": [[1.0, 2.0]]}},
     {"mean_1": np.array([[0.5, 1.0]]), "stddev_1": np.array([[1.0, 2.0]])}),
    ("encode", {"predictions": [{"mean_1": [0.5, 1.0], "stddev_1": [1.0, 2.0]},
                                {"mean_1": [0.0, 0.0], "stddev_1": [3.0, 3.0]}]},
     {"mean_1": np.array([[0.5, 1.0], [0, 0]]), "stddev_1": np.array([[1.0, 2.0], [3, 3]])}),
])
def test_rest_responses_parse_to_named_float32_arrays(signature, body, expected):
    parsed = serving.parse_rest_response(json.dumps(body), signature)
    assert sorted(parsed) == sorted(expected)
    for name, value in expected.items():
        assert parsed[name].dtype == np.float32
        np.testing.assert_allclose(parsed[name], value, rtol=1e-6)


def test_rest_errors_raise_serving_error():
    with pytest.raises(serving.ServingError, match="num_samples must lie"):
        serving.parse_rest_response({"error": "assertion failed: [sample: num_samples must lie in [1, 64]]"})
    with pytest.raises(serving.ServingError, match="not a TF Serving predict response"):
        serving.parse_rest_response({"something": 1})


def test_grpc_request_carries_model_signature_version_and_typed_tensors():
    request = serving.grpc_request("vlae_mnist", {"num_samples": 4, "seed": [1, 2]}, "sample", version=3)
    request = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    assert (request.model_spec.name, request.model_spec.signature_name, request.model_spec.version.value) == \
        ("vlae_mnist", "sample", 3)
    assert request.inputs["num_samples"].dtype == tf.int32.as_datatype_enum
    assert tf.make_ndarray(request.inputs["num_samples"]) == 4
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["seed"]), [1, 2])
    images = serving.grpc_request("m", {"images": IMAGES}).inputs["images"]
    np.testing.assert_array_equal(tf.make_ndarray(images), IMAGES)
    assert not serving.grpc_request("m", {"images": IMAGES}).model_spec.HasField("version")


def test_grpc_response_parses_to_arrays():
    response = predict_pb2.PredictResponse()
    response.outputs["images"].CopyFrom(tf.make_tensor_proto(IMAGES))
    response.outputs["mean_1"].CopyFrom(tf.make_tensor_proto(np.zeros((2, 3), np.float32)))
    parsed = serving.parse_grpc_response(predict_pb2.PredictResponse.FromString(response.SerializeToString()))
    np.testing.assert_array_equal(parsed["images"], IMAGES)
    assert parsed["mean_1"].shape == (2, 3)


def test_unreachable_servers_raise_clear_errors():
    with pytest.raises(OSError):
        serving.predict_rest("127.0.0.1:9", "m", {"images": IMAGES}, timeout=5)
    with pytest.raises(serving.ServingError, match="UNAVAILABLE"):
        serving.predict_grpc("127.0.0.1:9", serving.grpc_request("m", {"images": IMAGES}), timeout=5)
