"""Floating-point operations of one training step, counted from the layer shapes.

    python -m benchmarks.flops --preset mnist --batch-size 100

Convention (the count ``benchmarks.throughput`` divides by the measured matrix-multiply rate):

- Only the matrix-multiply-like layers count: ``Conv2D``, ``Conv2DTranspose`` and ``Dense``. Bias adds,
  activations, the KL and likelihood terms and the optimizer update are elementwise and left out (they are
  well under 1% of the total for every preset, but they are not free: they are part of what the fraction of
  the machine's limit measures).
- A multiply-accumulate (MAC) is 2 FLOPs. Per example:
  ``Conv2D``: ``H_out * W_out * kh * kw * C_in / groups * C_out`` MACs (zero padding counted as work);
  ``Conv2DTranspose``: ``H_in * W_in * kh * kw * C_in * C_out`` (each input pixel scatters one kernel);
  ``Dense``: ``(leading positions) * in_features * units``.
- Forward = 2 * MACs. Backward = 2 * MACs for the gradient with respect to the weights, plus 2 * MACs for
  the gradient with respect to the layer's input when that input depends on a trainable variable. The
  layer that reads the images (the first encoder convolution) needs no input gradient, and
  ``tf.function`` prunes it, so it is not counted: its backward is 1x its forward, every other layer's 2x.
- A training step = forward + backward of every counted layer, for the whole batch.

Shapes are read by running ``model.compute_terms`` (what a training step differentiates) once on a batch of
one with every counted layer's ``call`` wrapped; which inputs need a gradient is read from a ``GradientTape`` over that pass.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks import workload  # noqa: E402
from vlae_tf import presets  # noqa: E402
from vlae_tf.config import parse_override  # noqa: E402

COUNTED = (keras.layers.Conv2DTranspose, keras.layers.Conv2D, keras.layers.Dense)


def layer_macs(layer, input_shape, output_shape) -> int:
    """Multiply-accumulates of ``layer`` for ONE example, from its input and output shapes (batch first)."""
    if not isinstance(layer, COUNTED):
        raise TypeError(f"{type(layer).__name__} is not counted; counted: {', '.join(c.__name__ for c in COUNTED)}")
    kernel = tuple(layer.kernel.shape)
    if isinstance(layer, keras.layers.Conv2DTranspose):  # kernel [kh, kw, C_out, C_in]
        kh, kw, c_out, c_in = kernel
        return math.prod(input_shape[1:3]) * kh * kw * c_in * c_out
    if isinstance(layer, keras.layers.Conv2D):  # kernel [kh, kw, C_in / groups, C_out]
        kh, kw, c_in_per_group, c_out = kernel
        return math.prod(output_shape[1:3]) * kh * kw * c_in_per_group * c_out
    return math.prod(input_shape[1:-1]) * kernel[0] * kernel[1]  # Dense: kernel [in, units]


@contextlib.contextmanager
def _recording(model, records: list):
    """Wraps ``call`` of every counted layer of ``model`` to append ``(layer, input, output)`` to ``records``."""
    wrapped = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, COUNTED) and "call" not in vars(layer):
            def call(inputs, *args, _layer=layer, _call=layer.call, **kwargs):
                outputs = _call(inputs, *args, **kwargs)
                records.append((_layer, inputs, outputs))
                return outputs

            object.__setattr__(layer, "call", call)  # bypass Keras' attribute tracking
            wrapped.append(layer)
    try:
        yield
    finally:
        for layer in wrapped:
            object.__delattr__(layer, "call")


def count(model, batch_size: int = 1) -> dict:
    """FLOPs of one training step of ``model`` (a vlae_tf model) on ``batch_size`` images.

    Returns a dict: ``layers`` (one row per counted layer call: ``name``, ``type``, ``input_shape``,
    ``output_shape``, ``macs`` per example, ``input_grad`` whether its input needs a gradient),
    ``forward``, ``backward`` and ``train_step`` FLOPs for the batch, and ``per_example`` (train step / batch).
    """
    images = tf.zeros((1,) + tuple(model.model_config.image_shape), tf.float32)
    records: list = []
    with _recording(model, records), tf.GradientTape(persistent=True) as tape:
        model.compute_terms(images, training=True, step=0)
    variables = model.trainable_variables
    rows, forward, backward = [], 0, 0
    for layer, inputs, outputs in records:
        macs = layer_macs(layer, tuple(inputs.shape), tuple(outputs.shape))
        grads = tape.gradient(inputs, variables, unconnected_gradients=tf.UnconnectedGradients.NONE)
        input_grad = any(g is not None for g in grads)
        forward += 2 * macs
        backward += 2 * macs * (2 if input_grad else 1)
        rows.append({"name": layer.path, "type": type(layer).__name__, "input_shape": list(inputs.shape[1:]),
                     "output_shape": list(outputs.shape[1:]), "macs": macs, "input_grad": input_grad})
    del tape
    return {"layers": rows, "batch_size": batch_size, "forward": forward * batch_size,
            "backward": backward * batch_size, "train_step": (forward + backward) * batch_size,
            "per_example": forward + backward}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="mnist")
    p.add_argument("--batch-size", type=int, help="default: the preset's")
    p.add_argument("--set", action="append", default=[], metavar="section.field=value")
    args = p.parse_args(argv)
    config = presets.get(args.preset, **dict(parse_override(s) for s in args.set))
    result = count(workload.build_model(config), args.batch_size or config.data.batch_size)
    for row in result["layers"]:
        print(f"{row['name']:<34} {row['type']:<16} {str(row['input_shape']):<16} -> {str(row['output_shape']):<16}"
              f" {row['macs'] / 1e6:9.3f} MMAC{'' if row['input_grad'] else '  (no input grad)'}")
    print(json.dumps({k: v for k, v in result.items() if k != "layers"}, indent=2))
    return result


if __name__ == "__main__":
    main()
