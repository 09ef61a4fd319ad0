"""One rung of the ladder as one layer: every part that sits at level l (paper section 4)."""

from __future__ import annotations

import keras

from vlae_tf.layers.blocks import ConvBlock, DenseBlock
from vlae_tf.layers.gaussian_head import GaussianHead
from vlae_tf.layers.injection import Combine, LatentBroadcast, LatentProjection
from vlae_tf.layers.serialization import serializable

INJECTIONS = ("none", "dense", "broadcast", "late_broadcast")


@serializable
class Rung(keras.layers.Layer):
    """Rung ``level`` (1 = nearest the pixels): ``f_l``, ``q_l``, ``v_l``, ``combine_l`` and ``u_l``.

    - ``f`` (f_l), bottom-up: ``h_l = f_l(h_{l-1})``: a ConvBlock halving the grid, or for the top rung a
      DenseBlock of ``dense_units``.
    - ``q`` (q_l), posterior head: ``(mean, stddev) [B, latent_dim] = q_l(h_l)``; None when ``latent_dim`` is
      0 (the VAE and the chain models read only the top rung's features). With ``pooled_posterior`` it reads
      a maximum over the grid instead of the flattened map (``GaussianHead(pooled=True)``).
    - ``v`` (v_l), injection: ``z [B, d] -> [B, *feature_shape]``, a dense map (``"dense"``) or one tiled
      vector (``"broadcast"``), optionally behind a hidden dense layer of ``injection_units``; None with
      ``injection="none"``. ``"late_broadcast"`` tiles the vector over
      u_l's output instead: ``g_l = mix_l(combine_l(u_l(g_{l+1}), v_l(z)))`` with a 1x1 convolution ``mix_l``,
      so nothing spatial follows the code within the rung.
    - ``combine`` (combine_l): joins ``g_{l+1}`` and ``v_l(z)`` (``concat | add | gated_add | film | adain``); it
      says what ``v_l`` must produce (``film``, ``adain``: a linear scale and shift per channel).
    - ``u`` (u_l), top-down: ``g_l = u_l(combine_l(g_{l+1}, v_l(z_l)))``, a ConvBlock doubling the grid to
      ``output_channels``; the top rung's ``u_L`` maps a code ``[B, d]`` straight to ``feature_shape``: a dense
      map, or with ``injection="broadcast"`` one vector tiled over the grid (the top code cannot place anything).

    feature_shape: (H_l, W_l, C_l), the shape of ``h_l``, for a convolutional rung; for the top rung the
    shape of ``h_{L-1}``, which ``u_L`` produces. code_dim: the size of the code the rung reads top-down
    (0: none): its own ``z_l`` in a VLAE, ``z_1`` for the top rung of the chain models.
    """

    def __init__(self, level: int, feature_shape, output_channels: int = 0, top: bool = False, latent_dim: int = 0,
                 code_dim: int = 0, injection: str = "none", injection_units: int = 0, combine: str = "concat",
                 pooled_posterior: bool = False, convs: int = 2, dense_units: int = 512, activation: str = "leaky_relu",
                 **kwargs):
        super().__init__(**kwargs)
        if injection not in INJECTIONS or (top and injection == "dense"):
            valid = "none (u_L maps its code to a feature map) or broadcast (u_L tiles one vector)" if top \
                else ", ".join(INJECTIONS)
            raise ValueError(f"injection={injection!r} is not valid for rung {level}; choose one of {valid}")
        if (top or injection != "none") and code_dim <= 0:
            raise ValueError(f"rung {level} reads a code top-down: code_dim={code_dim!r} must be > 0")
        self.level, self.feature_shape = level, tuple(int(s) for s in feature_shape)
        self.output_channels, self.top = output_channels, top
        self.latent_dim, self.code_dim = latent_dim, code_dim
        self.injection, self.injection_units, self.combine_mode = injection, injection_units, combine
        self.pooled_posterior = pooled_posterior
        self.convs, self.dense_units, self.activation = convs, dense_units, activation
        dtype = self.dtype_policy
        channels = self.feature_shape[-1]
        if top:
            self.f = DenseBlock(dense_units, 2, activation, dtype=dtype, name=f"f_{level}")
        else:
            self.f = ConvBlock(channels, convs, activation, "down", dtype=dtype, name=f"f_{level}")
        self.q = None
        if latent_dim:
            self.q = GaussianHead(latent_dim, spatial=not top, filters=0 if top else channels, activation=activation,
                                  pooled=pooled_posterior, dtype=dtype, name=f"q_{level}")
        self.v = self.combine = self.mix = None
        if injection != "none" and not top:
            self.combine = Combine(combine, dtype=dtype, name=f"combine_{level}")
            injector = LatentProjection if injection == "dense" else LatentBroadcast
            self.v = injector(self._injection_shape(), hidden_units=injection_units, activation=activation,
                              linear_output=self.combine.linear_injection, dtype=dtype, name=f"v_{level}")
        if injection == "late_broadcast":
            self.mix = ConvBlock(output_channels, 1, activation, "same", kernel_size=1, dtype=dtype,
                                 name=f"mix_{level}")
        if top:
            projection = LatentBroadcast if injection == "broadcast" else LatentProjection
            self.u = projection(self.feature_shape, hidden_units=dense_units, activation=activation,
                                dtype=dtype, name=f"u_{level}")
        else:
            self.u = ConvBlock(output_channels, convs, activation, "up", dtype=dtype, name=f"u_{level}")

    def _injection_shape(self) -> tuple:
        """The features ``v_l`` produces: h_l's grid, or u_l's (twice as fine) when the rung injects late, with
        the channels ``combine_l`` needs to join them."""
        height, width, channels = self.feature_shape
        if self.injection == "late_broadcast":
            height, width, channels = 2 * height, 2 * width, self.output_channels
        return (height, width, self.combine.injection_channels(channels))

    def build(self, below_shape):
        """Every part, from the shape of ``h_{l-1}`` [B, ...]."""
        self.f.build(below_shape)
        if self.q is not None:
            self.q.build(self.f.compute_output_shape(below_shape))
        code_shape = (below_shape[0], self.code_dim)
        if self.top:
            self.u.build(code_shape)
            return
        g_shape = (below_shape[0],) + self.feature_shape
        if self.v is not None and self.mix is None:
            g_shape = self._build_injection(code_shape, g_shape)
        self.u.build(g_shape)
        if self.mix is not None:
            self.mix.build(self._build_injection(code_shape, self.u.compute_output_shape(g_shape)))

    def _build_injection(self, code_shape, g_shape):
        """Builds ``v_l`` and ``combine_l`` joining features of ``g_shape``; returns the joined shape."""
        self.v.build(code_shape)
        v_shape = self.v.compute_output_shape(code_shape)
        self.combine.build([g_shape, v_shape])
        return self.combine.compute_output_shape([g_shape, v_shape])

    def up(self, h_below):
        """``h_l = f_l(h_{l-1})``: [B, H_{l-1}, W_{l-1}, C_{l-1}] -> [B, H_l, W_l, C_l] (top: [B, dense_units])."""
        return self.f(h_below)

    def posterior(self, h):
        """``q_l(h_l)``: (mean, stddev), each [B, latent_dim] float32."""
        if self.q is None:
            raise ValueError(f"rung {self.level} has no posterior head (latent_dim=0)")
        return self.q(h)

    def down(self, g_above, z=None, fade=None):
        """``g_l = u_l(combine_l(g_{l+1}, fade * v_l(z)))``; the top rung returns ``u_L(z)`` and ignores g_above.

        g_above: [B, *feature_shape] (None for the top rung); z: [B, d] or None when the rung injects nothing.
        fade: optional multiplier on the injection ([] or [B, 1, 1, 1]), for schedules that fade a rung in; the
        top rung multiplies its code instead ([] or [B, 1]), so that at 0 it gives the constant ``u_L(0)``.
        """
        if self.top:
            return self.u(z if fade is None else z * keras.ops.cast(fade, z.dtype))
        if self.v is None:
            return self.u(g_above)
        v = self.v(z)
        if fade is not None:
            v = v * keras.ops.cast(fade, v.dtype)
        if self.mix is not None:
            return self.mix(self.combine([self.u(g_above), v]))
        return self.u(self.combine([g_above, v]))

    def compute_output_shape(self, below_shape):
        return self.f.compute_output_shape(below_shape)

    def get_config(self):
        return {**super().get_config(), "level": self.level, "feature_shape": self.feature_shape,
                "output_channels": self.output_channels, "top": self.top, "latent_dim": self.latent_dim,
                "code_dim": self.code_dim, "injection": self.injection, "injection_units": self.injection_units,
                "combine": self.combine_mode, "pooled_posterior": self.pooled_posterior, "convs": self.convs,
                "dense_units": self.dense_units, "activation": self.activation}
