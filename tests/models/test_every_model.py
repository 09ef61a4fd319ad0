"""The shared model harness applied to every model kind alike (VLAE in each combine mode)."""

import pytest

from tests.models.harness import run_model_test
from tests.tiny_configs import tiny_config
from vlae_tf.models import HVAE, LVAE, MODEL_CLASSES, VAE, VLAE

CASES = [(VLAE, {"model.combine": "concat"}), (VLAE, {"model.combine": "add", "model.likelihood": "bernoulli"}),
         (VLAE, {"model.combine": "gated_add", "model.broadcast_rungs": 0}),
         (VLAE, {"model.late_broadcast": True, "model.broadcast_top": True}), (HVAE, {}), (LVAE, {}),
         (VAE, {"model.likelihood": "bernoulli"})]


def test_the_cases_cover_every_model_kind():
    assert {cls for cls, _ in CASES} == set(MODEL_CLASSES)


@pytest.mark.parametrize("cls,overrides", CASES, ids=[f"{c.kind}-{i}" for i, (c, _) in enumerate(CASES)])
def test_model(cls, overrides, tmp_path):
    run_model_test(cls, tiny_config(cls.kind, **overrides), tmp_path)
