import os

import pytest

from applications.skeleton.files import DataFolderError, list_class_folders


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_sorted_classes_files_and_hidden_entries_skipped(tmp_path):
    for name in ("b/2.wav", "b/1.wav", "a/x/3.wav", "a/.hidden.wav", ".git/4.wav", "a/notes.txt"):
        _touch(tmp_path / name)
    names, paths, labels = list_class_folders(tmp_path, (".wav",), "clips")
    assert names == ["a", "b"] and labels == [0, 1, 1]
    assert [os.path.relpath(p, tmp_path) for p in paths] == ["a/x/3.wav", "b/1.wav", "b/2.wav"]


def test_links_never_loop_or_leak_between_classes(tmp_path, caplog):
    _touch(tmp_path / "a" / "1.wav")
    _touch(tmp_path / "b" / "2.wav")
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink(tmp_path / "b", tmp_path / "a" / "b_again")
    os.symlink(tmp_path / "a" / "1.wav", tmp_path / "b" / "copy.wav")
    names, paths, labels = list_class_folders(tmp_path, (".wav",))
    assert len(paths) == 2 and labels == [0, 1]
    assert caplog.text.count("Not following") == 2 and "same file" in caplog.text


@pytest.mark.parametrize("layout, message", [
    ([], "No such folder"),
    (["loose.wav"], "no class subfolders"),
    (["a/1.wav", "b/readme.txt"], "Class folder(s) with no clips"),
    (["a/1.wav"], "needs at least 2 classes"),
])
def test_errors_name_the_folder(tmp_path, layout, message):
    root = tmp_path / "data"
    for name in layout:
        _touch(root / name)
    with pytest.raises(DataFolderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list_class_folders(root, (".wav",), "clips")
