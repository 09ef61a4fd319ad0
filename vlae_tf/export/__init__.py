"""SavedModel export for TF Serving: named, validated, stateless signatures in the versioned layout.

``vlae_tf.export.save(model, "saved_models/vlae_mnist")`` writes ``saved_models/vlae_mnist/<version>/``::

    saved_model.pb, variables/           the graph and weights; loads without vlae_tf (or Keras) installed
    assets.extra/tf_serving_warmup_requests   one PredictionLog per signature, replayed by TF Serving on load
    assets.extra/vlae_tf.json            the ExperimentConfig and export settings, for people and tools

Signatures: ``serving_default`` (reconstruct), ``encode``, ``decode``, ``sample`` and ``traverse``; their
inputs, outputs and checks are documented in :mod:`vlae_tf.export.signatures`. The export always computes
in float32: the model is rebuilt from its config under the float32 policy and given the trained weights
(which mixed precision keeps in float32 anyway), so a model trained with ``mixed_float16`` or
``mixed_bfloat16`` serves float32 images like any other.
"""

from __future__ import annotations

import json
import os
import sys

import keras

from vlae_tf.export import version_folders
from vlae_tf.export.model_config import models_config
from vlae_tf.export.predict_requests import serving_apis
from vlae_tf.export.signatures import NAMES, OUTPUTS, Signatures, input_dtype, row_codes
from vlae_tf.export.version_folders import next_version, versions
from vlae_tf.export.warmup import ASSETS_EXTRA, WARMUP_FILE, read_warmup, warmup_inputs, write_warmup

INFO_FILE = "vlae_tf.json"
DEFAULT_MAX_SAMPLES = 1024  # images one sample/traverse request may decode: bounds a request's memory
DEFAULT_TRAVERSE_ROWS = 8  # random row codes per traversal, as visualize.traversal_grid's num_rows


def save(model, base_dir, version: int | None = None, *, max_samples: int = DEFAULT_MAX_SAMPLES,
         traverse_rows: int = DEFAULT_TRAVERSE_ROWS, warmup: bool = True, verbose: bool = True) -> str:
    """Exports ``model`` (a vlae_tf model) to ``<base_dir>/<version>/`` and returns that folder.

    ``version=None`` takes the next free integer; an existing version is never overwritten. The folder is
    written under a temporary name and renamed when complete. The model name recorded in the warm-up
    requests is ``base_dir``'s last component, the name TF Serving serves it under by convention.
    ``warmup=True`` needs the ``tensorflow-serving-api`` package (``pip install 'vlae_tf[serving]'``).
    ``verbose`` prints each stage to stderr as it starts (tracing five signatures takes tens of seconds), as
    Keras' own ``model.export`` reports by default; stdout stays free for the caller (vlae-export prints
    only the version folder there, for scripts).
    """

    def stage(text):
        if verbose:
            print(f"export: {text}", file=sys.stderr, flush=True)

    if not all(hasattr(model, name) for name in ("config", "encode", "decode", "generate", "reconstruct")):
        raise TypeError(f"vlae_tf.export.save takes a vlae_tf model (VLAE, HVAE or VAE), not {type(model).__name__}")
    base_dir = os.fspath(base_dir)
    if warmup:
        serving_apis()  # tensorflow-serving-api writes the warm-up records: fail before exporting
    model_name = os.path.basename(os.path.normpath(base_dir))
    stage("rebuilding the model in float32 with its trained weights")
    serving_model = float32_copy(model)
    signatures = Signatures(serving_model, max_samples, traverse_rows)  # validates the settings first
    config = serving_model.config.model

    def write(folder):
        stage(f"tracing {len(NAMES)} signatures ({', '.join(NAMES)}) and writing the SavedModel")
        archive = keras.export.ExportArchive()
        archive.track(serving_model)
        for name, (fn, input_signature) in signatures.endpoints().items():
            archive.add_endpoint(name, fn, input_signature)
        archive.write_out(folder, verbose=False)
        if warmup:
            stage(f"writing {ASSETS_EXTRA}/{WARMUP_FILE}")
            write_warmup(folder, model_name, warmup_inputs(config.image_shape, config.latent_dims))
        info = {"model_name": model_name, "signatures": list(NAMES), "max_samples": signatures.max_samples,
                "traverse_rows": signatures.traverse_rows, "config": serving_model.config.to_dict()}
        os.makedirs(os.path.join(folder, ASSETS_EXTRA), exist_ok=True)
        with open(os.path.join(folder, ASSETS_EXTRA, INFO_FILE), "w") as f:
            json.dump(info, f, indent=2, sort_keys=True)

    return version_folders.publish(base_dir, write, version)


def float32_copy(model):
    """The same model rebuilt from its config under the float32 policy, holding ``model``'s weights."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        copy = type(model).from_config(model.get_config())
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    return copy


__all__ = ["ASSETS_EXTRA", "DEFAULT_MAX_SAMPLES", "DEFAULT_TRAVERSE_ROWS", "INFO_FILE", "NAMES", "OUTPUTS",
           "WARMUP_FILE", "Signatures", "float32_copy", "input_dtype", "models_config", "next_version",
           "read_warmup", "row_codes", "save", "versions", "warmup_inputs", "write_warmup"]
