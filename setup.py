"""vlae_tf: the Variational Ladder Autoencoder in TensorFlow 2 / Keras 3 / TensorFlow Probability.

The only place the package metadata lives (pyproject.toml names the build backend, nothing else). What it
installs into site-packages is the library ``vlae_tf`` and its command-line entry points: the repository's
``trainers/`` folder installs as ``vlae_tf_cli`` (``package_dir`` below), so no generic top-level ``trainers``
lands beside other projects' packages, and ``benchmarks/`` is run from a checkout (``python -m
benchmarks.run``), not installed. The entry points sit beside ``vlae_tf``, not inside it: importing anything
inside ``vlae_tf`` runs its ``__init__``, which loads TensorFlow (seconds), and ``--help`` should answer at once.
"""

from setuptools import find_packages, setup

CLI_PACKAGE = "vlae_tf_cli"  # trainers/ in the repository; ``python -m trainers.train`` works from a checkout
CONSOLE_SCRIPTS = {"vlae-train": "train", "vlae-export": "export", "vlae-serve-request": "serve_request",
                   "vlae-eval": "evaluate", "vlae-compare": "compare"}

setup(
    name="vlae_tf",
    version="0.1.0",
    description="Variational Ladder Autoencoder (Zhao, Song & Ermon, ICML 2017) for TF 2 / Keras 3 / TFP",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["vlae_tf", "vlae_tf.*"]) + [CLI_PACKAGE],
    package_dir={CLI_PACKAGE: "trainers"},
    # The shapes factor classifier that ships with the library (vlae_tf/evaluation/factor_classifier.py).
    package_data={"vlae_tf.evaluation": ["shipped_classifiers/*.keras", "shipped_classifiers/*.json"]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "keras>=3.15,<4",
        "tf-keras>=2.21,<2.22",  # TFP 0.25 imports it on first use
        "tensorflow-probability>=0.25,<0.26",
        "tensorflow-datasets>=4.9.9,<5",
        "importlib_resources",  # tfds needs it at load time
        "tensorboard>=2.21,<2.22",
        "numpy>=1.26,<3",
        "pillow>=10",
        "matplotlib>=3.8",
        "scikit-learn>=1.5",
        "scipy>=1.11",
        "threadpoolctl>=3.1",  # evaluation.information bounds sklearn's threads
        "psutil>=5.9",  # benchmarks/ (run from a checkout with `make bench`) reads memory use with it
        # The export writes TF Serving's warm-up file by default (vlae-export, export.save(warmup=True)), and
        # its records are tensorflow_serving's PredictionLog protos: a core need, not an extra. It is a small
        # pure-Python wheel of protos whose own requirements (grpcio, protobuf) tensorflow already pulls in.
        "tensorflow-serving-api>=2.21,<2.22",
        "grpcio>=1.56",  # serving.predict_grpc imports it directly
    ],
    extras_require={
        # What the docs' `pip install 'vlae_tf[serving]'` asks for: the gRPC client of vlae-serve-request.
        # Both are core requirements today (see above); the extra keeps the documented command valid and
        # names them should the warm-up ever become optional.
        "serving": ["tensorflow-serving-api>=2.21,<2.22", "grpcio>=1.56"],
        "test": ["pytest>=8", "pytest-xdist>=3.5", "pytest-randomly>=3.15"],
    },
    entry_points={"console_scripts": [f"{name}={CLI_PACKAGE}.{module}:main"
                                      for name, module in CONSOLE_SCRIPTS.items()]},
)
