"""Reading and writing what a run leaves on disk, below both training loops and the Keras callbacks.

    atomic.py      model and JSON files written under a temporary name, then renamed
    images.py      the figures both loops log, written as TensorBoard images, PNGs and GIFs
    run_model.py   a model built from a run folder's config, or loaded from its model file or checkpoint

``vlae_tf.run_dir`` names the files of a run folder; these modules read and write them.
"""
