"""Input data: tf.data pipelines over the embedded ``shapes`` dataset, keras-layout ``.npz`` files, image
folders and TensorFlow Datasets (mnist, svhn_cropped, celeb_a, dsprites, shapes3d).

    train, test = vlae_tf.data.load("mnist", batch_size=100)       # float32 [B, H, W, C] in [0, 1]
    images, targets = vlae_tf.data.load_arrays("shapes", "test")   # numpy, with ground-truth factors
"""

from vlae_tf.data import folder, npz, shapes, tfds_source
from vlae_tf.data.pipeline import DEFAULT_IMAGE_SHAPES, build_dataset, load, load_arrays, resolve
from vlae_tf.data.tfds_source import DatasetUnavailableError

__all__ = ["DEFAULT_IMAGE_SHAPES", "DatasetUnavailableError", "build_dataset", "folder", "load", "load_arrays",
           "npz", "resolve", "shapes", "tfds_source"]
