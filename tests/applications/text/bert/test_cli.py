"""`keras-attn bert pretrain -> finetune --init -> evaluate / predict / export` through
`applications.cli.main`, and the one-line errors (exit status 2) for bad input."""

import json

import pytest
from bert_test_data import TINY, run_cli

from applications import cli


def test_pretrain_run_folder(pretrained):
    out, info = pretrained
    assert info["task"] == "masked-lm" and info["family"] == "bert"
    assert info["assets"] == ["vocabulary.txt"] and (out / "vocabulary.txt").is_file()
    assert info["preprocessing"]["tokenizer"] == "wordpiece" and info["preprocessing"]["max_predictions"] == 4
    assert info["model_config"]["norm_first"] is False and info["model_config"]["max_sequence_length"] == 24
    assert {"loss", "masked_accuracy"} <= set(info["metrics"])
    assert info["summary"]["steps"] == 30


def test_finetune_from_the_pretrained_encoder(finetuned, pretrained):
    out, info = finetuned
    assert info["task"] == "text-classification"
    assert info["training"]["init"] == str(pretrained[0])
    assert (out / "vocabulary.txt").read_text() == (pretrained[0] / "vocabulary.txt").read_text()
    assert info["preprocessing"]["class_names"] == ["first", "second", "third"]
    assert info["training"]["peak_learning_rate"] == 3e-3


def test_evaluate_classifier_json(capsys, finetuned, bert_files, tmp_path):
    out, _ = finetuned
    result = run_cli(capsys, "bert", "evaluate", "--model", str(out), "--data", str(bert_files["test"]),
                     "--out", str(tmp_path))
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix", "confusion_matrix_png",
            "num_examples"} <= set(result)
    assert set(result["per_class"]) == {"first", "second", "third"}
    assert {"precision", "recall", "f1", "support"} == set(result["per_class"]["first"])
    assert result["num_examples"] == 120 and result["accuracy"] > 0.5  # chance: 1/3
    assert (tmp_path / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")


def test_predict_classifier_json_and_text(capsys, finetuned):
    out, _ = finetuned
    inputs = ["the light alpha of day", "beta over water"]
    results = run_cli(capsys, "bert", "predict", "--model", str(out), "--top-k", "2", *inputs)
    assert [result["input"] for result in results] == inputs
    for result in results:
        assert set(result) == {"input", "label", "probability", "top_k"}
        assert len(result["top_k"]) == 2 and result["top_k"][0]["label"] == result["label"]
        assert 0.0 < result["probability"] <= 1.0
    assert cli.main(["bert", "predict", "--model", str(out), inputs[0]]) == 0
    assert capsys.readouterr().out.split("\t")[2].strip() == inputs[0]


def test_evaluate_and_predict_masked_lm(capsys, pretrained, bert_files):
    out, _ = pretrained
    scores = run_cli(capsys, "bert", "evaluate", "--model", str(out), "--data", str(bert_files["corpus"]))
    assert set(scores) == {"masked_accuracy", "loss", "perplexity", "num_masked_tokens", "num_examples"}
    assert scores["num_examples"] > 100 and 0.0 <= scores["masked_accuracy"] <= 1.0  # windows of 22 tokens
    again = run_cli(capsys, "bert", "evaluate", "--model", str(out), "--data", str(bert_files["corpus"]))
    assert again == scores  # the evaluation masks are seeded
    filled = run_cli(capsys, "bert", "predict", "--model", str(out), "In the [MASK], God created the [MASK].")
    assert len(filled) == 1 and len(filled[0]["masks"]) == 2 and "[MASK]" not in filled[0]["filled"]
    assert len(filled[0]["masks"][0]["top_k"]) == 5


def test_finetune_from_scratch_pairs_sentencepiece_and_freeze(capsys, bert_files, tmp_path):
    pairs = tmp_path / "pairs.tsv"
    lines = [line.split("\t") for line in bert_files["train"].read_text().splitlines()[:64]]
    pairs.write_text("".join(f"{text}\t{text[::-1]}\t{label}\n" for text, label in lines), encoding="utf-8")
    summary = run_cli(capsys, "bert", "finetune", "--data", str(pairs), "--out", str(tmp_path / "run"), *TINY,
                      "--vocabulary-size", "100", "--max-steps", "3", "--freeze-encoder", "--norm", "pre",
                      "--tokenizer", "sentencepiece")
    assert summary["task"] == "text-classification" and summary["steps"] == 3
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["preprocessing"]["text_pairs"] is True and info["model_config"]["norm_first"] is True
    assert info["model_config"]["trainable"] is False  # --freeze-encoder
    assert info["assets"] == ["tokenizer.model"] and info["preprocessing"]["tokenizer"] == "sentencepiece"
    results = run_cli(capsys, "bert", "predict", "--model", str(tmp_path / "run"), "alpha light\tthgil ahpla")
    assert results[0]["label"] in ("first", "second", "third")


def _error(capsys, *argv):
    """The one error line of a failing command (the runner logs it on the `keras_attn` logger)."""
    import logging

    records = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append
    logger = logging.getLogger("keras_attn")
    logger.addHandler(handler)
    try:
        code = cli.main(list(argv))
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    errors = [f"ERROR: {record.getMessage()}" for record in records]
    assert len(errors) == 1 and "\n" not in errors[0] and "Traceback" not in err, (errors, err)
    return errors[0]


def test_empty_corpus(capsys, tmp_path):
    corpus = tmp_path / "empty.txt"
    corpus.write_text("\n\n", encoding="utf-8")
    err = _error(capsys, "bert", "pretrain", "--data", str(corpus), "--out", str(tmp_path / "run"), *TINY)
    assert f"{corpus}: the corpus is empty" in err
    assert not (tmp_path / "run").exists()  # a failed new run leaves nothing behind


def test_corpus_shorter_than_one_window(capsys, tmp_path):
    corpus = tmp_path / "short.txt"
    corpus.write_text("In the beginning\nGod created\n", encoding="utf-8")
    err = _error(capsys, "bert", "pretrain", "--data", str(corpus), "--out", str(tmp_path / "run"), *TINY,
                 "--examples", "windows", "--vocabulary-size", "30")
    assert f"{corpus} has" in err and "fewer than one window of 22" in err


def test_corpus_of_fewer_lines_than_one_batch(capsys, tmp_path):
    corpus = tmp_path / "few.txt"
    corpus.write_text("In the beginning\nGod created\nthe heavens\n", encoding="utf-8")
    err = _error(capsys, "bert", "pretrain", "--data", str(corpus), "--out", str(tmp_path / "run"), *TINY,
                 "--vocabulary-size", "30", "--examples", "lines")
    assert f"{corpus}: 2 examples (lines) make no full batch of 16" in err  # one line held out


def test_line_without_a_label(capsys, tmp_path):
    data = tmp_path / "train.tsv"
    data.write_text("alpha light\tfirst\nbeta water\n", encoding="utf-8")
    err = _error(capsys, "bert", "finetune", "--data", str(data), "--out", str(tmp_path / "run"), *TINY)
    assert f"{data}, line 2: no label" in err


def test_label_seen_only_at_evaluation(capsys, finetuned, tmp_path):
    data = tmp_path / "test.tsv"
    data.write_text("alpha light\tfirst\ngamma water\tfourth\n", encoding="utf-8")
    err = _error(capsys, "bert", "evaluate", "--model", str(finetuned[0]), "--data", str(data))
    assert f"{data} (line 2) has label(s) the model was not trained on: fourth" in err


def test_pretrain_refuses_init_and_finetune_refuses_a_long_sequence(capsys, pretrained, bert_files, tmp_path):
    err = _error(capsys, "bert", "pretrain", "--data", str(bert_files["corpus"]), "--out", str(tmp_path / "a"),
                 "--init", str(pretrained[0]))
    assert "--init belongs to bert finetune" in err
    err = _error(capsys, "bert", "finetune", "--data", str(bert_files["train"]), "--out", str(tmp_path / "b"),
                 "--init", str(pretrained[0]), "--sequence-length", "64")
    assert "--sequence-length 64 is longer than the --init encoder's position table (24)" in err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_other_task_run_is_refused(capsys, tmp_path, command):
    (tmp_path / "run.json").write_text(json.dumps({"task": "image-classification"}))
    (tmp_path / "model.keras").write_bytes(b"x")
    extra = ["--data", "x.tsv"] if command == "evaluate" else ["text"]
    err = _error(capsys, "bert", command, "--model", str(tmp_path), *extra)
    assert "keras-attn bert" in err
