"""Shared fixtures: tiny clips written with soundfile, and one small trained keyword model."""

import numpy as np
import pytest
import soundfile as sf

from applications import datasets

WORDS = ("left", "stop", "yes")


def write_tone(path, seconds=0.3, frequency=440.0, sample_rate=16000, channels=1, noise=0.0, seed=0):
    """A sine clip (plus optional noise), mono or multi-channel, written with soundfile."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    clip = 0.5 * np.sin(2 * np.pi * frequency * t)
    clip = clip + noise * np.random.default_rng(seed).standard_normal(clip.shape)
    if channels > 1:
        clip = np.stack([clip] * channels, axis=1)
    sf.write(path, clip.astype("float32"), sample_rate)
    return path


def keyword_subset(root, split, words=WORDS):
    """Symlinks to the shipped clips of a few words: `root/<split>/<word>/`."""
    source = datasets.speech_keywords_dir() / split
    for word in words:
        folder = root / split / word
        folder.mkdir(parents=True)
        for clip in sorted((source / word).iterdir()):
            (folder / clip.name).symlink_to(clip)
    return root / split


@pytest.fixture
def tone():
    """`write_tone(path, seconds=..., frequency=..., sample_rate=..., channels=...)`."""
    return write_tone


@pytest.fixture(scope="session")
def keyword_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("keywords")
    return keyword_subset(root, "train"), keyword_subset(root, "test")


@pytest.fixture(scope="session")
def trained_keywords(keyword_data, tmp_path_factory):
    """A tiny classifier trained briefly on three shipped keywords; (out_dir, summary)."""
    from applications import speech

    out_dir = tmp_path_factory.mktemp("keyword_run")
    summary = speech.train(
        data=str(keyword_data[0]), out=str(out_dir), task="classify", epochs=8, batch_size=16,
        hidden_dim=32, num_heads=2, intermediate_dim=64, num_layers=1, learning_rate=3e-3,
        strategy="default", verbose=0, seed=0,
    )
    return out_dir, summary


@pytest.fixture(scope="session")
def keyword_predictor(trained_keywords):
    import applications

    return applications.load(trained_keywords[0])


NUMBER_CLIPS = 4  # shipped number phrases the tiny transcriber learns


@pytest.fixture(scope="session")
def number_manifest(tmp_path_factory):
    """A manifest of the first few shipped training number phrases; (path, [(clip, transcript)])."""
    pairs = datasets.read_speech_numbers("train")[:NUMBER_CLIPS]
    manifest = tmp_path_factory.mktemp("numbers") / "few.tsv"
    manifest.write_text("".join(f"{path}\t{text}\n" for path, text in pairs))
    return manifest, pairs


@pytest.fixture(scope="session")
def trained_transcriber(number_manifest, tmp_path_factory):
    """A tiny encoder-decoder trained until it transcribes the few number phrases (~150 steps);
    (out_dir, summary)."""
    from applications import speech

    out_dir = tmp_path_factory.mktemp("transcriber_run")
    summary = speech.train(
        data=str(number_manifest[0]), out=str(out_dir), task="transcribe", epochs=150, batch_size=4, hidden_dim=32,
        num_heads=2, intermediate_dim=64, num_layers=1, decoder_layers=1, learning_rate=3e-3, spec_augment=False,
        dropout_rate=0.0, label_smoothing=0.0, checkpoint_every=0, plot=False, strategy="default", verbose=0, seed=0,
    )
    return out_dir, summary


@pytest.fixture(scope="session")
def transcriber_predictor(trained_transcriber):
    import applications

    return applications.load(trained_transcriber[0])
