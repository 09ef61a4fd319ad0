"""pro-VLAE progressive training (vlae_tf/progressive.py and the VLAE option): the schedule at known steps,
the decoder ignoring inactive rungs, the pre-KL weights, save/reload and resume mid-progression, and
non-progressive models unchanged."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.models.harness import run_model_test
from tests.tiny_configs import TINY, tiny_config, tiny_images
from vlae_tf import export, losses, presets, progressive
from vlae_tf.config import ModelConfig
from vlae_tf.models import HVAE, LVAE, VAE, VLAE
from vlae_tf.training import Trainer

# Phases of 10 steps, fades of 4: rung 3 from step 0, rung 2 from 10 (full at 14), rung 1 from 20 (full at 24).
SCHEDULE = {"model.progressive_steps": 10, "model.fade_in_steps": 4}


def _model(seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    return VLAE(tiny_config(**{**SCHEDULE, **overrides}))


def _codes(seed=0, n=4, dims=(3, 3, 3)):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, d)).astype("float32") for d in dims]


@pytest.mark.parametrize("step,fades,phase", [
    (0, [0, 0, 1], 0), (9, [0, 0, 1], 0), (10, [0, 0, 1], 1), (11, [0, 0.25, 1], 1), (12, [0, 0.5, 1], 1),
    (13, [0, 0.75, 1], 1), (14, [0, 1, 1], 1), (19, [0, 1, 1], 1), (20, [0, 1, 1], 2), (22, [0.5, 1, 1], 2),
    (24, [1, 1, 1], 2), (10**6, [1, 1, 1], 2)])
def test_schedule_at_known_steps(step, fades, phase):
    # Without warm-up an active rung weighs beta_l (2 here), an inactive one pre_kl (0.25), not scaled by beta.
    config = tiny_config(**SCHEDULE, **{"model.warmup_steps": 0.0, "model.beta": 2.0, "model.pre_kl": 0.25}).model
    assert progressive.rung_starts(config) == [20, 10, 0]
    np.testing.assert_array_equal(progressive.rung_fades(config, step).numpy(), np.float32(fades))
    assert int(progressive.phase(config, step)) == phase
    weights = progressive.kl_weights(config, step)
    expected = [2.0 if step >= start else 0.25 for start in (20, 10, 0)]
    np.testing.assert_array_equal(weights.numpy(), np.float32(expected))


def test_fade_defaults_to_half_a_phase_and_zero_is_a_step():
    half = tiny_config(**{"model.progressive_steps": 10}).model
    np.testing.assert_array_equal(progressive.rung_fades(half, 11).numpy(), np.float32([0, 0.2, 1]))
    step = tiny_config(**{"model.progressive_steps": 10, "model.fade_in_steps": 0}).model
    np.testing.assert_array_equal(progressive.rung_fades(step, 9).numpy(), np.float32([0, 0, 1]))
    np.testing.assert_array_equal(progressive.rung_fades(step, 10).numpy(), np.float32([0, 1, 1]))


def test_non_progressive_schedule_is_the_usual_objective():
    config = tiny_config(**{"model.beta": (1.0, 2.0, 3.0), "model.warmup_steps": 100.0}).model
    assert config.progressive_steps is None and not progressive.enabled(config)
    np.testing.assert_array_equal(progressive.rung_fades(config, 0).numpy(), np.ones(3, np.float32))
    warm = float(losses.kl_weight(50, 100.0))
    np.testing.assert_allclose(progressive.kl_weights(config, 50).numpy(), np.float32([1, 2, 3]) * warm, rtol=1e-6)


@pytest.mark.parametrize("field,value,message", [
    ("progressive_steps", -1, "progressive_steps=-1"), ("progressive_steps", 2.5, "progressive_steps=2.5"),
    ("fade_in_steps", 11, r"fade_in_steps=11 .*0..model.progressive_steps \(10\)"),
    ("fade_in_steps", -1, "fade_in_steps=-1"), ("pre_kl", -0.5, "pre_kl=-0.5"),
    ("kind", "hvae", "progressive_steps=10 is a VLAE option"),
    ("regularizer", "mmd", "needs model.regularizer='kl'")])
def test_bad_progressive_settings_are_one_line_errors(field, value, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**{"progressive_steps": 10, field: value})


def test_zero_steps_means_off_and_the_presets_offer_provlae():
    assert ModelConfig(progressive_steps=0).progressive_steps is None
    assert "shapes_provlae" in presets.names()
    config = presets.get("shapes_provlae")
    assert config.model.kind == "vlae" and config.model.progressive_steps == 2000
    assert config.model.progressive_phases is None  # pro-VLAE's order, though the preset has its own
    assert config == presets.get("shapes", **{"model.progressive_steps": 2000, "model.progressive_phases": None})
    assert presets.progressive_overrides("mnist_hvae") == presets.progressive_overrides("mnist")
    # MNIST's own default is pro-VLAE's top-down order: its _provlae name is the preset itself
    assert presets.get("mnist_provlae") == presets.get("mnist")
    assert progressive.rung_starts(presets.get("mnist").model) == [5000, 2500, 0]
    assert [presets.get(f"mnist_{k}").model.progressive_steps for k in ("hvae", "lvae", "vae")] == [None] * 3


def test_the_shapes_schedule_is_a_vlae_setting_that_baselines_drop():
    shapes = presets.get("shapes").model
    assert progressive.rung_starts(shapes) == [0, 0, 1250]  # rungs 1 and 2 first, then the top rung
    for name in ("shapes_hvae", "shapes_lvae", "shapes_vae", "shapes_provlae"):
        kind = "hvae" if name == "shapes_provlae" else None  # a baseline of the pro-VLAE name trains at once too
        config = presets.get(name, **({"model.kind": kind} if kind else {})).model
        assert config.progressive_steps is None and config.progressive_phases is None
    with pytest.raises(ValueError, match="progressive_steps=10 is a VLAE option"):  # unless the caller asks
        presets.get("shapes_hvae", **{"model.progressive_steps": 10, "model.progressive_phases": None})
    # The same rule where a model class retypes a VLAE config (``HVAE(config)``, the VAE's flat config).
    vlae_config = presets.get("shapes", **{k: v for k, v in TINY.items() if not k.startswith("model.progr")})
    assert vlae_config.model.progressive_phases == (0, 0, 1)
    for cls in (HVAE, LVAE, VAE):
        model = cls(vlae_config).model_config
        assert model.kind == cls.kind and model.progressive_steps is None and model.progressive_phases is None


def _decode(model, step, codes):
    model.trained_step.assign(step)
    return model.decode(codes).numpy()


def test_the_decoder_ignores_inactive_rungs_and_reads_them_once_faded_in():
    model, codes = _model(), _codes()
    moved = [_codes(seed=1)[i] if i == 0 else c for i, c in enumerate(codes)]  # only z_1 changed
    moved_2 = [_codes(seed=1)[i] if i == 1 else c for i, c in enumerate(codes)]  # only z_2 changed
    for step in (0, 9, 10, 19):  # rung 1 inactive: its code cannot matter, bit for bit
        np.testing.assert_array_equal(_decode(model, step, moved), _decode(model, step, codes))
    for step in (0, 9, 10):  # rung 2 inactive or at alpha 0
        np.testing.assert_array_equal(_decode(model, step, moved_2), _decode(model, step, codes))
    # Once faded in, a rung's code moves the images (an untrained decoder: differences ~1e-2, far above 0).
    assert np.abs(_decode(model, 14, moved_2) - _decode(model, 14, codes)).max() > 1e-4
    assert np.abs(_decode(model, 24, moved) - _decode(model, 24, codes)).max() > 1e-4


# Another order: rungs 1 and 2 from step 0, the top rung one phase later (from 10, full at 14).
BOTTOM_FIRST = {"model.progressive_phases": (0, 0, 1)}


@pytest.mark.parametrize("step,fades,phase,active", [
    (0, [1, 1, 0], 0, [1, 1, 0]), (9, [1, 1, 0], 0, [1, 1, 0]), (10, [1, 1, 0], 1, [1, 1, 1]),
    (11, [1, 1, 0.25], 1, [1, 1, 1]), (14, [1, 1, 1], 1, [1, 1, 1]), (10**6, [1, 1, 1], 1, [1, 1, 1])])
def test_a_named_order_starts_each_rung_in_its_phase(step, fades, phase, active):
    config = tiny_config(**SCHEDULE, **BOTTOM_FIRST, **{"model.warmup_steps": 0.0, "model.pre_kl": 0.25}).model
    assert progressive.rung_starts(config) == [0, 0, 10]
    np.testing.assert_array_equal(progressive.rung_fades(config, step).numpy(), np.float32(fades))
    assert int(progressive.phase(config, step)) == phase
    np.testing.assert_array_equal(progressive.kl_weights(config, step).numpy(),
                                  np.float32([1.0 if a else 0.25 for a in active]))
    assert _model(**BOTTOM_FIRST).term_names[-2:] == ["fade/rung_3", "phase"]  # the one faded rung


def test_a_top_rung_that_joins_later_is_ignored_until_then():
    model, codes = _model(**BOTTOM_FIRST), _codes()
    moved_top = codes[:2] + [_codes(seed=1)[2]]
    moved_1 = [_codes(seed=1)[0]] + codes[1:]
    for step in (0, 9, 10):  # the top rung inactive or at alpha 0: the decoder starts from u_3(0)
        np.testing.assert_array_equal(_decode(model, step, moved_top), _decode(model, step, codes))
    assert np.abs(_decode(model, 0, moved_1) - _decode(model, 0, codes)).max() > 1e-4  # rung 1 active at once
    assert np.abs(_decode(model, 14, moved_top) - _decode(model, 14, codes)).max() > 1e-4


@pytest.mark.parametrize("phases,message", [
    ((0, 1), "one phase .* per rung \\(3\\)"), ((1, 1, 2), "at least one rung in phase 0"),
    ((0, -1, 1), "progressive_phases=\\(0, -1, 1\\)"), ((0, 0.5, 1), "an int >= 0")])
def test_bad_progressive_phases_are_one_line_errors(phases, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(latent_dims=(3, 3, 3), progressive_steps=10, progressive_phases=phases)
    with pytest.raises(ValueError, match="needs model.progressive_steps"):
        ModelConfig(latent_dims=(3, 3, 3), progressive_phases=(0, 0, 1))
    assert ModelConfig(progressive_steps=10, progressive_phases=[0, 0, 1]).progressive_phases == (0, 0, 1)


def test_pre_kl_weighs_inactive_rungs_only():
    model = _model(**{"model.warmup_steps": 0.0, "model.beta": 2.0, "model.pre_kl": 0.25})
    x = tiny_images(4)
    for step, weights in ((0, (0.25, 0.25, 2.0)), (10, (0.25, 2.0, 2.0)), (20, (2.0, 2.0, 2.0))):
        terms = model.compute_terms(x, training=True, step=step)  # sets the fades to this step, as training does
        kls = [terms[f"kl/rung_{r}"] for r in (1, 2, 3)]
        expected = terms["recon"] + sum(w * k for w, k in zip(weights, kls))
        np.testing.assert_allclose(terms["loss"].numpy(), expected.numpy(), rtol=1e-6)
        np.testing.assert_allclose(terms["elbo"].numpy(), -(terms["recon"] + terms["kl"]).numpy(), rtol=1e-6)
        assert float(terms["phase"][0]) == step // 10
    # The loss function itself with known KLs: weights replace w(t) * beta_l.
    config, ones = model.model_config, tf.ones([2])
    params = tf.zeros([2, 16, 16, 3])
    terms = losses.loss_terms(config, tf.zeros([2, 16, 16, 3]), params, [1.0 * ones, 2.0 * ones, 3.0 * ones],
                              [None] * 3, 10, model.likelihood.log_scale(),
                              rung_kl_weights=progressive.kl_weights(config, 10))
    np.testing.assert_allclose((terms["loss"] - terms["recon"]).numpy(), [0.25 * 1 + 2 * 2 + 2 * 3] * 2, rtol=1e-6)


def test_a_finished_progression_decodes_exactly_like_the_plain_vlae():
    plain, pro = _model(**{"model.progressive_steps": None}), _model()
    assert plain.rung_fades() is None and plain.trained_step is None
    assert "phase" not in plain.term_names and len(pro.weights) == len(plain.weights) + 1
    for source, target in zip(plain.trainable_variables, pro.trainable_variables):
        target.assign(source)
    codes = _codes()
    np.testing.assert_array_equal(_decode(pro, 24, codes), plain.decode(codes).numpy())


def test_fit_across_a_phase_boundary_saves_and_reloads_its_fades(tmp_path):
    model = _model(**{"model.progressive_steps": 3, "model.fade_in_steps": 2})
    model.compile()
    data = tf.data.Dataset.from_tensor_slices(tiny_images(8)).batch(4).repeat()
    history = model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)
    # Steps 0..4 ran; the last at step 4: rung 2 started at 3, half faded in; rung 1 not yet.
    assert int(model.trained_step.numpy()) == 4
    np.testing.assert_array_equal(model.rung_fades().numpy(), np.float32([0, 0.5, 1]))
    assert history.history["fade/rung_2"][-1] == pytest.approx((0 + 0 + 0 + 0 + 0.5) / 5)  # epoch mean
    path = str(tmp_path / "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert int(reloaded.trained_step.numpy()) == 4
    codes, x = _codes(), tiny_images(4, seed=2)
    np.testing.assert_array_equal(reloaded.decode(codes).numpy(), model.decode(codes).numpy())
    np.testing.assert_array_equal(reloaded.reconstruct(x).numpy(), model.reconstruct(x).numpy())
    # The SavedModel export rebuilds the model from its config and copies every weight, the step included.
    np.testing.assert_array_equal(export.float32_copy(model).decode(codes).numpy(), model.decode(codes).numpy())


def _in_memory(x, batch):
    def dataset_fn(ctx):
        return tf.data.Dataset.from_tensor_slices(x).repeat().batch(batch, drop_remainder=True)

    return dataset_fn


@pytest.mark.slow
def test_the_custom_loop_resumed_mid_phase_continues_with_the_right_fades(tmp_path):
    config = tiny_config(**{"model.progressive_steps": 3, "model.fade_in_steps": 2, "data.batch_size": 4,
                            "train.checkpoint_every": 2, "train.summary_every": 1000, "train.image_every": 1000})
    x = tiny_images(4)
    first = Trainer(config, tmp_path, dataset_fn=_in_memory(x, 4), verbose=0)
    first.train(4)  # stops in phase 1, rung 2 fading in (its last step, 3, at alpha 0)
    resumed = Trainer(config, tmp_path, dataset_fn=_in_memory(x, 4), verbose=0)
    assert resumed.step == 4 and int(resumed.model.trained_step.numpy()) == 3
    np.testing.assert_array_equal(resumed.model.rung_fades().numpy(), np.float32([0, 0, 1]))
    metrics = resumed.train(7)
    assert int(resumed.model.trained_step.numpy()) == 6  # the loop's steps 4..6 ran at their own fades
    np.testing.assert_array_equal(resumed.model.rung_fades().numpy(), np.float32([0, 1, 1]))  # phase 2 began
    # The logged means over steps 4..6 are those of the schedule: rung 2 at 0.5, 1, 1; phases 1, 1, 2.
    assert metrics["fade/rung_2"] == pytest.approx(2.5 / 3) and metrics["phase"] == pytest.approx(4 / 3)


def test_the_shared_model_harness_passes_with_progression(tmp_path):
    run_model_test(VLAE, tiny_config(**SCHEDULE), tmp_path)
