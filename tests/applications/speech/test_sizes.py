import pytest

from applications.speech.sizes import SIZES
from applications.speech.speech_encoder import SpeechEncoder


def test_overrides_and_every_size_builds_an_encoder():
    assert SIZES.decode("base", hidden_dim=32, num_heads=None)["hidden_dim"] == 32
    for name in SIZES.names():
        SpeechEncoder(**SIZES.decode(name), num_mel_bins=80, max_frames=100)


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown speech encoder size 'huge'"):
        SIZES.decode("huge")
