"""Config validation: bad values name the field and list what is valid; presets and round trips."""

import pytest

from vlae_tf import presets
from vlae_tf.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig, parse_override


def test_every_preset_builds_with_the_original_sizes():
    assert presets.get("mnist").model.latent_dims == (2, 2, 2)
    assert presets.get("mnist").model.image_shape == (28, 28, 1)
    assert presets.get("svhn").model.latent_dims == (5, 5, 5, 10)
    assert presets.get("celeba").model.latent_dims == (10, 10, 10, 10)
    assert presets.get("celeba").model.image_shape == (64, 64, 3)
    assert presets.get("dsprites").model.latent_dims == (2, 2, 2)
    assert presets.get("shapes3d").model.beta == (8.0, 8.0, 8.0)
    for name in presets.names():
        assert presets.get(name).model.num_rungs >= 1


def test_baseline_preset_names_change_only_the_kind():
    for kind in ("hvae", "lvae", "vae", "vlae"):
        assert presets.get(f"mnist_{kind}") == presets.get("mnist").with_kind(kind)  # baselines drop the schedule
    assert {"shapes_hvae", "shapes_lvae", "shapes_vae"} <= set(presets.names())


def test_presets_are_the_base_with_overrides():
    base = ExperimentConfig()
    shapes = presets.get("shapes")
    assert shapes.model.image_shape == (32, 32, 3) and shapes.data.batch_size == 32
    # Whatever a preset does not name is the base's.
    assert shapes.model.activation == base.model.activation and shapes.train.precision == base.train.precision
    assert presets.get("svhn").model.warmup_steps == base.model.warmup_steps


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'mnsit'.*mnist"):
        presets.get("mnsit")


@pytest.mark.parametrize("field,value,pattern", [
    ("combine", "multiply", r"model.combine='multiply'.*concat, add, gated_add"),
    ("likelihood", "poisson", r"bernoulli, gaussian, l1"),
    ("regularizer", "wae", r"kl, mmd"),
    ("image_shape", (28, 28, 2), r"channels 1 or 3"),
    ("beta", (1.0, 2.0), r"2 entries but the model has 3 rungs"),
    ("combine", ("film", "concat", "add"), r"3 modes but the model has 2 convolutional rungs"),
    ("combine", "film,mul", r"model.combine='mul'.*concat, add, gated_add"),
    ("image_shape", (30, 30, 3), r"multiples of 4"),
    ("latent_dims", (2, 0, 2), r"positive"),
    ("head_kernel", 2, r"model.head_kernel=2 is not valid; give an odd kernel size"),
    ("head_kernel", 0, r"model.head_kernel=0 is not valid"),
    ("broadcast_posteriors", "yes", r"model.broadcast_posteriors='yes' is not valid; give True or False"),
    ("broadcast_posteriors", True, r"broadcast_posteriors=True pools the broadcast rungs' posteriors; it needs "
                                   r"model.broadcast_rungs >= 1"),
])
def test_bad_model_values_are_named(field, value, pattern):
    with pytest.raises(ValueError, match=pattern):
        ModelConfig(**{field: value})


def test_bad_data_and_train_values_are_named():
    with pytest.raises(ValueError, match=r"data.dataset='imagenet'.*shapes, mnist"):
        DataConfig(dataset="imagenet")
    with pytest.raises(ValueError, match=r"needs data.data_dir"):
        DataConfig(dataset="npz")
    with pytest.raises(ValueError, match=r"train.precision='float16'.*mixed_float16"):
        TrainConfig(precision="float16")
    with pytest.raises(ValueError, match=r"data.batch_size=0"):
        DataConfig(batch_size=0)
    with pytest.raises(ValueError, match=r"train.lr_decay_steps=0 .*int > 0, or None"):
        TrainConfig(lr_decay_steps=0)
    with pytest.raises(ValueError, match=r"train.lr_decay_floor=1.5 .*\[0, 1\]"):
        TrainConfig(lr_decay_floor=1.5)


def test_scalar_beta_broadcasts_per_rung():
    assert ModelConfig(latent_dims=(2, 2, 2, 2), conv_channels=(4, 4, 4), beta=0.5).beta == (0.5,) * 4


def test_dict_round_trip_and_unknown_keys():
    cfg = presets.get("svhn")
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match=r"unknown ModelConfig field\(s\) \['depth'\]"):
        ExperimentConfig.from_dict({"model": {"depth": 3}})


def test_dotted_overrides_and_cli_parsing():
    cfg = presets.get("mnist").replace(**dict([parse_override("model.beta=2.0"),
                                              parse_override("model.combine=gated_add")]))
    assert cfg.model.beta == (2.0, 2.0, 2.0) and cfg.model.combine == "gated_add"
    with pytest.raises(ValueError, match="section.field"):
        cfg.replace(beta=1.0)
    with pytest.raises(ValueError, match="section.field=value"):
        parse_override("model.beta")


def test_combine_is_one_mode_or_one_per_convolutional_rung():
    assert ModelConfig(combine=("film", "film")).combine == "film"  # a uniform tuple is its one mode
    per_rung = ModelConfig(combine="film, concat")  # the command line's spelling
    assert per_rung.combine == ("film", "concat")
    assert [per_rung.combine_of(level) for level in (1, 2)] == ["film", "concat"]
    assert ModelConfig(combine="add").combine_of(2) == "add"
    cfg = presets.get("shapes").replace(**dict([parse_override("model.combine=film,concat")]))
    assert ExperimentConfig.from_dict(cfg.to_dict()) == cfg
