"""The serving signatures of an exported model: validated inside the graph, float32, stateless.

Every input is declared with its shape (``images`` ``[-1, H, W, C]``, ``z_l`` ``[-1, d_l]``, ``seed``
``[2]``, scalars ``[]``), so a client reading the model's metadata (``saved_model_cli show``, TF Serving's
``/metadata``) sees what to send. But TF Serving does not check request shapes against a signature
(tensorflow/serving#1436), and Grappler folds shape checks away when it trusts a placeholder's declared
shape. So each signature first hides the declared shape from the graph (:func:`_unpinned`) and then checks
every input with ``tf.debugging.Assert`` ops: a bad request gets an ``InvalidArgumentError`` naming the
signature, the input, the expected shape and what was sent, which TF Serving passes to the client as
``INVALID_ARGUMENT`` (and ``tf.saved_model.load`` callers get the same error). Outputs carry static shapes.

Signatures (L rungs, latent sizes d_l, images [N, H, W, C] float32 in [0, 1]):

===================  ==============================================  ===================================
name                 inputs                                          outputs
===================  ==============================================  ===================================
``serving_default``  ``images`` [N, H, W, C] float32                 ``reconstruction`` [N, H, W, C]
``encode``           ``images`` [N, H, W, C] float32                 ``mean_l``, ``stddev_l`` [N, d_l]
``decode``           ``z_l`` [N, d_l] float32, every rung l          ``images`` [N, H, W, C]
``sample``           ``num_samples`` [] int32, ``seed`` [2] int32    ``images`` [num_samples, H, W, C]
``traverse``         ``rung`` [] int32 (1..L), ``values`` [K]        ``images`` [d_rung * R * K, H, W, C]
                     float32, ``seed`` [2] int32
===================  ==============================================  ===================================

``traverse`` is ``visualize.traversal_grid(mode="dims")`` as a batch: R = ``traverse_rows`` codes for
every rung are drawn from ``seed`` (:func:`row_codes`); image ``(j * R + r) * K + c`` holds row ``r``'s
codes with dimension ``j + 1`` of the traversed rung set to ``values[c]``, so
``visualize.tile(images, K)`` is the grid. ``sample`` decodes the same prior draws as
``model.generate(num_samples, seed)``.
"""

from __future__ import annotations

import tensorflow as tf

INPUT_DTYPES = {"images": "float32", "values": "float32", "num_samples": "int32", "rung": "int32",
                "seed": "int32"}  # every z_l is float32
OUTPUTS = {"serving_default": "reconstruction", "decode": "images", "sample": "images", "traverse": "images"}
NAMES = ("serving_default", "encode", "decode", "sample", "traverse")


def input_dtype(name: str) -> str:
    """The dtype a signature input of this name takes (``z_1``, ``z_2``, ... are float32)."""
    if name.startswith("z_"):
        return "float32"
    if name not in INPUT_DTYPES:
        raise KeyError(f"no vlae_tf signature has an input named {name!r}; inputs: "
                       f"{', '.join(sorted(INPUT_DTYPES))}, z_1..z_L")
    return INPUT_DTYPES[name]


def row_codes(seed, latent_dims, num_rows) -> list:
    """``[num_rows, d_l]`` float32 prior draws per rung, stateless from a [2] int ``seed``."""
    seeds = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), len(latent_dims)))
    return [tf.random.stateless_normal((num_rows, d), s) for d, s in zip(latent_dims, seeds)]


def _spec(name: str, shape) -> tf.TensorSpec:
    return tf.TensorSpec(shape, input_dtype(name), name=name)


def _unpinned(x) -> tf.Tensor:
    """``x`` with its static shape forgotten: the checks below must test the shape that was sent.

    With the declared shape in view, Grappler would fold ``tf.shape(x)`` to constants and drop the checks
    as always true, while TF Serving feeds whatever shape the request holds. A serialize/parse round trip
    returns the same values with a shape only the runtime knows. (A ``PlaceholderWithDefault`` of unknown
    shape is not enough: the eager function runtime still folds through it for fully known shapes such as
    ``seed`` [2].) The copy costs far less than the network that follows it.
    """
    return tf.io.parse_tensor(tf.io.serialize_tensor(x), x.dtype)


def _has_shape(x, expected) -> tf.Tensor:
    """True when ``x`` has rank ``len(expected)`` and every non-None entry of ``expected`` matches."""
    shape = tf.shape(x)
    rank = len(expected)
    padded = tf.concat([shape, tf.zeros([rank], tf.int32)], 0)[:rank]  # safe to index whatever the rank
    ok = tf.equal(tf.size(shape), rank)
    for i, size in enumerate(expected):
        if size is not None:
            ok = tf.logical_and(ok, tf.equal(padded[i], size))
    return ok


class _Checks:
    """The input checks of one signature call: ``InvalidArgumentError``s that name the signature.

    Grappler may run an assertion after ops that consume the checked tensor, so an input that would make
    one of them fail (a wrong shape, a huge ``num_samples``) must not reach them: with a ``fallback``, the
    tensor is replaced by it unless the check passes, through a data dependency. Only the first failed
    check asserts, so a request with several faults gets one predictable message.
    """

    def __init__(self, signature: str):
        self.signature = signature
        self.valid = tf.constant(True)

    def require(self, x, ok, *message, fallback=None):
        """``x`` (or ``fallback`` unless ``ok``), after an assertion failing with ``message`` unless ``ok``."""
        first_failure = tf.logical_and(self.valid, tf.logical_not(ok))
        self.valid = tf.logical_and(self.valid, ok)
        message = [f"{self.signature}: {message[0]}", *message[1:]]
        check = tf.debugging.Assert(tf.logical_not(first_failure), message, summarize=16)
        with tf.control_dependencies([check]):  # and tf.function runs every assertion (it is stateful)
            x = tf.identity(x)
        if fallback is None:
            return x
        return tf.cond(ok, lambda: x, lambda: tf.cast(fallback, x.dtype))


def _shape_text(shape) -> str:
    return "[" + ", ".join("N" if s is None else str(s) for s in shape) + "]"


class Signatures:
    """The five signature functions of one float32 model, for ``keras.export.ExportArchive``.

    ``max_samples`` bounds the images one ``sample`` or ``traverse`` request may decode; ``traverse_rows``
    is R, the number of random row codes in a traversal.
    """

    def __init__(self, model, max_samples: int, traverse_rows: int):
        self.model = model
        self.latent_dims = tuple(int(d) for d in model.config.model.latent_dims)
        self.image_shape = tuple(int(s) for s in model.config.model.image_shape)
        self.max_samples = int(max_samples)
        self.traverse_rows = int(traverse_rows)
        if self.max_samples < 1 or self.traverse_rows < 1:
            raise ValueError(f"max_samples={max_samples!r} and traverse_rows={traverse_rows!r} must be >= 1")
        if self.traverse_rows * max(self.latent_dims) > self.max_samples:
            raise ValueError(f"traverse_rows={traverse_rows} x {max(self.latent_dims)} dims exceeds "
                             f"max_samples={max_samples}: no traversal could be served")

    def endpoints(self) -> dict:
        """``{name: (fn, input_signature)}`` in ``NAMES`` order."""
        zs = {f"z_{l}": _spec(f"z_{l}", [None, d]) for l, d in enumerate(self.latent_dims, start=1)}
        images, seed = _spec("images", [None, *self.image_shape]), _spec("seed", [2])
        return {
            "serving_default": (self.reconstruct, [images]),
            "encode": (self.encode, [images]),
            "decode": (self.decode, [zs]),
            "sample": (self.sample, [_spec("num_samples", []), seed]),
            "traverse": (self.traverse, [_spec("rung", []), _spec("values", [None]), seed]),
        }

    # -- signatures ---------------------------------------------------------------------------------
    def reconstruct(self, images):
        images = self._images(_Checks("serving_default"), images)
        return {"reconstruction": self._output(self.model.reconstruct(images))}

    def encode(self, images):
        out = {}
        for l, (mean, stddev) in enumerate(self.model.encode(self._images(_Checks("encode"), images)), start=1):
            out[f"mean_{l}"], out[f"stddev_{l}"] = tf.cast(mean, tf.float32), tf.cast(stddev, tf.float32)
        return out

    def decode(self, zs):
        checks, codes = _Checks("decode"), []
        for l, d in enumerate(self.latent_dims, start=1):
            z = _unpinned(zs[f"z_{l}"])
            z = checks.require(z, _has_shape(z, [None, d]), f"z_{l} must be float32 [N, {d}]; got shape", tf.shape(z),
                               fallback=tf.zeros([1, d]))
            z = tf.ensure_shape(z, [None, d])
            if codes:
                n = tf.shape(codes[0])[0]
                z = checks.require(z, tf.equal(tf.shape(z)[0], n), "every z_l must have the same N; z_1 has", n,
                                   f"rows, z_{l} has", tf.shape(z)[0], fallback=tf.zeros([n, d]))
            codes.append(checks.require(z, tf.reduce_all(tf.math.is_finite(z)), f"z_{l} must be finite"))
        return {"images": self._output(self.model.decode(codes))}

    def sample(self, num_samples, seed):
        checks = _Checks("sample")
        num_samples = self._scalar(checks, num_samples, "num_samples", 1, self.max_samples)
        return {"images": self._output(self.model.generate(num_samples, self._seed(checks, seed)))}

    def traverse(self, rung, values, seed):
        checks, num_rungs = _Checks("traverse"), len(self.latent_dims)
        rung = self._scalar(checks, rung, "rung", 1, num_rungs)
        seed = self._seed(checks, seed)
        values = _unpinned(values)
        values = checks.require(values, _has_shape(values, [None]), "values must be float32 [K]; got shape",
                                tf.shape(values), fallback=tf.zeros([1]))
        values = tf.ensure_shape(values, [None])
        finite = tf.logical_and(tf.size(values) > 0, tf.reduce_all(tf.math.is_finite(values)))
        values = checks.require(values, finite, "values must be a non-empty list of finite numbers",
                                fallback=tf.zeros([1]))
        count = self.traverse_rows * tf.gather(tf.constant(self.latent_dims), rung - 1) * tf.size(values)
        values = checks.require(values, count <= self.max_samples, "rows x dims x values =", count,
                                f"images exceeds this export's max_samples={self.max_samples}; send fewer values",
                                fallback=tf.zeros([1]))
        branches = [lambda i=i: self._traverse_rung(i, values, seed) for i in range(num_rungs)]
        return {"images": self._output(tf.switch_case(rung - 1, branches))}

    # -- helpers ------------------------------------------------------------------------------------
    def _traverse_rung(self, index, values, seed):
        """The traversal batch of rung ``index + 1`` (0-based index), layout as in the module docstring."""
        d, rows, k = self.latent_dims[index], self.traverse_rows, tf.size(values)
        zs = [tf.tile(tf.repeat(z, k, axis=0), [d, 1]) for z in row_codes(seed, self.latent_dims, rows)]
        block = tf.repeat(tf.range(d), rows * k)  # image i belongs to dimension block i // (rows * k)
        swept = tf.tile(values, [d * rows])[:, None]  # image i sweeps values[i % k]
        zs[index] = tf.where(tf.one_hot(block, d) > 0, swept, zs[index])
        return self.model.decode(zs)

    def _images(self, checks, images):
        shape, images = self.image_shape, _unpinned(images)
        ok = tf.logical_and(_has_shape(images, [None, *shape]), tf.size(images) > 0)
        images = checks.require(images, ok, f"images must be float32 {_shape_text([None, *shape])} with N >= 1; "
                                "got shape", tf.shape(images), fallback=tf.zeros([1, *shape]))
        images = tf.ensure_shape(images, [None, *shape])
        # Pixels in [0, 255] sent as floats would give a confident, wrong answer: refuse them.
        return checks.require(images, tf.reduce_all(tf.logical_and(images >= 0.0, images <= 1.0)),
                              "images must lie in [0, 1] (divide uint8 pixels by 255); got min",
                              tf.reduce_min(images), "max", tf.reduce_max(images))

    @staticmethod
    def _scalar(checks, x, name, low, high):
        x = _unpinned(x)
        x = checks.require(x, _has_shape(x, []), f"{name} must be a scalar int32; got shape", tf.shape(x),
                           fallback=low)
        x = tf.ensure_shape(x, [])
        return checks.require(x, tf.logical_and(x >= low, x <= high), f"{name} must lie in [{low}, {high}]; got", x,
                              fallback=low)

    @staticmethod
    def _seed(checks, seed):
        seed = _unpinned(seed)
        seed = checks.require(seed, _has_shape(seed, [2]), "seed must be int32 [2]; got shape", tf.shape(seed),
                              fallback=tf.zeros([2]))
        return tf.ensure_shape(seed, [2])

    def _output(self, images):
        return tf.ensure_shape(tf.cast(images, tf.float32), [None, *self.image_shape])
