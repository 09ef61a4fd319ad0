"""Every signature input declares its shape, so a client can read what to send from the model's metadata."""

import tensorflow as tf

from export_helpers import IMAGE_SHAPE, LATENT_DIMS

IMAGES = [None, *IMAGE_SHAPE]
DECLARED = {  # {signature: {input: shape}}, None for the batch (or K) dimension
    "serving_default": {"images": IMAGES},
    "encode": {"images": IMAGES},
    "decode": {f"z_{l}": [None, d] for l, d in enumerate(LATENT_DIMS, 1)},
    "sample": {"num_samples": [], "seed": [2]},
    "traverse": {"rung": [], "values": [None], "seed": [2]},
}


def test_loaded_signatures_declare_every_input_shape(loaded):
    for signature, shapes in DECLARED.items():
        args, kwargs = loaded.signatures[signature].structured_input_signature
        assert args == ()
        assert {name: spec.shape.as_list() for name, spec in kwargs.items()} == shapes, signature


def test_the_signature_defs_tf_serving_reads_declare_them_too(session_server):
    # TF Serving's /metadata returns these SignatureDefs (saved_model_cli show prints them: see its test).
    # That the in-graph checks still test the shape actually sent is test_export_requests' session path.
    for signature, shapes in DECLARED.items():
        inputs = session_server.meta_graph.signature_def[signature].inputs
        got = {name: tf.TensorShape(info.tensor_shape).as_list() for name, info in inputs.items()}
        assert got == shapes, signature

