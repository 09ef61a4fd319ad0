"""What a request to an exported vlae_tf model is made of, shared by the client (``vlae_tf.serving``) and the
warm-up file an export writes (``vlae_tf.export.warmup``): inputs cast to the signatures' dtypes, gRPC
``PredictRequest`` protos, and the ``tensorflow-serving-api`` modules that define them.
"""

from __future__ import annotations

import types
from typing import Any, Mapping

import numpy as np
import tensorflow as tf

from vlae_tf.export.signatures import INPUT_DTYPES


def as_inputs(inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Arrays in the dtypes the vlae_tf signatures take; inputs of other names keep their own dtype."""
    out = {}
    for name, value in inputs.items():
        dtype = "float32" if name.startswith("z_") else INPUT_DTYPES.get(name)
        out[name] = np.asarray(value, dtype=dtype)
    return out


def grpc_request(model: str, inputs: Mapping[str, Any], signature: str = "serving_default",
                 version: int | None = None):
    """A ``tensorflow_serving.apis.predict_pb2.PredictRequest`` for ``signature`` of ``model``."""
    predict_pb2 = serving_apis().predict_pb2
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, array in as_inputs(inputs).items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(array))
    return request


def serving_apis():
    """The ``tensorflow_serving.apis`` modules used here, or an ImportError saying what to install."""
    try:  # an optional dependency (the 'serving' extra): imported only when a proto is needed
        from tensorflow_serving.apis import predict_pb2, prediction_log_pb2, prediction_service_pb2_grpc
    except ImportError as err:
        raise ImportError("gRPC requests and warm-up files need tensorflow-serving-api: "
                          "pip install 'vlae_tf[serving]'") from err

    return types.SimpleNamespace(predict_pb2=predict_pb2, prediction_log_pb2=prediction_log_pb2,
                                 prediction_service_pb2_grpc=prediction_service_pb2_grpc)
