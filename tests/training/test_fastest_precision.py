"""``--precision auto``: the fastest policy the machine offers, chosen from its devices and CPU flags."""

import tensorflow as tf

from trainers import train
from vlae_tf.training.precision import fastest_precision

INTEL_AMX = "processor : 0\nflags : fpu sse avx2 avx512f amx_bf16 amx_tile\n"
AMD_BF16 = "processor : 0\nflags : fpu sse avx2 avx512f avx512_bf16\n"
OLD_CPU = "processor : 0\nflags : fpu sse avx2 avx512f\n"


def test_bfloat16_only_where_the_cpu_has_it_natively():
    if tf.config.list_physical_devices("GPU"):
        assert fastest_precision(OLD_CPU) == "mixed_float16"
        return
    assert fastest_precision(INTEL_AMX) == "mixed_bfloat16"
    assert fastest_precision(AMD_BF16) == "mixed_bfloat16"
    assert fastest_precision(OLD_CPU) == "float32"
    assert fastest_precision("") == "float32"
    assert fastest_precision() in ("mixed_bfloat16", "float32")  # this machine's own /proc/cpuinfo


def test_the_cli_accepts_auto_and_still_rejects_unknown_policies(capsys):
    assert train.build_parser().parse_args(["--precision", "auto"]).precision == "auto"
    try:
        train.build_parser().parse_args(["--precision", "float8"])
    except SystemExit as exit_:
        assert exit_.code == 2
    assert "invalid choice: 'float8'" in capsys.readouterr().err
