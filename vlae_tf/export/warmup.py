"""TF Serving's warm-up file: ``<version>/assets.extra/tf_serving_warmup_requests``.

A TFRecord file of ``PredictionLog`` records; TF Serving replays them when it loads a version, before the
version takes traffic, so the first real request does not pay for graph initialisation
(https://www.tensorflow.org/tfx/serving/saved_model_warmup). One small request per signature.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from vlae_tf.export.predict_requests import grpc_request, serving_apis

ASSETS_EXTRA = "assets.extra"
WARMUP_FILE = "tf_serving_warmup_requests"


def warmup_inputs(image_shape, latent_dims) -> dict[str, dict[str, np.ndarray]]:
    """``{signature: inputs}``: one valid, small request for each signature."""
    return {
        "serving_default": {"images": np.full((1, *image_shape), 0.5, np.float32)},
        "encode": {"images": np.full((1, *image_shape), 0.5, np.float32)},
        "decode": {f"z_{l}": np.zeros((1, d), np.float32) for l, d in enumerate(latent_dims, start=1)},
        "sample": {"num_samples": np.int32(1), "seed": np.zeros(2, np.int32)},
        "traverse": {"rung": np.int32(1), "values": np.zeros(1, np.float32), "seed": np.zeros(2, np.int32)},
    }


def write_warmup(saved_model_dir, model_name: str, requests: dict[str, dict]) -> str:
    """Writes ``requests`` (``{signature: inputs}``) as PredictionLog records; returns the file's path."""
    prediction_log_pb2 = serving_apis().prediction_log_pb2
    folder = os.path.join(saved_model_dir, ASSETS_EXTRA)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, WARMUP_FILE)
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests.items():
            log = prediction_log_pb2.PredictionLog()
            log.predict_log.request.CopyFrom(grpc_request(model_name, inputs, signature))
            writer.write(log.SerializeToString())
    return path


def read_warmup(saved_model_dir) -> list[tuple[str, dict[str, np.ndarray]]]:
    """``[(signature, inputs)]`` from a version folder's warm-up file, in file order."""
    prediction_log_pb2 = serving_apis().prediction_log_pb2
    path = os.path.join(saved_model_dir, ASSETS_EXTRA, WARMUP_FILE)
    requests = []
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        requests.append((request.model_spec.signature_name,
                         {name: tf.make_ndarray(proto) for name, proto in request.inputs.items()}))
    return requests
