"""The FLOP counter of ``benchmarks.flops`` against a count done by hand for one small ladder."""

import keras
import pytest

from benchmarks import flops
from vlae_tf import VLAE
from vlae_tf.config import ModelConfig

# 8x8 grey images, 2 rungs: rung 1 convolutional (4 filters, one conv), rung 2 dense (8 units, 2 layers).
TINY = ModelConfig(image_shape=(8, 8, 1), latent_dims=(2, 3), conv_channels=(4,), convs_per_rung=1, dense_units=8)

# Multiply-accumulates per example, by hand, in the order the forward pass runs:
HAND_MACS = {
    "f_1 conv 4x4/2, 1->4 channels, out 4x4": 4 * 4 * (4 * 4) * 1 * 4,  # 1024
    "f_2 dense 64->8": 64 * 8,  # 512
    "f_2 dense 8->8": 8 * 8,  # 64
    "q_1 conv 4x4/2, 4->4, out 2x2": 2 * 2 * (4 * 4) * 4 * 4,  # 1024
    "q_1 dense 16->2*2": 16 * 4,  # 64
    "q_2 dense 8->2*3": 8 * 6,  # 48
    "u_2 dense 3->8": 3 * 8,  # 24
    "u_2 dense 8->4*4*4": 8 * 64,  # 512
    "v_1 dense 2->4*4*4": 2 * 64,  # 128
    "u_1 transposed conv 4x4/2, 8->4, in 4x4": 4 * 4 * (4 * 4) * 8 * 4,  # 8192 (concat: 4 + 4 channels in)
    "r conv 3x3, 4->1, out 8x8": 8 * 8 * (3 * 3) * 4 * 1,  # 2304
}


def tiny_model():
    keras.utils.set_random_seed(0)  # counts do not depend on the weights, but nothing here is unseeded
    return VLAE(TINY)


@pytest.fixture(scope="module")
def counted():
    keras.mixed_precision.set_global_policy("float32")
    return flops.count(tiny_model(), batch_size=3)


def test_layer_macs_match_the_hand_count(counted):
    assert [row["macs"] for row in counted["layers"]] == list(HAND_MACS.values())
    assert [row["type"] for row in counted["layers"]] == (["Conv2D"] + ["Dense"] * 2 + ["Conv2D"] + ["Dense"] * 5
                                                         + ["Conv2DTranspose", "Conv2D"])


def test_only_the_layer_reading_the_images_needs_no_input_gradient(counted):
    assert [row["input_grad"] for row in counted["layers"]] == [False] + [True] * (len(HAND_MACS) - 1)


def test_train_step_is_forward_plus_twice_forward_less_the_first_input_gradient(counted):
    macs = sum(HAND_MACS.values())
    assert macs == 13896
    forward = 2 * macs
    backward = 2 * forward - 2 * HAND_MACS["f_1 conv 4x4/2, 1->4 channels, out 4x4"]
    assert counted["per_example"] == forward + backward == 81328
    assert counted["forward"] == 3 * forward
    assert counted["backward"] == 3 * backward
    assert counted["train_step"] == 3 * (forward + backward)


def test_counting_leaves_the_model_unchanged():
    model = tiny_model()
    flops.count(model)
    assert all("call" not in vars(layer) for layer in model._flatten_layers(include_self=False, recursive=True))
    assert model.reconstruct(keras.ops.zeros((2, 8, 8, 1))).shape == (2, 8, 8, 1)


def test_grouped_and_transposed_convolutions_use_their_kernel_shapes():
    grouped = keras.layers.Conv2D(8, 3, padding="same", groups=2)
    grouped.build((None, 5, 5, 4))
    assert flops.layer_macs(grouped, (1, 5, 5, 4), (1, 5, 5, 8)) == 5 * 5 * 9 * 2 * 8
    transposed = keras.layers.Conv2DTranspose(6, 4, strides=2, padding="same")
    transposed.build((None, 3, 3, 5))
    assert flops.layer_macs(transposed, (1, 3, 3, 5), (1, 6, 6, 6)) == 3 * 3 * 16 * 5 * 6
    with pytest.raises(TypeError, match="not counted"):
        flops.layer_macs(keras.layers.ReLU(), (1, 4), (1, 4))
