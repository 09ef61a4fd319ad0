"""One tiny exported model per test worker, and stand-ins for TF Serving's REST and gRPC front ends."""

import json
import re
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keras
import pytest
import tensorflow as tf

from export_helpers import MODEL_NAME, SessionServer, answer_rest, tiny_config
from vlae_tf import export
from vlae_tf.models import VLAE


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """A float32 tiny VLAE and its first export: ``.model``, ``.base_dir``, ``.path`` (version 1)."""
    keras.utils.set_random_seed(1)
    model = VLAE(tiny_config())
    base_dir = tmp_path_factory.mktemp("saved_models") / MODEL_NAME
    path = export.save(model, base_dir, max_samples=64, traverse_rows=2)
    return types.SimpleNamespace(model=model, base_dir=base_dir, path=path, max_samples=64, traverse_rows=2)


@pytest.fixture(scope="session")
def loaded(exported):
    return tf.saved_model.load(exported.path)


@pytest.fixture(scope="session")
def session_server(exported):
    return SessionServer(exported.path)


@pytest.fixture
def rest_server(loaded):
    """``host:port`` of a stub answering like TF Serving's REST API for /v1/models/vlae_tiny."""
    pattern = re.compile(rf"/v1/models/{MODEL_NAME}(/versions/1)?:predict")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if pattern.fullmatch(self.path):
                status, answer = answer_rest(loaded, body)
            else:
                status, answer = 404, {"error": f"Servable not found for request: {self.path}"}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def grpc_server(loaded):
    """``host:port`` of an in-process PredictionService that runs the export, as TF Serving's gRPC API."""
    import grpc
    from concurrent import futures
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):
            if request.model_spec.name != MODEL_NAME:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found: {request.model_spec.name}")
            fn = loaded.signatures[request.model_spec.signature_name or "serving_default"]
            try:
                outputs = fn(**{k: tf.make_ndarray(v) for k, v in request.inputs.items()})
            except tf.errors.InvalidArgumentError as err:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, err.message)
            response = predict_pb2.PredictResponse()
            for name, value in outputs.items():
                response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(None)
