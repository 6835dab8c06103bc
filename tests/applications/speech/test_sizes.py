import pytest

from applications.speech.sizes import SIZES, speech_encoder_config
from applications.speech.speech_encoder import SpeechEncoder


def test_overrides_and_every_size_builds_an_encoder():
    assert speech_encoder_config("base", hidden_dim=32, num_heads=None).hidden_dim == 32
    for name in SIZES:
        SpeechEncoder(**speech_encoder_config(name).encoder_kwargs())


def test_unknown_names():
    with pytest.raises(ValueError, match="size='huge'"):
        speech_encoder_config("huge")
    with pytest.raises(ValueError, match="width"):
        speech_encoder_config("tiny", width=3)
