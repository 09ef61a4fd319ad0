"""What the export tests share: the tiny model's shape, and TF Serving's two ways of running a request."""

import numpy as np
import tensorflow as tf

from tests.tiny_configs import IMAGE_SHAPE, tiny_config as shared_tiny_config

LATENT_DIMS = (2, 3, 4)  # unequal, so a code sent to the wrong rung is caught
MODEL_NAME = "vlae_tiny"


def tiny_config(**overrides):
    return shared_tiny_config(**{"model.latent_dims": LATENT_DIMS, **overrides})


class SessionServer:
    """Calls signatures the way TF Serving does: a TF1 session over the SavedModel's MetaGraph, fed by
    tensor name with the request's tensors as they are (no Python-side shape or dtype conversion)."""

    def __init__(self, path):
        self.session = tf.compat.v1.Session(graph=tf.Graph())
        with self.session.graph.as_default():
            self.meta_graph = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], path)

    def run(self, signature, inputs):
        sig = self.meta_graph.signature_def[signature]
        graph = self.session.graph
        feeds = {graph.get_tensor_by_name(sig.inputs[name].name)._as_tf_output(): np.asarray(value)
                 for name, value in inputs.items()}
        names = sorted(sig.outputs)
        fetches = [graph.get_tensor_by_name(sig.outputs[name].name)._as_tf_output() for name in names]
        return dict(zip(names, self.session._call_tf_sessionrun(None, feeds, fetches, [], None)))


def _dtype(spec):
    return spec.dtype.as_numpy_dtype


def answer_rest(loaded, body):
    """(status, response body) of TF Serving's REST predict API for ``body``, computed by ``loaded``."""
    signature = body.get("signature_name", "serving_default")
    if signature not in loaded.signatures:
        return 400, {"error": f"Serving signature name: \"{signature}\" not found in signature def"}
    fn = loaded.signatures[signature]
    specs = fn.structured_input_signature[1]
    if "instances" in body:
        rows = body["instances"]
        if rows and isinstance(rows[0], dict):
            inputs = {name: [row[name] for row in rows] for name in rows[0]}
        else:
            inputs = {next(iter(specs)): rows}
    else:
        inputs = body["inputs"] if isinstance(body["inputs"], dict) else {next(iter(specs)): body["inputs"]}
    try:
        tensors = {name: tf.constant(np.asarray(value, _dtype(specs[name]))) for name, value in inputs.items()}
        outputs = {name: value.numpy() for name, value in fn(**tensors).items()}
    except (tf.errors.InvalidArgumentError, KeyError, TypeError, ValueError) as err:
        return 400, {"error": getattr(err, "message", str(err))}
    if "instances" in body:
        if len(outputs) == 1:
            return 200, {"predictions": next(iter(outputs.values())).tolist()}
        n = len(next(iter(outputs.values())))
        return 200, {"predictions": [{k: v[i].tolist() for k, v in outputs.items()} for i in range(n)]}
    if len(outputs) == 1:
        return 200, {"outputs": next(iter(outputs.values())).tolist()}
    return 200, {"outputs": {k: v.tolist() for k, v in outputs.items()}}
