"""Shared fixtures of the vision tests: scikit-learn's 8x8 digits as class
folders, and one tiny ViT trained on them (session-scoped, trained once)."""

import numpy as np
import pytest

from applications import datasets

TINY = dict(size="mu/2", num_layers=2, hidden_dim=32, num_heads=2, intermediate_dim=64)


def write_digits(out_dir, limit_per_class=None):
    """load_digits (1,797 8x8 images, 0..16) as 8-bit PNG class folders `digit_0` ..."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)
    names = [f"digit_{i}" for i in range(10)]
    return datasets.save_image_folders(images, digits.target, names, out_dir, limit_per_class)


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory):
    return write_digits(tmp_path_factory.mktemp("digits"))


@pytest.fixture(scope="session")
def trained(digits_dir, tmp_path_factory):
    """`(summary, out_dir)` of a tiny ViT trained on the digits for a few epochs."""
    from applications import vision

    out = tmp_path_factory.mktemp("digits_run")
    summary = vision.train(data=str(digits_dir), out=str(out), epochs=6, batch_size=32, learning_rate=3e-3,
                           validation_fraction=0.2, strategy="default", verbose=0, **TINY)
    return summary, out


@pytest.fixture(scope="session")
def predictor(trained):
    import applications

    return applications.load(trained[1])
