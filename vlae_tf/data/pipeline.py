"""tf.data input pipelines: one function from a config to batched float32 images, for ``fit`` and for
``strategy.distribute_datasets_from_function`` alike.

Every dataset yields only images, float32 [B, H, W, C] in [0, 1] (so ``model.fit(train)`` sees x alone).
Order of work: records -> shard (per input pipeline) -> decode -> cache -> shuffle (train) -> batch ->
scale and binarise (vectorised, per batch) -> prefetch.

Binarisation (``DataConfig.binarize``):
- ``static``: pixels > 0.5 become 1, the rest 0, identically every epoch (a threshold, not a sample).
- ``dynamic``: each pixel is a fresh Bernoulli sample of its intensity every training epoch, seeded
  (``Dataset.random(rerandomize_each_iteration=True)``), so a run is reproducible. The test split gets one
  fixed seeded sample, so validation numbers are comparable across epochs.

Splits: shapes uses seeds ``[seed, 0]`` (train) and ``[seed, 1]`` (test); see each source for the others.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from vlae_tf import presets
from vlae_tf.config import DATASETS, SPLITS, DataConfig, ExperimentConfig
from vlae_tf.data import folder, npz, shapes, tfds_source

# Per-image (H, W, C) used when a bare dataset name is given; None: taken from the data (npz) or required.
DEFAULT_IMAGE_SHAPES = {"shapes": (32, 32, 3), "mnist": (28, 28, 1), "svhn_cropped": (32, 32, 3),
                        "celeb_a": (64, 64, 3), "dsprites": (64, 64, 1), "shapes3d": (64, 64, 3), "npz": None,
                        "folder": None}
CACHE_LIMIT_BYTES = 2 ** 31  # decoded uint8 images up to this size are cached in memory after the first epoch


@dataclasses.dataclass(frozen=True)
class _Source:
    records: tf.data.Dataset  # images (uint8 or float32 [H, W, C]) or, with ``decode``, file paths
    size: int | None  # examples, when known
    decode: Callable | None = None
    cache: bool = False


def _uses_npz(data: DataConfig) -> bool:
    """npz, or a TFDS name whose data_dir is a file (``--dataset mnist --data-dir mnist.npz``)."""
    if data.dataset == "npz":
        return True
    path = data.data_dir
    return bool(data.dataset in tfds_source.TFDS_NAMES and path and
                (os.path.isfile(path) or path.lower().endswith(".npz")))


@functools.lru_cache(maxsize=4)
def _cached_arrays(key: tuple) -> tuple[np.ndarray, dict]:
    """Memoised on what determines the arrays only (not batch size, binarisation...)."""
    kind, split, image_shape = key[:3]
    if kind == "shapes":
        seed, count = key[3:]
        height, width, channels = image_shape
        if height != width or channels != 3:
            raise ValueError(f"shapes draws square RGB images; model.image_shape={tuple(image_shape)} must be "
                             "(S, S, 3), e.g. (32, 32, 3)")
        images, factors = shapes.generate(count, seed=[seed, SPLITS.index(split)], image_size=height)
        targets = {"factors": factors, "factor_names": shapes.FACTOR_NAMES,
                   "factor_sizes": tuple(shapes.FACTOR_SIZES[n] for n in shapes.FACTOR_NAMES)}
    else:
        images, labels = npz.load_npz(key[3], split, image_shape)
        targets = {} if labels is None else {"labels": labels}
    for array in [images, *(v for v in targets.values() if isinstance(v, np.ndarray))]:
        array.flags.writeable = False  # shared by every caller through the memo
    return images, targets


def _arrays(data: DataConfig, image_shape, split: str) -> tuple[np.ndarray, dict]:
    """In-memory sources (shapes, npz): float32 [N, H, W, C] in [0, 1] and targets, memoised read-only."""
    shape = None if image_shape is None else tuple(image_shape)
    if data.dataset == "shapes":
        count = data.num_train if split == "train" else data.num_test
        return _cached_arrays(("shapes", split, shape, data.seed, count))
    path = data.data_dir
    stat = os.stat(path) if os.path.isfile(path) else None  # a rewritten file is read again
    return _cached_arrays(("npz", split, shape, path, stat and (stat.st_size, stat.st_mtime_ns)))


def _source(data: DataConfig, image_shape, split: str, with_targets: bool = False) -> _Source:
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not valid; choose one of {', '.join(SPLITS)}")
    if data.dataset == "shapes" or _uses_npz(data):
        images, targets = _arrays(data, image_shape, split)
        arrays = {k: v for k, v in targets.items() if isinstance(v, np.ndarray)}
        records = tf.data.Dataset.from_tensor_slices((images, arrays) if with_targets else images)
        return _Source(records, len(images))
    if data.dataset == "folder":
        if image_shape is None:
            raise ValueError("the folder dataset needs image_shape (H, W, C): images are resized to it")
        files = folder.split_files(data.data_dir, split)
        nbytes = len(files) * int(np.prod(image_shape))
        return _Source(folder.folder_records(files), len(files), folder.decode_fn(image_shape),
                       cache=nbytes <= CACHE_LIMIT_BYTES)
    if data.dataset in tfds_source.TFDS_NAMES:
        shape = image_shape or DEFAULT_IMAGE_SHAPES[data.dataset]
        records = tfds_source.tfds_records(data.dataset, split, shape, data.data_dir, with_targets)
        size = tfds_source.num_examples(data.dataset, split, data.data_dir)
        return _Source(records, size, cache=size is not None and size * int(np.prod(shape)) <= CACHE_LIMIT_BYTES)
    raise ValueError(f"unknown dataset {data.dataset!r}; valid: {', '.join(DATASETS)}")


def _to_unit_float(images: tf.Tensor) -> tf.Tensor:
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0
    return tf.cast(images, tf.float32)


def _scale_and_binarize(ds: tf.data.Dataset, binarize: str, seed: int, train: bool) -> tf.data.Dataset:
    if binarize == "dynamic":
        # One stateless seed pair per batch: new pairs every training epoch, the same pairs every test epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=train).batch(2)

        def sample(images, pair):
            images = _to_unit_float(images)
            return tf.cast(tf.random.stateless_uniform(tf.shape(images), seed=pair) < images, tf.float32)

        return tf.data.Dataset.zip(ds, seeds).map(sample, num_parallel_calls=tf.data.AUTOTUNE)
    if binarize == "static":
        return ds.map(lambda x: tf.cast(_to_unit_float(x) > 0.5, tf.float32), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(_to_unit_float, num_parallel_calls=tf.data.AUTOTUNE)


def _build(data: DataConfig, image_shape, split: str,
           input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    source = _source(data, image_shape, split)
    train = split == "train"
    batch, seed, size, ds = data.batch_size, data.seed, source.size, source.records
    if input_context is not None:
        batch = input_context.get_per_replica_batch_size(data.batch_size)
        if input_context.num_input_pipelines > 1:
            ds = ds.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
            seed = data.seed + 1_000_003 * input_context.input_pipeline_id  # replicas must not shuffle alike
            if size is not None:
                size = len(range(input_context.input_pipeline_id, size, input_context.num_input_pipelines))
    if train and size is not None and size < batch:
        raise ValueError(f"the {data.dataset} train split has {size} example(s) per input pipeline, fewer than "
                         f"one batch of {batch}; lower data.batch_size or add data")
    if source.decode is not None:
        if train and not source.cache:  # shuffle cheap file paths before the costly decode
            ds = ds.shuffle(size or data.shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        ds = ds.map(source.decode, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
    if source.cache:
        ds = ds.cache()
    if train and (source.decode is None or source.cache):
        ds = ds.shuffle(data.shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch, drop_remainder=train, num_parallel_calls=tf.data.AUTOTUNE)
    ds = _scale_and_binarize(ds, data.binarize, seed, train)
    return ds.prefetch(tf.data.AUTOTUNE)


def build_dataset(config: ExperimentConfig, split: str,
                  input_context: tf.distribute.InputContext | None = None) -> tf.data.Dataset:
    """Batched images of ``split`` ("train" | "test") for ``config``.

    Train is shuffled (seeded, reshuffled every epoch), not repeated, and drops the last partial batch so the
    batch shape is static; test keeps every example, in order. With an ``input_context`` (from
    ``strategy.distribute_datasets_from_function``) the batch is the per-replica share of
    ``data.batch_size`` and this pipeline reads only its shard.

    Returns:
      A ``tf.data.Dataset`` of float32 [B, H, W, C] in [0, 1], (H, W, C) = ``config.model.image_shape``.
    """
    return _build(config.data, config.model.image_shape, split, input_context)


def resolve(name_or_config: Any = "shapes", image_shape=None, **data_overrides: Any) -> tuple[DataConfig, Any]:
    """(DataConfig, image_shape) from a preset name, a dataset name, an ExperimentConfig or a DataConfig.

    ``data_overrides`` replace DataConfig fields (None values are ignored); ``image_shape`` replaces the
    model's. A bare dataset name takes ``DEFAULT_IMAGE_SHAPES`` (npz: the file's own shape).
    """
    overrides = {k: v for k, v in data_overrides.items() if v is not None}
    valid = [f.name for f in dataclasses.fields(DataConfig)]
    if set(overrides) - set(valid):
        raise ValueError(f"unknown data option(s) {sorted(set(overrides) - set(valid))}; valid: {', '.join(valid)}")
    if isinstance(name_or_config, str):
        if name_or_config in presets.names():
            name_or_config = presets.get(name_or_config)
        elif name_or_config in DATASETS:
            name_or_config = DataConfig(**{"dataset": name_or_config, **overrides})
            image_shape = image_shape or DEFAULT_IMAGE_SHAPES[name_or_config.dataset]
        else:
            raise ValueError(f"unknown dataset or preset {name_or_config!r}; valid presets: "
                             f"{', '.join(presets.names())}; valid datasets: {', '.join(DATASETS)}")
    if isinstance(name_or_config, ExperimentConfig):
        data, image_shape = name_or_config.data, image_shape or name_or_config.model.image_shape
    elif isinstance(name_or_config, DataConfig):
        data = name_or_config
        if image_shape is None and data.dataset == "folder":
            raise ValueError("a folder DataConfig does not say the image size; pass image_shape=(H, W, C)")
        image_shape = image_shape or DEFAULT_IMAGE_SHAPES[data.dataset]
    else:
        raise TypeError(f"expected a preset or dataset name, an ExperimentConfig or a DataConfig; "
                        f"got {type(name_or_config).__name__}")
    if overrides:
        data = dataclasses.replace(data, **overrides)
    return data, None if image_shape is None else tuple(int(s) for s in image_shape)


def load(name_or_config: Any = "shapes", batch_size: int | None = None, data_dir: str | None = None,
         image_shape=None, **data_overrides: Any) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """(train, test) datasets of float32 [B, H, W, C] images in [0, 1], ready for ``model.fit``.

    ``name_or_config``: a preset name (``vlae_tf.presets.names()``: its DataConfig and model image_shape),
    a dataset name (``config.DATASETS``), an ExperimentConfig, or a DataConfig (then give ``image_shape``).
    ``batch_size``, ``data_dir`` and ``data_overrides`` (any DataConfig field) override the config.

    Example: ``train, test = load("mnist", data_dir="mnist.npz", batch_size=100)``.
    """
    data, shape = resolve(name_or_config, image_shape, batch_size=batch_size, data_dir=data_dir, **data_overrides)
    return _build(data, shape, "train"), _build(data, shape, "test")


def load_arrays(config_or_name: Any, split: str = "test", max_examples: int | None = None,
                binarize: bool = False, image_shape=None, **data_overrides: Any) -> tuple[np.ndarray, dict]:
    """All (or the first ``max_examples``) images of ``split`` as numpy, with their targets, for evaluation.

    ``config_or_name``, ``image_shape`` and ``data_overrides`` are read as by ``load``.

    Returns:
      images: float32 [N, H, W, C] in [0, 1]; with ``binarize``, binarised as ``data.binarize`` says (static:
        the threshold; dynamic: one Bernoulli sample seeded by ``data.seed``, not the test pipeline's draw).
        Shapes and npz arrays are read-only views of a memoised copy.
      targets: dict with, where the dataset has them, ``labels`` int64 [N] (mnist, svhn_cropped, npz),
        ``factors`` int32 [N, F] with ``factor_names`` and ``factor_sizes`` (shapes, dsprites, shapes3d), or
        ``attributes`` int32 [N, 40] with ``attribute_names`` (celeb_a). Empty for folders.
    """
    data, shape = resolve(config_or_name, image_shape, **data_overrides)
    if data.dataset == "shapes" or _uses_npz(data):
        images, targets = _arrays(data, shape, split)
        targets = {k: (v[:max_examples] if isinstance(v, np.ndarray) else v) for k, v in targets.items()}
        images = images[:max_examples]
    else:
        source = _source(data, shape, split, with_targets=data.dataset != "folder")
        ds = source.records
        if source.decode is not None:
            ds = ds.map(source.decode, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
        if max_examples is not None:
            ds = ds.take(max_examples)
        chunks = list(ds.batch(1024).prefetch(tf.data.AUTOTUNE).as_numpy_iterator())
        if data.dataset == "folder":
            chunks = [(c, {}) for c in chunks]
        if not chunks:
            raise ValueError(f"the {data.dataset} {split} split is empty")
        images = npz.to_unit_float(np.concatenate([c[0] for c in chunks]), data.dataset)
        targets = {k: np.concatenate([c[1][k] for c in chunks]) for k in chunks[0][1]}
        targets.update(tfds_source.target_names(data.dataset, data.data_dir) if data.dataset != "folder" else {})
    if binarize and data.binarize == "static":
        images = (images > 0.5).astype(np.float32)
    elif binarize and data.binarize == "dynamic":
        images = (np.random.default_rng([data.seed, 2]).random(images.shape, np.float32) < images).astype(np.float32)
    return images, targets
