"""The package every vlae_tf layer and model registers under, so ``.keras`` files name them unambiguously."""

from __future__ import annotations

import keras

PACKAGE = "vlae_tf"


def serializable(cls):
    """Class decorator: ``keras.saving.register_keras_serializable`` in the vlae_tf package."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(cls)
