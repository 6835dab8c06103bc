"""`keras-attn gpt train|evaluate|generate`: JSON keys, stdout carries only results, streaming
prints what `generate` returns, bad input is one line naming the file (and line) with exit 2."""

import io
import json
import math

import pytest

from applications import cli


def test_train_summary_and_run_folder(char_run):
    info = json.loads((char_run / "run.json").read_text())
    assert info["task"] == "causal-lm" and info["family"] == "gpt"
    assert set(info["metrics"]) >= {"loss", "val_loss", "val_perplexity", "val_bits_per_character", "val_tokens"}
    assert info["summary"]["steps"] == 30 and info["preprocessing"]["tokenizer"] == "char"
    assert (char_run / "tokenizer.json").is_file() and (char_run / "model.keras").is_file()


def test_evaluate_json_keys_and_bits_per_character(char_run, corpus_file, capsys):
    capsys.readouterr()
    assert cli.main(["gpt", "evaluate", "--model", str(char_run), "--data", str(corpus_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"loss", "perplexity", "bits_per_character", "tokens", "characters"}
    text = corpus_file.read_text(encoding="utf-8")
    assert result["characters"] == len(text) and result["tokens"] == len(text) - 1  # characters: every one but the first
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))
    assert result["bits_per_character"] == pytest.approx(result["loss"] * result["tokens"] / len(text) / math.log(2))


def test_validation_metrics_equal_evaluate_on_the_validation_text(char_run, char_predictor, bible_text, tmp_path):
    info = json.loads((char_run / "run.json").read_text())
    validation = tmp_path / "validation.txt"
    validation.write_text(bible_text[len(bible_text) - round(len(bible_text) * 0.1):], encoding="utf-8")
    scores = char_predictor.evaluate(validation, batch_size=8)
    assert scores["bits_per_character"] == pytest.approx(info["metrics"]["val_bits_per_character"], rel=1e-5)
    assert scores["tokens"] == info["metrics"]["val_tokens"]


def test_generate_json_and_streaming(char_run, char_predictor, capsys, monkeypatch):
    capsys.readouterr()
    argv = ["gpt", "generate", "--model", str(char_run), "--max-new-tokens", "12", "--seed", "3", "--top-p", "0.9"]
    assert cli.main([*argv, "--prompt", "And God", "--prompt", "In the ", "--num-samples", "2", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [(r["prompt"], r["sample"]) for r in results] == [("And God", 0), ("And God", 1), ("In the ", 0),
                                                             ("In the ", 1)]
    assert all(set(r) == {"prompt", "sample", "continuation"} for r in results)
    # One prompt, one sample: streamed to stdout, the same text generate returns.
    assert cli.main([*argv, "--prompt", "And God"]) == 0
    [expected] = char_predictor.generate(["And God"], max_new_tokens=12, seed=3, top_p=0.9)
    assert capsys.readouterr().out == "And God" + expected["continuation"] + "\n"
    # Prompts on stdin, one a line.
    monkeypatch.setattr("sys.stdin", io.StringIO("In the \nAnd God\n"))  # the shapes compiled above
    assert cli.main([*argv, "--num-samples", "2", "--json"]) == 0
    assert [r["prompt"] for r in json.loads(capsys.readouterr().out)] == ["In the ", "In the ", "And God", "And God"]


def _bad(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("content, message", [
    (b"", "the corpus is empty"),
    (b"In the beginning\nGod \xe9 created\n", "not UTF-8 text: byte 21 (line 2)"),
    (b"too short\n", "9 tokens after holding out the last 10% for validation, fewer than one window of --sequence-length + 1 = 17 tokens"),
], ids=["empty", "not-utf8", "shorter-than-a-window"])
def test_bad_corpus_is_one_line_naming_the_file(tmp_path, capsys, caplog, content, message):
    data = _bad(tmp_path, "corpus.txt", content)
    assert cli.main(["gpt", "train", "--data", str(data), "--out", str(tmp_path / "run"), "--sequence-length", "16",
                     "--strategy", "default"]) == 2
    [line] = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert line.startswith(f"{data}: ") and message in line and "\n" not in line
    assert capsys.readouterr().out == "" and not (tmp_path / "run").exists()


def test_bad_evaluate_and_generate_inputs(char_run, tmp_path, caplog):
    assert cli.main(["gpt", "evaluate", "--model", str(char_run), "--data", str(tmp_path / "none.txt")]) == 2
    assert f"{tmp_path / 'none.txt'}: no such file or folder" in caplog.text
    (tmp_path / "folder").mkdir()
    assert cli.main(["gpt", "evaluate", "--model", str(char_run), "--data", str(tmp_path / "folder")]) == 2
    assert "holds no .txt files" in caplog.text
    assert cli.main(["gpt", "generate", "--model", str(char_run), "--prompt", "a", "--top-p", "1.5"]) == 2
    assert "--top-p 1.5" in caplog.text


def test_sentencepiece_run_with_rotary_positions(tmp_path, corpus_file, capsys):
    """`--tokenizer sentencepiece --positions rotary`: trains, scores in bits per character of the
    same text, and generates text with characters it never saw (byte fallback)."""
    out = tmp_path / "sentencepiece"
    argv = ["--data", str(corpus_file), "--out", str(out), "--tokenizer", "sentencepiece", "--vocabulary-size", "400",
            "--positions", "rotary", "--num-layers", "1", "--hidden-dim", "32", "--num-heads", "2",
            "--intermediate-dim", "64", "--sequence-length", "16", "--batch-size", "8", "--max-steps", "10",
            "--checkpoint-every", "0", "--strategy", "default", "--json"]
    assert cli.main(["gpt", "train", *argv]) == 0
    info = json.loads((out / "run.json").read_text())
    assert info["preprocessing"]["tokenizer"] == "sentencepiece" and (out / "tokenizer.model").is_file()
    assert info["model_config"]["positions"] == "rotary"
    text = corpus_file.read_text(encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["gpt", "evaluate", "--model", str(out), "--data", str(corpus_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["characters"] == len(text) and result["tokens"] < len(text) - 1  # subwords: fewer tokens
    assert result["bits_per_character"] == pytest.approx(result["loss"] * result["tokens"] / len(text) / math.log(2))
    assert cli.main(["gpt", "generate", "--model", str(out), "--prompt", "Ζεύς ☃ said", "--max-new-tokens", "8",
                     "--json"]) == 0
    [generated] = json.loads(capsys.readouterr().out)
    assert generated["prompt"] == "Ζεύς ☃ said" and isinstance(generated["continuation"], str)
