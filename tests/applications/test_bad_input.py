"""Bad, odd and legitimate-but-unusual input through the real `keras-attn` command.

One table: each case builds its files in a fresh folder, runs `applications.cli.main`, and
checks the exit status and the key words of the one-line message (stderr) or of the result.
Odd but legitimate input (a CMYK JPEG, an RGBA PNG beside a GIF, a link cycle, an empty line
to translate) must work; a mistake must be exit status 2 with one line naming the file,
line, flag or class, never a traceback.
"""

import gzip
import json
import os
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from applications.cli import main

LEGACY = os.path.join(os.path.dirname(__file__), "..", "fixtures", "legacy_runs")
TINY_VIT = ["--size", "mu/2", "--num-layers", "1", "--hidden-dim", "8", "--num-heads", "2", "--mlp-dim", "16",
            "--epochs", "1", "--batch-size", "4", "--strategy", "default", "--checkpoint-every", "0"]
TINY_TEXT = ["--num-layers", "1", "--hidden-dim", "16", "--num-heads", "2", "--intermediate-dim", "16", "--epochs", "1",
             "--batch-size", "2", "--vocabulary-size", "40", "--strategy", "default", "--checkpoint-every", "0"]


# -- files -------------------------------------------------------------------------------


def _images(root, classes=("bag", "coat"), per_class=4, size=16):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root / name / f"{index}.png")
    return root


def _pairs(root, lines, name="pairs.tsv", encoding="utf-8"):
    path = root / name
    path.write_bytes("".join(lines).encode(encoding))
    return path


def _numbers(count=40):
    from num2words import num2words

    return [f"{num2words(i)}\t{num2words(i, lang='fr')}\n" for i in range(count)]


def _file(path, content):
    path.write_bytes(content)
    return path


def _vision_run(root):
    return os.path.join(LEGACY, "vision")


def _text_run(root):
    return os.path.join(LEGACY, "text")


def _damaged_model(root, change):
    run = root / "damaged"
    shutil.copytree(os.path.join(LEGACY, "vision"), run)
    change(run / "model.keras")
    return run / "model.keras"


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _unknown_class(path):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config.update(class_name="MysteryNet", registered_name="elsewhere>MysteryNet", module=None)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else content)


def _cmyk(root):
    data = _images(root / "data")
    rgb = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(rgb).convert("CMYK").save(data / "bag" / "cmyk.jpg")
    return data


def _rgba_and_gif(root):
    data = _images(root / "data")
    image = Image.fromarray(np.random.default_rng(2).integers(0, 256, (16, 16, 3), dtype=np.uint8)).convert("RGBA")
    image.putalpha(90)
    image.save(data / "bag" / "alpha.png")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(data / "coat" / "plain.gif")
    return data


def _link_cycle(root):
    data = _images(root / "data")
    os.symlink("..", data / "bag" / "up")
    return data


def _single_class(root):
    return _images(root / "data", classes=("bag",))


def _manifest(root, rows):
    import soundfile

    root.mkdir(parents=True, exist_ok=True)
    t = np.arange(4000) / 16000
    lines = []
    for name, text in rows:
        if name.endswith(".wav") and not name.startswith("missing"):
            soundfile.write(root / name, (0.3 * np.sin(2 * np.pi * 300 * t)).astype("float32"), 16000)
        lines.append(f"{name}\t{text}")
    (root / "train.tsv").write_text("\n".join(lines) + "\n")
    return root / "train.tsv"


# -- the table ---------------------------------------------------------------------------

# id: (argv builder taking the case folder, exit status, words the message (or output) must hold)
CASES = {
    # Odd but legitimate: works.
    "cmyk_jpeg_trains": (lambda d: ["vision", "train", "--data", _cmyk(d), "--out", d / "run", *TINY_VIT, "--json"],
                         0, ['"num_train_examples": 8']),
    "rgba_png_with_gif_trains": (lambda d: ["vision", "train", "--data", _rgba_and_gif(d), "--out", d / "run",
                                            *TINY_VIT, "--json"], 0, ['"num_train_examples": 9']),
    "link_cycle_counts_each_image_once": (lambda d: ["vision", "train", "--data", _link_cycle(d), "--out", d / "run",
                                                     *TINY_VIT, "--validation-fraction", "0.25", "--json"],
                                          0, ['"num_train_examples": 6', "Not following"]),
    "translate_empty_input_is_empty": (lambda d: ["text", "translate", "--model", _text_run(d), "--json", ""],
                                       0, ['[{"input": "", "translation": ""}]']),
    "translate_long_input_warns_with_its_number": (lambda d: ["text", "translate", "--model", _text_run(d), "one",
                                                              " ".join(["twelve"] * 5000)],
                                                   0, ["Input 2 has", "only its first"]),
    "text_train_json_is_alone_on_stdout": (lambda d: ["text", "train", "--data", _pairs(d, _numbers()), "--out",
                                                      d / "run", *TINY_TEXT, "--max-length", "12", "--json"],
                                           0, ['"task": "translation"']),
    # Mistakes: exit 2, one line that names the problem.
    "single_class_folder": (lambda d: ["vision", "train", "--data", _single_class(d), "--out", d / "run"],
                            2, ["one class folder (bag)", "at least 2 classes"]),
    "no_image_folder": (lambda d: ["vision", "train", "--data", d / "nope", "--out", d / "run"], 2, ["No such folder"]),
    "predict_missing_image": (lambda d: ["vision", "predict", "--model", _vision_run(d), d / "gone.png"],
                              2, ["No such image file", "gone.png"]),
    "predict_corrupt_image": (lambda d: ["vision", "predict", "--model", _vision_run(d), _file(d / "bad.png", b"xx")],
                              2, ["bad.png", "--skip-bad-files"]),
    "truncated_model_is_damaged": (lambda d: ["vision", "predict", "--model", _damaged_model(d, _truncate),
                                              os.path.join(LEGACY, "digit_3.png")],
                                   2, ["model.keras is damaged", "not a complete .keras archive"]),
    "unknown_class_in_model": (lambda d: ["vision", "predict", "--model", _damaged_model(d, _unknown_class),
                                          os.path.join(LEGACY, "digit_3.png")], 2, ["'MysteryNet'", "model.keras"]),
    "all_pairs_too_long": (lambda d: ["text", "train", "--data", _pairs(d, ["one two three four five six seven\tun\n",
                                                                            "eight nine ten eleven twelve\tdeux\n",
                                                                            "thirteen fourteen fifteen\ttrois\n"]),
                                      "--out", d / "run", *TINY_TEXT, "--max-length", "3", "--validation-fraction",
                                      "0"], 2, ["every one of the 3 training pairs is longer than --max-length 3"]),
    "pair_line_without_tab": (lambda d: ["text", "train", "--data", _pairs(d, ["one\tun\n", "two deux\n"]), "--out",
                                         d / "run"], 2, ["pairs.tsv, line 2", "no tab"]),
    "pair_file_not_utf8": (lambda d: ["text", "train", "--data", _pairs(d, ["caf\u00e9\tcaf\u00e9\n"],
                                                                        encoding="utf-16"), "--out", d / "run"],
                           2, ["pairs.tsv", "not UTF-8"]),
    "empty_pair_file": (lambda d: ["text", "train", "--data", _pairs(d, []), "--out", d / "run"],
                        2, ["pairs.tsv", "no sentence pairs"]),
    "gzip_that_is_not": (lambda d: ["text", "train", "--data", _pairs(d, ["a\tb\n"], name="pairs.tsv.gz"), "--out",
                                    d / "run"], 2, ["pairs.tsv.gz"]),
    "model_of_another_task": (lambda d: ["vision", "evaluate", "--model", _text_run(d), "--data", d],
                              2, ["holds a translation run (keras-attn text)", "needs an image-classification run"]),
    "no_such_run": (lambda d: ["speech", "predict", "--model", d / "nothing", "x.wav"], 2, ["No such run folder"]),
    "unknown_size": (lambda d: ["vision", "train", "--data", _images(d / "data"), "--out", d / "run", "--size",
                                "Huge/16"], 2, ["--size", "unknown ViT size 'Huge/16'"]),
    "image_size_not_a_multiple": (lambda d: ["vision", "train", "--data", _images(d / "data"), "--out", d / "run",
                                             "--size", "mu/4", "--image-size", "30"],
                                  2, ["--image-size 30x30 is not a multiple of the patch size 4", "patch sizes that fit"]),
    "batch_bigger_than_the_data": (lambda d: ["vision", "train", "--data", _images(d / "data"), "--out", d / "run",
                                              "--batch-size", "64"], 2, ["make no full batch of 64", "--batch-size"]),
    "init_that_does_not_exist": (lambda d: ["vision", "train", "--data", _images(d / "data"), "--out", d / "run",
                                            "--init", d / "missing"], 2, ["--init", "no such run folder"]),
    "transcript_outside_vocabulary": (lambda d: ["speech", "train", "--task", "ctc", "--data",
                                                 _manifest(d / "clips", [("a.wav", "call 911"), ("b.wav", "ok")]),
                                                 "--out", d / "run"], 2, ["a.wav", "'1', '9'", "--drop-unknown-characters"]),
    "manifest_names_a_missing_clip": (lambda d: ["speech", "train", "--task", "ctc", "--data",
                                                 _manifest(d / "clips", [("a.wav", "ok"), ("missing.wav", "no")]),
                                                 "--out", d / "run"], 2, ["missing.wav", "no such file"]),
    "empty_clip": (lambda d: ["speech", "predict", "--model", os.path.join(LEGACY, "speech_classify"),
                              _file(d / "empty.wav", b"")], 2, ["empty.wav", "empty (0 bytes)"]),
    "bad_flag_value": (lambda d: ["vision", "train", "--data", d, "--out", d / "run", "--epochs", "zero"],
                       2, ["--epochs", "expected a positive integer"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_and_odd_input(case, tmp_path, capsys, caplog):
    build, expected_status, words = CASES[case]
    folder = tmp_path / case
    folder.mkdir()
    argv = [str(part) for part in build(folder)]
    try:
        status = main(argv)
    except SystemExit as stop:  # argparse rejects a flag value
        status = stop.code
    captured = capsys.readouterr()
    text = captured.out + captured.err + caplog.text
    assert status == expected_status, text[-3000:]
    assert "Traceback" not in text
    for word in words:
        assert word in text, (word, text[-3000:])
    if expected_status == 2:
        errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
        errors += [line for line in captured.err.splitlines() if "error:" in line]  # argparse's
        assert len(errors) == 1 and "\n" not in errors[0], errors  # one line
        assert captured.out == ""
        assert not (folder / "run").exists() or not os.listdir(folder / "run")  # nothing half-written
    if "--json" in argv and expected_status == 0:
        json.loads(captured.out)  # stdout is exactly one JSON document
