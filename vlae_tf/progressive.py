"""pro-VLAE progressive training (Li, Murkute, Gyawali & Wang, ICLR 2020), as pure functions of the step.

The ladder is trained top rung first and lower rungs join one at a time. With ``P = model.progressive_steps``
and ``L`` rungs, phase ``p = 0..L-1`` starts at step ``p * P`` and activates rung ``L - p``: phase 0 trains
rung L alone, the last phase (which never ends) trains every rung. Rung l therefore starts at
``s_l = (L - l) * P``. ``model.progressive_phases`` names another order, one phase per rung (rung l starts
at ``phase_l * P``): ``(0, 0, 1)`` trains rungs 1 and 2 first and adds the top rung after one phase.

- Fade-in: the decoder reads rung l's injection as ``alpha_l * v_l(z_l)`` with
  ``alpha_l(t) = clip((t - s_l) / F, 0, 1)``, ``F = model.fade_in_steps`` (None: ``P // 2``; 0: a step at
  ``s_l``).
  An inactive rung has ``alpha_l = 0``: the decoder ignores its code. A rung active from step 0 is never
  faded (pro-VLAE's top rung). A top rung that joins later is faded on its code, ``u_L(alpha_L * z_L)``:
  until it joins the decoder starts from the constant ``u_L(0)``.
  The authors' code (Zhiyuan1991/proVLAE, ``-fadein=True``) also multiplies the new rung's encoder input
  ``h_l`` by alpha; here only the decoder path fades, so ``encode`` is the same at every step.
- "pre-KL": an inactive rung pays ``pre_kl * KL(q(z_l | x) || N(0, I))`` so that its posterior stays at the
  prior until it joins. As in the authors' code (``coff``), that weight is neither multiplied by beta_l nor
  warmed up; an active rung (fading in or not) pays the usual ``w(t) * beta_l * KL_l``.

Everything is a function of the global optimizer step ``t``, so a run resumed from a checkpoint continues
in its phase under ``model.fit`` and the custom loop alike. Non-progressive configs get fades of one and the
usual KL weights.
"""

from __future__ import annotations

import tensorflow as tf

from vlae_tf.config import ModelConfig
from vlae_tf.losses import kl_weight


def enabled(config: ModelConfig) -> bool:
    """Whether ``config`` trains progressively (``model.progressive_steps`` set and positive)."""
    return bool(config.progressive_steps)


def rung_phases(config: ModelConfig) -> list[int]:
    """The phase in which each rung l = 1..L joins: ``model.progressive_phases``, or pro-VLAE's ``L - l``."""
    if config.progressive_phases is not None:
        return list(config.progressive_phases)
    return [config.num_rungs - level for level in range(1, config.num_rungs + 1)]


def rung_starts(config: ModelConfig) -> list[int]:
    """The step at which each rung l = 1..L becomes active, ``phase_l * P``; all 0 without progression."""
    steps = config.progressive_steps or 0
    return [phase_ * steps for phase_ in rung_phases(config)]


def faded_rungs(config: ModelConfig) -> list[int]:
    """The rungs l (1 = nearest the pixels) that fade in: those that do not start at step 0 (none without
    progression; pro-VLAE's top rung, active from the start, never fades)."""
    return [level for level, start in enumerate(rung_starts(config), start=1) if start]


def fade_steps(config: ModelConfig) -> int:
    """``F``: ``model.fade_in_steps``, or half a phase when it is None (resolved here, not in the config, so
    that overriding ``progressive_steps`` alone keeps the default proportional)."""
    if config.fade_in_steps is None:
        return (config.progressive_steps or 0) // 2
    return int(config.fade_in_steps)


def phase(config: ModelConfig, step) -> tf.Tensor:
    """The phase at ``step``: int32 scalar from 0 to the last rung's phase (L-1 without progression)."""
    if not enabled(config):
        return tf.constant(config.num_rungs - 1, tf.int32)
    last = max(rung_phases(config))
    index = tf.cast(step, tf.int64) // config.progressive_steps
    return tf.cast(tf.clip_by_value(index, 0, last), tf.int32)


def _elapsed(config: ModelConfig, step) -> tf.Tensor:
    """Steps since each rung's start (negative before it): [L] int64."""
    return tf.cast(step, tf.int64) - tf.constant(rung_starts(config), tf.int64)


def active(config: ModelConfig, step) -> tf.Tensor:
    """[L] bool: which rungs are trained at ``step`` (all of them without progression)."""
    return _elapsed(config, step) >= 0


def rung_fades(config: ModelConfig, step) -> tf.Tensor:
    """[L] float32 ``alpha_l`` at ``step``: 0 before rung l's start, rising linearly to 1 over ``fade_in_steps``.

    Ones without progression, and always 1 for the rungs active from step 0 (pro-VLAE's top rung): nothing
    is faded in before the first step."""
    if not enabled(config):
        return tf.ones([config.num_rungs], tf.float32)
    elapsed = _elapsed(config, step)
    fade = fade_steps(config)
    if fade:  # int64 difference then a float64 ratio: exact at the steps tests and logs look at
        fades = tf.clip_by_value(tf.cast(elapsed, tf.float64) / float(fade), 0.0, 1.0)
    else:
        fades = tf.cast(elapsed >= 0, tf.float64)
    faded = tf.constant([level in faded_rungs(config) for level in range(1, config.num_rungs + 1)])
    return tf.cast(tf.where(faded, fades, tf.constant(1.0, tf.float64)), tf.float32)


def kl_weights(config: ModelConfig, step) -> tf.Tensor:
    """[L] float32: the weight on each rung's KL at ``step``, ``w(t) * beta_l`` when active, ``pre_kl`` when not.

    Without progression every rung is active: ``w(t) * beta_l``, the usual objective."""
    usual = kl_weight(step, config.warmup_steps) * tf.constant(config.beta, tf.float32)
    if not enabled(config):
        return usual
    return tf.where(active(config, step), usual, tf.fill([config.num_rungs], float(config.pre_kl)))


__all__ = ["active", "enabled", "fade_steps", "faded_rungs", "kl_weights", "phase", "rung_fades", "rung_phases", "rung_starts"]
