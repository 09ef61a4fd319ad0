"""vlae_tf: the Variational Ladder Autoencoder in TensorFlow 2 / Keras 3 / TensorFlow Probability."""

from setuptools import find_packages, setup

setup(
    name="vlae_tf",
    version="0.1.0",
    description="Variational Ladder Autoencoder (Zhao, Song & Ermon, ICML 2017) for TF 2 / Keras 3 / TFP",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["vlae_tf", "vlae_tf.*", "trainers", "trainers.*", "benchmarks",
                                    "benchmarks.*"]),
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
        "psutil>=5.9",
        "tensorflow-serving-api>=2.21,<2.22",  # PredictionLog protos for the export's warm-up file
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist>=3.5"],
    },
    entry_points={
        "console_scripts": [
            "vlae-train=trainers.train:main",
            "vlae-export=trainers.export:main",
            "vlae-serve-request=trainers.serve_request:main",
            "vlae-eval=trainers.evaluate:main",
            "vlae-compare=trainers.compare:main",
        ],
    },
)
