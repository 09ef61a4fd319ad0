"""Behaviour every latent-variable model here shares: training steps, metrics, sampling, presets.

A model assembles the shared ladder (``vlae_tf.layers.ladder``: its rungs and the likelihood head) in
``_build_layers`` and defines ``encode(images) -> [(mean, stddev)] per rung``. The defaults here are those of
a model whose rungs are independent a priori, ``p(z) = prod_l N(z_l; 0, I)`` (VLAE, VAE); the chain models
(``models.markov``) override ``_forward``, ``encode`` and ``decode``.
Rungs are numbered 1..L from the pixels up; every per-rung list is in that order.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from vlae_tf import distributions, losses, presets, progressive
from vlae_tf.config import ExperimentConfig, ModelConfig
from vlae_tf.layers import LikelihoodHead, bottom_up, build_rungs, make_rungs, top_down


def as_experiment_config(config: Any) -> ExperimentConfig:
    """Accepts an ExperimentConfig, a ModelConfig, a preset name or a ``to_dict()`` mapping."""
    if config is None:
        return presets.get()
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, ModelConfig):
        return ExperimentConfig(model=config)
    if isinstance(config, str):
        return presets.get(config)
    if isinstance(config, dict):
        return ExperimentConfig.from_dict(config)
    raise TypeError(f"config must be an ExperimentConfig, ModelConfig, preset name or dict, not {type(config)}")


def replica_rows(draw, shape):
    """``draw(shape)`` for this replica's rows of the global batch, so per-example noise is the same on one
    device and on many.

    Under a distribution strategy every replica reads the same seed-generator state, so a plain draw would
    give every replica the same noise. Drawing for the global batch and keeping rows [r * b, (r + 1) * b)
    for replica r (the rows of the global batch that ``fit`` and the custom loop hand it) gives each example
    the noise it gets on a single device. ``draw`` takes a shape; ``shape[0]`` is the per-replica batch.
    """
    context = tf.distribute.get_replica_context()
    replicas = 1 if context is None else context.num_replicas_in_sync
    if replicas == 1:
        return draw(shape)
    shape = tf.cast(shape, tf.int32)
    rows = shape[0]
    full = draw(tf.concat([[rows * replicas], shape[1:]], axis=0))
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * rows
    return full[start:start + rows]


def images_of(data):
    """``fit`` may hand over ``x``, ``(x,)`` or ``(x, y)``; the models only need x."""
    while isinstance(data, (tuple, list)):
        data = data[0]
    return data


class LatentVariableModel(keras.Model):
    """Base of every model: a ``keras.Model`` whose ``train_step`` optimises ``losses.loss_terms``."""

    kind = "base"

    def __init__(self, config: Any = None, **kwargs):
        super().__init__(**kwargs)
        self.config = as_experiment_config(config)
        if self.config.model.kind != self.kind:
            self.config = self.config.with_kind(self.kind)  # a VLAE's schedule, if any, is dropped
        self.model_config = self.config.model
        self._noise = keras.random.SeedGenerator(self.config.train.seed)
        self._build_layers()
        # Progressive training only: the step the fades were last trained at, saved with the model (.keras,
        # checkpoints), so that decode/reconstruct/export use the fades it was trained with. Absent otherwise,
        # so that non-progressive models keep their weights list. float32 like every weight (exact to 2^24
        # steps), so that mixed precision and weight checks treat it like the others.
        self.trained_step = None
        if progressive.enabled(self.model_config):
            self.trained_step = self.add_weight(shape=(), dtype="float32", initializer="zeros", trainable=False,
                                                name="trained_step", aggregation="only_first_replica")
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.term_names}
        self.build((None,) + self.model_config.image_shape)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_preset(cls, name: str = presets.DEFAULT_PRESET, **overrides) -> "LatentVariableModel":
        """``VLAE.from_preset("mnist", **{"model.beta": 2.0})``."""
        return cls(presets.get(name, **{"model.kind": cls.kind, **overrides}))

    def _build_ladder(self, head_dims, inject: bool, top_code_dim: int):
        """The rungs (``self.rungs``) and the likelihood head (``self.likelihood``) shared by every model;
        arguments as ``layers.make_rungs``."""
        cfg = self.model_config
        self.rungs = make_rungs(cfg, head_dims, inject, top_code_dim, dtype=self.dtype_policy)
        self.likelihood = LikelihoodHead(cfg.image_shape[-1], cfg.likelihood, cfg.gaussian_scale, cfg.head_kernel,
                                         dtype=self.dtype_policy, name="likelihood")

    def build(self, input_shape):
        # Run the whole graph once so every weight exists (needed for .keras reload and strategies).
        build_rungs(self.rungs, input_shape)
        self._forward(keras.ops.zeros((1,) + tuple(input_shape[1:])), training=False)
        super().build(input_shape)

    def get_config(self):
        return {"config": self.config.to_dict(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def compile(self, optimizer=None, **kwargs):
        """Adam at the config's learning rate (clipped to ``train.clip_norm``, as in both training loops) unless
        an optimizer is given."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(self.config.train.learning_rate,
                                              global_clipnorm=self.config.train.clip_norm)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        # Keras skips re-compiling models that override compile(); restore the optimizer ourselves.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # -- sampling helpers ---------------------------------------------------------------------------
    @property
    def num_rungs(self) -> int:
        return self.model_config.num_rungs

    @property
    def term_names(self) -> list[str]:
        names = ["loss", "elbo", "recon", "kl"] + [f"kl/rung_{r}" for r in range(1, self.num_rungs + 1)]
        if progressive.enabled(self.model_config):  # the schedule, logged with the terms by both loops
            names += [f"fade/rung_{r}" for r in progressive.faded_rungs(self.model_config)] + ["phase"]
        return names

    def _normal(self, shape, seed=None, dtype="float32"):
        """N(0, I) noise: from the model's seed generator, or stateless from a [2] int ``seed``."""
        if seed is None:
            return replica_rows(lambda s: keras.random.normal(s, seed=self._noise, dtype=dtype), shape)
        return tf.random.stateless_normal(shape, tf.cast(seed, tf.int32), dtype=dtype)

    def _reparameterize(self, mean, stddev, seed=None):
        return mean + stddev * self._normal(tf.shape(mean), seed)

    def _rung_seeds(self, seed):
        """One stateless seed per rung split from a [2] int ``seed``, or None per rung (the model's generator)."""
        if seed is None:
            return [None] * self.num_rungs
        return tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), self.num_rungs))

    # -- public API ---------------------------------------------------------------------------------
    def features(self, images):
        """Bottom-up ``[h_1, ..., h_L]`` in the compute dtype, one per rung of the ladder."""
        return bottom_up(self.rungs, images)

    def likelihood_params(self, zs):
        """The parameters of ``p(x | z)``: (raw decoder output [N, H, W, C] float32, log scale [C] float32 or
        None). zs: one code [N, d_l] per latent rung. Feed both to ``distributions.image_likelihood``."""
        fades = self.rung_fades()
        fades = None if fades is None else tf.unstack(fades)
        return self.likelihood(top_down(self.rungs, self._decoder_codes(zs), fades)), self.likelihood.log_scale()

    def rung_fades(self):
        """Progressive training: [L] float32 multipliers on the rungs' injections at the last trained step
        (``vlae_tf.progressive.rung_fades``); None without progression (no multiplier at all)."""
        if self.trained_step is None:
            return None
        return progressive.rung_fades(self.model_config, self.trained_step)

    def _decoder_codes(self, zs):
        """The code each ladder rung reads top-down: without injections only the top rung reads one, z_1."""
        return [None] * (len(self.rungs) - 1) + [zs[0]]

    def encode(self, images):
        raise NotImplementedError(f"{type(self).__name__} must define encode")

    def decode(self, zs, num_samples=None, seed=None):
        """Images [N, H, W, C] in [0, 1] from one code per rung; ``None`` rungs are drawn from the prior.

        zs: list of L entries, each [N, d_l] or None. ``num_samples`` is needed only when every entry
        is None. ``seed`` ([2] int) makes the prior draws stateless and reproducible.
        """
        zs = self._complete_codes(zs, num_samples, seed)
        return distributions.image_mean(self.model_config.likelihood, self.likelihood_params(zs)[0])

    def _complete_codes(self, zs, num_samples=None, seed=None):
        zs = list(zs) if zs is not None else [None] * self.num_rungs
        if len(zs) != self.num_rungs:
            raise ValueError(f"decode needs one code (or None) per rung: got {len(zs)}, the model has "
                             f"{self.num_rungs} rungs")
        if num_samples is None:
            given = [z for z in zs if z is not None]
            if not given:
                raise ValueError("decode with every rung None needs num_samples")
            num_samples = tf.shape(given[0])[0]
        return [tf.cast(z, tf.float32) if z is not None else self._normal((num_samples, dim), s)
                for z, dim, s in zip(zs, self.model_config.latent_dims, self._rung_seeds(seed))]

    def reconstruct(self, images):
        """Decode of the posterior means: [N, H, W, C] in [0, 1]."""
        return self.decode([mean for mean, _ in self.encode(images)])

    def generate(self, num_samples: int, seed=None):
        """Samples from the model, every rung drawn from the prior: [num_samples, H, W, C]."""
        return self.decode([None] * self.num_rungs, num_samples=num_samples, seed=seed)

    def call(self, images, training=False):
        return self.reconstruct(images)

    # -- objective ----------------------------------------------------------------------------------
    def corrupt(self, images):
        """Denoising training: salt-and-pepper then Gaussian noise on the input (not the target)."""
        cfg = self.model_config
        if cfg.salt_pepper > 0:
            def uniform(shape):
                return replica_rows(lambda s: keras.random.uniform(s, seed=self._noise), shape)

            u = uniform(tf.shape(images))
            salt = tf.cast(uniform(tf.shape(images)) > 0.5, images.dtype)
            images = tf.where(u < cfg.salt_pepper, salt, images)
        if cfg.input_noise > 0:
            images = images + cfg.input_noise * self._normal(tf.shape(images), dtype=images.dtype)
        return images

    def _forward(self, images, training=False):
        """One reparameterised pass: dict of ``params`` (raw decoder output), and per rung ``z_per_rung``,
        ``posteriors`` and ``kl_per_rung`` ([B] each, analytic ``KL(q(z_l | x) || N(0, I))``)."""
        posteriors = self.encode(images)
        zs = [self._reparameterize(mean, stddev) for mean, stddev in posteriors]
        return {"params": self.likelihood_params(zs)[0], "z_per_rung": zs, "posteriors": posteriors,
                "kl_per_rung": [distributions.kl_to_standard_normal(m, s) for m, s in posteriors]}

    def compute_terms(self, images, training=False, step=None) -> dict:
        """Per-example loss terms [B] float32 (see ``losses.loss_terms``) for a batch of images."""
        images = tf.cast(images, tf.float32)
        inputs = self.corrupt(images) if training else images
        step = self.optimizer.iterations if step is None and self.optimizer is not None else step
        step = step if step is not None else 0
        weights = None
        if self.trained_step is not None:
            if training:  # before the forward pass, which reads the fades from it
                self.trained_step.assign(tf.cast(step, tf.float32))
            weights = progressive.kl_weights(self.model_config, step)
        out = self._forward(inputs, training=training)
        terms = losses.loss_terms(self.model_config, images, out["params"], out["kl_per_rung"], out["z_per_rung"],
                                  step, self.likelihood.log_scale(), rung_kl_weights=weights)
        if self.trained_step is not None:
            ones = tf.ones_like(terms["recon"])  # per example, like every term, so both loops average them
            fades = tf.unstack(self.rung_fades())
            for rung in progressive.faded_rungs(self.model_config):
                terms[f"fade/rung_{rung}"] = fades[rung - 1] * ones
            terms["phase"] = tf.cast(progressive.phase(self.model_config, self.trained_step), tf.float32) * ones
        return terms

    def train_step(self, data):
        images = images_of(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape() as tape:
            terms = self.compute_terms(images, training=True)
            # Keras sums gradients over replicas, so each replica contributes its share of the mean.
            loss = tf.reduce_mean(terms["loss"]) / replicas
            scaled = self.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return self._update_trackers(terms)

    def test_step(self, data):
        return self._update_trackers(self.compute_terms(images_of(data), training=False))

    def _update_trackers(self, terms):
        for name, tracker in self._trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    @property
    def metrics(self):
        return list(self._trackers.values())
