"""The ladder every model assembles: its rungs from a ``ModelConfig``, and the two passes over them.

Bottom-up: ``h_0 = x``, ``h_l = f_l(h_{l-1})``. Top-down: ``g_L = u_L(c_L)``,
``g_l = u_l(combine_l(g_{l+1}, v_l(c_l)))``, where ``c_l`` is the code rung l reads: ``z_l`` in a VLAE;
in the VAE and the chain models only the top rung reads a code (their ``z_1``) and no rung injects.
Rungs 1..L-1 are convolutional (each halves the resolution), rung L is fully connected.
"""

from __future__ import annotations

import keras

from vlae_tf.layers.rung import Rung


def feature_shapes(config) -> list[tuple]:
    """Shape (H, W, C) of ``h_l`` for the convolutional rungs l = 1..L-1."""
    height, width, _ = config.image_shape
    return [(height // 2 ** l, width // 2 ** l, c) for l, c in enumerate(config.conv_channels, start=1)]


def make_rungs(config, head_dims, inject: bool, top_code_dim: int, dtype=None) -> list[Rung]:
    """The ``len(conv_channels) + 1`` rungs of ``config`` (built by ``build_rungs``).

    head_dims: per rung, the size of its posterior head (0: none). inject: whether the convolutional rungs
    inject their own code into the top-down path (rungs up to ``broadcast_rungs`` a tiled vector, before or
    with ``late_broadcast`` after their upsampling; the others a dense map) or pass the features through.
    top_code_dim: the size of the code ``u_L`` reads.
    """
    shapes = feature_shapes(config)
    if len(head_dims) != len(shapes) + 1:
        raise ValueError(f"head_dims has {len(head_dims)} entries; the ladder has {len(shapes) + 1} rungs")
    # u_l maps back to h_{l-1}'s channels; u_1 keeps C_1 and the likelihood head maps to the image.
    out_channels = [shapes[0][-1]] + [s[-1] for s in shapes[:-1]] if shapes else []
    common = {"convs": config.convs_per_rung, "dense_units": config.dense_units,
              "activation": config.activation, "dtype": dtype}
    broadcast = "late_broadcast" if config.late_broadcast else "broadcast"
    rungs = []
    for level, (shape, channels, dim) in enumerate(zip(shapes, out_channels, head_dims), start=1):
        injection = "none" if not inject else broadcast if level <= config.broadcast_rungs else "dense"
        rungs.append(Rung(level, shape, channels, latent_dim=dim, code_dim=dim if inject else 0,
                          injection=injection, injection_units=config.dense_injection_units if injection == "dense"
                          else 0, combine=config.combine_of(level),
                          pooled_posterior=config.broadcast_posteriors and injection == broadcast,
                          name=f"rung_{level}", **common))
    top = len(shapes) + 1
    rungs.append(Rung(top, shapes[-1], top=True, latent_dim=head_dims[-1], code_dim=top_code_dim,
                      injection="broadcast" if inject and config.broadcast_top else "none", name=f"rung_{top}", **common))
    return rungs


def build_rungs(rungs, images_shape) -> None:
    """Builds every rung from the images' shape [B, H, W, C], each from the features below it."""
    shape = tuple(images_shape)
    for rung in rungs:
        rung.build(shape)
        shape = rung.compute_output_shape(shape)


def bottom_up(rungs, images) -> list:
    """``[h_1, ..., h_L]`` in the rungs' compute dtype from images [B, H, W, C]."""
    h = keras.ops.cast(images, rungs[0].compute_dtype)
    features = []
    for rung in rungs:
        h = rung.up(h)
        features.append(h)
    return features


def top_down(rungs, codes, fades=None):
    """``g_1`` [B, H, W, C_1] from one code per rung (None where a rung reads none); ``fades``: optional
    per-rung multipliers on the injections (see ``Rung.down``)."""
    fades = fades if fades is not None else [None] * len(rungs)
    g = rungs[-1].down(None, codes[-1], fades[-1])
    for rung, code, fade in reversed(list(zip(rungs[:-1], codes[:-1], fades[:-1]))):
        g = rung.down(g, code, fade)
    return g
