"""Packaging for keras-attn: the `keras_attn` library, the `applications` built on
it, and the `keras-attn` command."""

import re

from setuptools import find_packages, setup

VERSION = re.search(r'__version__ = "([^"]+)"', open("keras_attn/version.py", encoding="utf-8").read()).group(1)

setup(
    name="keras-attn",
    version=VERSION,
    description="Attention layers, Transformer blocks and applications for Keras 3.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["keras_attn", "keras_attn.*", "applications", "applications.*"]),
    include_package_data=True,
    package_data={"applications": ["*/assets/*"]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        # tensorflow-text must match TensorFlow's minor version.
        "tensorflow-text>=2.21,<2.22",
        # TensorBoard logs of keras_attn.training (tf.summary needs the package).
        "tensorboard>=2.21,<2.22",
        "keras>=3.10,<4",
        "keras-hub>=0.21",
        "librosa>=0.10",
        "soundfile>=0.12",
        "sacrebleu>=2.4",
        "matplotlib>=3.7",
        "numpy",
        "pillow",  # image files in applications/vision
        "sentencepiece",  # subword vocabularies in applications/text
    ],
    extras_require={
        "dev": [
            "pytest>=8,<9",  # pytest 9 ignores pytest-xdist 3.8's group ids: --dist loadgroup stops grouping
            "pytest-xdist>=3",
            "hypothesis>=6",
            "nbclient>=0.10",
            "nbformat>=5.9",
            "ipykernel>=6",
            "num2words>=0.5",
            "scikit-learn>=1.3",  # load_digits in the vision tests and tutorial
            # The library runs on every Keras backend; the tests check JAX on the CPU.
            "jax[cpu]>=0.4",
        ],
    },
    entry_points={"console_scripts": ["keras-attn=applications.cli:main"]},
)
