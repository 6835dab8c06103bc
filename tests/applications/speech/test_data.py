import numpy as np
import pytest

from applications.speech import data


def test_any_rate_stereo_is_mono_16k(tmp_path, tone):
    path = tone(tmp_path / "stereo.wav", seconds=0.5, sample_rate=44100, channels=2)
    audio = data.load_audio(path)
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(len(audio) - 8000) <= 1


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
def test_other_formats(tmp_path, suffix, tone):
    assert len(data.load_audio(tone(tmp_path / f"clip{suffix}", seconds=0.25))) == 4000


def test_corrupt_and_empty_files_are_reported_by_name(tmp_path, tone):
    good = tone(tmp_path / "good.wav")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00not really a wave file" * 10)
    empty = tmp_path / "empty.flac"
    empty.write_bytes(b"")
    with pytest.raises(data.AudioFileError, match="corrupt.wav"):
        data.load_clips([good, corrupt])
    with pytest.raises(data.AudioFileError, match="empty.flac.*empty"):
        data.load_clips([empty])
    with pytest.raises(data.AudioFileError, match="missing.wav"):
        data.load_audio(tmp_path / "missing.wav")
    clips, kept = data.load_clips([corrupt, good, empty], skip_bad_files=True)
    assert kept == [1] and len(clips) == 1


def test_class_folders(tmp_path, tone):
    for word, frequency in (("yes", 300.0), ("no", 600.0)):
        (tmp_path / word).mkdir()
        tone(tmp_path / word / "a.wav", frequency=frequency)
    (tmp_path / "no" / "notes.txt").write_text("not audio")
    paths, labels, names = data.list_class_folders(tmp_path)
    assert names == ["no", "yes"] and labels.tolist() == [0, 1] and len(paths) == 2


@pytest.mark.parametrize("delimiter, suffix, header", [(",", ".csv", True), ("\t", ".tsv", False)])
def test_manifest(tmp_path, delimiter, suffix, header, tone):
    (tmp_path / "clips").mkdir()
    tone(tmp_path / "clips" / "a.wav")
    lines = (["path,transcript"] if header else []) + [f"clips/a.wav{delimiter}one, two"]
    manifest = tmp_path / f"manifest{suffix}"
    manifest.write_text("\n".join(lines) + "\n")
    assert data.is_manifest(manifest)
    [(path, transcript)] = data.read_manifest(manifest)
    assert path == tmp_path / "clips" / "a.wav" and transcript == "one, two"


def test_pad_clips_cuts_long_clips(caplog):
    audio, lengths = data.pad_clips([np.ones(5, "float32")], max_samples=3)
    assert audio.shape == (1, 3) and lengths.tolist() == [3]
    assert "cut" in caplog.text
