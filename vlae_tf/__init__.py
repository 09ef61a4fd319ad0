"""vlae_tf: the Variational Ladder Autoencoder (Zhao, Song & Ermon, ICML 2017) in TF 2 / Keras 3 / TFP."""

from vlae_tf import callbacks, config, data, export, presets, serving, visualize
from vlae_tf.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from vlae_tf.models import HVAE, LVAE, VAE, VLAE

__version__ = "0.1.0"

__all__ = ["HVAE", "LVAE", "VAE", "VLAE", "DataConfig", "ExperimentConfig", "ModelConfig", "TrainConfig", "callbacks",
           "config", "data", "export", "presets", "serving", "visualize"]
