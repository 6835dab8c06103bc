"""The small real datasets shipped in `data/` are present, well-formed and split as documented
in `data/README.md`, and `applications.datasets` reads them."""

import doctest
import gzip
import importlib.util
import re
import sys

import numpy as np
import pytest
import soundfile as sf

from applications import datasets

DATA = datasets.shipped_data_dir()
SPEECH = DATA / "speech"
SCRIPTS = DATA.parent / "scripts"
TRANSCRIPT_ALPHABET = re.compile(r"[a-z']+( [a-z']+)*")
SAMPLE_RATE = 16000
SHORT_WORDS = 12
KEYWORDS = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}


def _read_pairs(path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f]


@pytest.fixture(scope="module")
def bible():
    return {name: _read_pairs(path) for name, path in datasets.bible_en_es_paths().items()}


def test_files_exist():
    expected = [
        "README.md",
        "text/bible_en_es.tsv.gz",
        "text/bible_en_es_short.tsv.gz",
        "text/bible_en_es_test.tsv",
        "text/numbers_en_fr.tsv.gz",
        "vision/fashion_mnist_subset.npz",
        "speech/numbers/train.tsv",
        "speech/numbers/test.tsv",
    ]
    missing = [name for name in expected if not (DATA / name).is_file()]
    assert not missing
    for split in ("train", "test"):
        assert sorted(p.name for p in (datasets.speech_keywords_dir() / split).iterdir()) == sorted(
            KEYWORDS
        )


def test_shipped_data_stays_small():
    total = sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file())
    assert total < 28 * 2**20  # about 27 MB: 17.6 MB of them the number clips


def test_bible_pairs_are_two_non_empty_columns(bible):
    assert len(bible["train"]) > 29000
    assert len(bible["test"]) == 300
    assert len(bible["short"]) > 2500
    for name, pairs in bible.items():
        for pair in pairs:
            assert len(pair) == 2, (name, pair)
            assert all(side and side.strip() == side for side in pair), (name, pair)
            assert "<" not in pair[0] + pair[1], (name, pair)


def test_bible_splits(bible):
    train, short, test = (set(map(tuple, bible[name])) for name in ("train", "short", "test"))
    assert short <= train
    assert all(len(english.split()) <= SHORT_WORDS for english, _ in short | test)
    assert short == {pair for pair in train if len(pair[0].split()) <= SHORT_WORDS}
    # Held out by content, not only by verse: no test sentence in either language is trained on.
    assert not {english for english, _ in test} & {english for english, _ in train}
    assert not {spanish for _, spanish in test} & {spanish for _, spanish in train}


def test_number_phrases_match_num2words():
    num2words = pytest.importorskip("num2words").num2words
    pairs = _read_pairs(DATA / "text/numbers_en_fr.tsv.gz")
    assert len(pairs) == 10000
    for number in (0, 71, 97, 1234, 9999):
        assert pairs[number] == [num2words(number, lang="en"), num2words(number, lang="fr")]


def test_fashion_mnist_subset():
    data = datasets.load_fashion_mnist()
    class_names = list(data["class_names"])
    assert class_names[0] == "t_shirt_top" and len(class_names) == 10
    for split, per_class in (("train", 300), ("test", 100)):
        images, labels = data[f"x_{split}"], data[f"y_{split}"]
        assert images.dtype == np.uint8 and images.shape == (10 * per_class, 28, 28)
        assert labels.shape == (10 * per_class,)
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), [per_class] * 10)
        assert images.max() > 200  # real pictures, not blanks


def test_fashion_mnist_folders(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    data = datasets.load_fashion_mnist()
    out = datasets.fashion_mnist_folders(tmp_path / "train", "train", limit_per_class=2)
    assert sorted(p.name for p in out.iterdir()) == sorted(data["class_names"])
    files = sorted(out.glob("*/*.png"))
    assert len(files) == 20
    # The file name is the index into the split; the folder its class; pixels round-trip.
    for path in files:
        index = int(path.stem)
        assert data["class_names"][data["y_train"][index]] == path.parent.name
        np.testing.assert_array_equal(np.array(Image.open(path)), data["x_train"][index])


def test_fashion_mnist_folders_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        datasets.fashion_mnist_folders(tmp_path, "validation")


def _voice(clip):
    """`en-gb-x-rp-m3` from `.../en-gb-x-rp-m3_s170_p50.flac` or `.../train0001_en-us-f2_s...`."""
    return re.fullmatch(r"(?:(?:train|test)\d+_)?(.+)_s\d+_p\d+", clip.stem).group(1)


def _assert_clip(path):
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16"), path
    audio, _ = sf.read(path, dtype="int16")
    assert 0.1 < len(audio) / SAMPLE_RATE < 3.0 and np.abs(audio).max() > 1000, path


def test_speech_keywords():
    voices = {}
    for split in ("train", "test"):
        clips = sorted((datasets.speech_keywords_dir() / split).glob("*/*.flac"))
        assert len(clips) >= 10 * (30 if split == "train" else 8)
        for clip in clips:
            _assert_clip(clip)
        voices[split] = {_voice(clip) for clip in clips}
    assert not voices["train"] & voices["test"]  # unseen speakers


def test_speech_numbers():
    voices, transcripts, listed = {}, {}, set()
    for split in ("train", "test"):
        pairs = datasets.read_speech_numbers(split)
        listed |= {path.name for path, _ in pairs}
        assert len(pairs) >= (70 if split == "train" else 18)
        for path, transcript in pairs:
            assert path.is_file(), path
            assert TRANSCRIPT_ALPHABET.fullmatch(transcript), transcript
            _assert_clip(path)
        voices[split] = {_voice(path) for path, _ in pairs}
        transcripts[split] = {transcript for _, transcript in pairs}
    assert not voices["train"] & voices["test"]
    assert not transcripts["train"] & transcripts["test"]
    assert {p.name for p in (SPEECH / "numbers/clips").iterdir()} == listed  # no stray clips


def test_speech_flite_voices_are_held_out():
    """Another synthesizer's clips: every keyword, test numbers only, listed clips only."""
    keywords = datasets.speech_flite_keywords_dir()
    assert sorted(p.name for p in keywords.iterdir()) == sorted(KEYWORDS)
    clips = sorted(keywords.glob("*/*.flac"))
    assert len(clips) == 80
    for clip in clips:
        info = sf.info(clip)
        assert (info.samplerate, info.channels) == (SAMPLE_RATE, 1) and info.duration > 0.05, clip
    pairs = datasets.read_speech_numbers("flite")
    assert len(pairs) == 40 and all(path.is_file() for path, _ in pairs)
    train = {text for _, text in datasets.read_speech_numbers("train")}
    assert not {text for _, text in pairs} & train


def test_speech_numbers_manifest_paths_are_relative():
    for split in ("train", "test"):
        manifest = datasets.speech_numbers_manifest(split)
        for line in manifest.read_text(encoding="utf-8").splitlines():
            path, _ = line.split("\t")
            assert path.startswith("clips/")


@pytest.mark.parametrize("script", ["build_bible_en_es", "build_number_phrases"])
def test_build_script_examples(script, monkeypatch):
    """The markup cleaning and number wording the builds rely on do what their docstrings show."""
    if script == "build_number_phrases":
        pytest.importorskip("num2words")
    spec = importlib.util.spec_from_file_location(script, SCRIPTS / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    # doctest only collects functions whose module `sys.modules` names: another test (a build
    # script importing this one) may have put a different copy there first.
    monkeypatch.setitem(sys.modules, script, module)
    spec.loader.exec_module(module)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
