"""Requests to a TF Serving model exported by ``vlae_tf.export``: REST bodies, gRPC ``PredictRequest``s, and
the responses parsed back to numpy arrays.

Nothing here needs a running server to build or parse a request; ``predict_rest`` and ``predict_grpc`` send
one. Inputs are cast to the dtypes the signatures declare (``images``, ``z_l``, ``values`` float32;
``num_samples``, ``rung``, ``seed`` int32), so a client never trips over TF's dtype check. gRPC needs the
``tensorflow-serving-api`` package (``pip install vlae_tf[serving]``).

REST forms (https://www.tensorflow.org/tfx/serving/api_rest):

- ``inputs`` (columnar): ``{"signature_name": s, "inputs": {name: nested list}}``; works for every signature,
  scalars included. The response is ``{"outputs": value}`` for one output, ``{"outputs": {name: value}}``
  for several.
- ``instances`` (row): one entry per example along the batch axis, so every input needs the same first
  dimension (``serving_default``, ``encode``, ``decode``; not ``sample`` or ``traverse``). The response is
  ``{"predictions": [...]}``: per-row values for one output, per-row ``{name: value}`` for several.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Mapping

import numpy as np
import tensorflow as tf

# grpc_request is part of this client's API (vlae-serve-request builds its gRPC requests with it)
from vlae_tf.export.predict_requests import as_inputs, grpc_request, serving_apis
from vlae_tf.export.signatures import OUTPUTS

REST_PORT = 8501
GRPC_PORT = 8500
FORMS = ("inputs", "instances")
_GRPC_OPTIONS = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]


class ServingError(RuntimeError):
    """TF Serving refused a request; ``status`` is the HTTP status or the gRPC code name."""

    def __init__(self, message: str, status: Any = None):
        super().__init__(f"{status}: {message}" if status is not None else message)
        self.status = status


def output_name(signature: str) -> str:
    """The name of a single-output signature's output (TF Serving's REST responses leave it out)."""
    return OUTPUTS.get(signature, "output")


# -- REST -------------------------------------------------------------------------------------------
def rest_url(address: str, model: str, version: int | None = None, verb: str = "predict") -> str:
    """``http://host:port/v1/models/<model>[/versions/<v>]:predict``; ``address`` is ``host:port``."""
    address = address if "://" in address else f"http://{address}"
    path = f"/v1/models/{model}" + (f"/versions/{int(version)}" if version is not None else "")
    return f"{address.rstrip('/')}{path}:{verb}"


def rest_body(inputs: Mapping[str, Any], signature: str = "serving_default", form: str = "inputs") -> dict:
    """The JSON body (a dict, for ``json.dumps``) of a predict request in ``form`` ``inputs`` or ``instances``."""
    if form not in FORMS:
        raise ValueError(f"form={form!r} is not valid; choose one of {', '.join(FORMS)}")
    arrays = as_inputs(inputs)
    if not arrays:
        raise ValueError("a request needs at least one input")
    body = {"signature_name": signature}
    if form == "inputs":
        body["inputs"] = {name: a.tolist() for name, a in arrays.items()}
        return body
    lengths = {name: (len(a) if a.ndim else None) for name, a in arrays.items()}
    if None in lengths.values() or len(set(lengths.values())) != 1:
        raise ValueError(f"form='instances' needs every input batched along the same first axis; got "
                         f"{ {n: a.shape for n, a in arrays.items()} }: use form='inputs' for {signature!r}")
    if len(arrays) == 1:
        body["instances"] = next(iter(arrays.values())).tolist()
    else:
        n = next(iter(lengths.values()))
        body["instances"] = [{name: a[i].tolist() for name, a in arrays.items()} for i in range(n)]
    return body


def parse_rest_response(body: Any, signature: str = "serving_default") -> dict[str, np.ndarray]:
    """``{output name: float32/int array}`` from a REST predict response (dict, JSON text or bytes).

    Raises ``ServingError`` for an ``{"error": ...}`` body.
    """
    if isinstance(body, (str, bytes, bytearray)):
        body = json.loads(body)
    if "error" in body:
        raise ServingError(body["error"])
    if "outputs" in body:
        outputs = body["outputs"]
        if isinstance(outputs, dict):
            return {name: _array(value) for name, value in outputs.items()}
        return {output_name(signature): _array(outputs)}
    if "predictions" in body:
        rows = body["predictions"]
        if rows and isinstance(rows[0], dict):
            return {name: _array([row[name] for row in rows]) for name in rows[0]}
        return {output_name(signature): _array(rows)}
    raise ServingError(f"not a TF Serving predict response: keys {sorted(body)}")


def predict_rest(address: str, model: str, inputs: Mapping[str, Any], signature: str = "serving_default",
                 version: int | None = None, form: str = "inputs", timeout: float = 30.0) -> dict[str, np.ndarray]:
    """POSTs one predict request to TF Serving's REST API at ``address`` (``host:port``) and parses the answer."""
    data = json.dumps(rest_body(inputs, signature, form)).encode()
    request = urllib.request.Request(rest_url(address, model, version), data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return parse_rest_response(response.read(), signature)
    except urllib.error.HTTPError as err:
        text = err.read().decode(errors="replace")
        try:
            message = json.loads(text).get("error", text)
        except ValueError:
            message = text
        raise ServingError(message, err.code) from None


# -- gRPC -------------------------------------------------------------------------------------------
def parse_grpc_response(response) -> dict[str, np.ndarray]:
    """``{output name: array}`` from a ``PredictResponse``."""
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def predict_grpc(address: str, request, timeout: float = 30.0) -> dict[str, np.ndarray]:
    """Sends a ``PredictRequest`` to TF Serving's gRPC API at ``address`` (``host:port``)."""
    import grpc  # optional (the 'serving' extra), needed only to send gRPC requests

    apis = serving_apis()
    with grpc.insecure_channel(address, options=_GRPC_OPTIONS) as channel:
        stub = apis.prediction_service_pb2_grpc.PredictionServiceStub(channel)
        try:
            return parse_grpc_response(stub.Predict(request, timeout=timeout))
        except grpc.RpcError as err:
            raise ServingError(err.details(), err.code().name) from None


def _array(value) -> np.ndarray:
    array = np.asarray(value)
    return array.astype(np.float32) if array.dtype == np.float64 else array
