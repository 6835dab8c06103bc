"""BERT: book-kind accuracy after a fixed CPU time budget, from the pretrained encoder vs from
scratch vs TF-IDF + logistic regression.

    python benchmarks/applications/bert_classification.py --pretrain-seconds 600 --budget-seconds 180 \
        [--quick] [--out benchmarks/APPLICATIONS.md]

Data: the shipped book-kind task (`data/text/bible_books_{train,test}.tsv.gz`: 3,851 train
verses, 1,050 balanced test verses, 7 classes, chance 1/7) and, for pretraining, the English side
of the shipped Bible pairs without the test verses (~28,700 verses). Everything goes through the
BERT application's own parts: `MaskedLMTask` / `TextClassificationTask` read the data (WordPiece
vocabulary, BERT packing, masking in `tf.data`, the task's validation split) and build the models
with their default settings (BERT-Tiny: 2 layers, width 128, 2 heads, feed-forward 512; 64
tokens; batch 32; dropout 0.1); the optimizer is the tasks' AdamW (weight decay 0.01 without
biases and norms, clip-norm 1) with their peak learning rate (1e-3), its warm-up + cosine
schedule planned over the time budget (`budget.py`) instead of a step count. Contenders:

- pretrained: `--pretrain-seconds` of masked-LM pretraining (windows of 64 tokens), saved as a
  run folder, then `--budget-seconds` of fine-tuning through `finetune --init`'s path (the
  pretrained vocabulary and encoder);
- scratch: `--budget-seconds` of fine-tuning a new encoder with a vocabulary trained on the
  training verses (`finetune` without `--init`);
- scratch, same total time: the same, for `--pretrain-seconds + --budget-seconds`;
- TF-IDF + logistic regression (scikit-learn): word uni- and bigrams, sublinear tf,
  `LogisticRegression(C=10)`, trained on the same training verses (the task's split, validation
  verses left out as for the others).

All are scored on the same 1,050 test verses (accuracy and macro F1,
`applications.skeleton.classification.classification_report`). One run each.
"""

import argparse
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

LOG = logging.getLogger("keras_attn.bench.applications")
START, END = "<!-- bert-classification:start -->", "<!-- bert-classification:end -->"
QUICK = dict(size="nano", sequence_length=32, vocabulary_size=300, batch_size=16, corpus_lines=1500,
             train_lines=280, test_lines=70)


def _settings(task, **values):
    from applications.skeleton.settings import resolve_settings

    return resolve_settings(task, strategy="default", **values)


def _optimizer(task, settings, progress):
    import keras

    from budget import BudgetCosineSchedule

    recipe = task.recipe
    peak = task.peak_learning_rate(settings, 0)
    optimizer = keras.optimizers.AdamW(BudgetCosineSchedule(peak, progress, warmup_fraction=recipe.warmup_fraction),
                                       weight_decay=settings.weight_decay, global_clipnorm=recipe.clip_norm)
    optimizer.exclude_from_weight_decay(var_names=list(recipe.no_weight_decay))
    return optimizer, peak


def _train(task, settings, budget_seconds, out_dir, jit_compile=True):
    """The task's data and model, trained for the budget; returns `(model, data, summary)`."""
    from budget import fit_for_budget, progress_variable
    from keras_attn.training import TrainingRun

    run = TrainingRun(out_dir, strategy="default", checkpoint_every_steps=None)
    data = task.read_data(settings, run)
    model = task.build_model(settings, data, None)
    loss, metrics = task.loss_and_metrics(settings, data)
    progress = progress_variable()
    optimizer, peak = _optimizer(task, settings, progress)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile)
    LOG.info("bert %s: %d parameters, %d examples, budget %.0f s, peak learning rate %g.", task.name,
             model.count_params(), data.num_train_examples, budget_seconds, peak)
    summary = fit_for_budget(model, data.train, budget_seconds, steps_per_epoch=data.steps_per_epoch,
                             progress=progress, out_dir=os.path.join(out_dir, "fit"))
    summary.update(parameters=int(model.count_params()), peak_learning_rate=peak)
    return model, data, summary


def _as_run_folder(model, data, task, settings, path):
    """Write a trained masked-LM as a run folder, so `finetune --init` reads it as a user's would."""
    from applications.skeleton.run_folder import RunFolder

    folder = RunFolder(path)
    os.makedirs(folder.path, exist_ok=True)
    model.save(folder.model_path)
    for name, content in data.assets.items():
        with open(folder.file(name), "wb") as file:
            file.write(content)
    folder.finish({"task": task.name, "family": task.family, "preprocessing": data.preprocessing,
                   "model_config": model.encoder.get_config(), "training": settings.to_dict(),
                   "assets": sorted(data.assets)})
    return folder.path


def _score(model, data, texts, labels):
    from applications.skeleton.classification import classification_report
    from applications.text.bert.data import classification_dataset

    names = data.extras["class_names"]
    dataset = classification_dataset(texts, None, None, data.extras["tokenizer"], 100,
                                     data.preprocessing["sequence_length"], drop_remainder=False)
    predicted = model.predict(dataset, verbose=0).argmax(-1)
    report = classification_report([names.index(label) for label in labels], predicted, names)
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"]}


def _tfidf(train_texts, train_labels, test_texts, test_labels, names):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from applications.skeleton.classification import classification_report

    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    classifier = LogisticRegression(C=10.0, max_iter=2000)
    classifier.fit(vectorizer.fit_transform(train_texts), train_labels)
    seconds = time.perf_counter() - start
    predicted = classifier.predict(vectorizer.transform(test_texts))
    report = classification_report([names.index(x) for x in test_labels], [names.index(x) for x in predicted], names)
    return {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "train_seconds": seconds}


def _write_tsv(path, rows):
    with open(path, "w", encoding="utf-8") as file:
        file.write("".join(f"{text}\t{label}\n" for text, label in rows))
    return path


def run(pretrain_seconds, budget_seconds, quick=False):
    from applications import datasets
    from applications.text.bert.task import MaskedLMTask, TextClassificationTask

    work = tempfile.mkdtemp(prefix="bench_bert_")
    train_rows, test_rows = datasets.read_bible_books("train"), datasets.read_bible_books("test")
    corpus_lines = datasets.bible_english_text(exclude={text for text, _ in test_rows}).splitlines()
    sizes = {}
    if quick:
        train_rows, test_rows = train_rows[:: len(train_rows) // QUICK["train_lines"]], test_rows[::15]
        corpus_lines = corpus_lines[: QUICK["corpus_lines"]]
        sizes = {key: QUICK[key] for key in ("size", "sequence_length", "vocabulary_size", "batch_size")}
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as file:
        file.write("\n".join(corpus_lines) + "\n")
    train_file = _write_tsv(os.path.join(work, "train.tsv"), train_rows)
    test_texts, test_labels = [t for t, _ in test_rows], [label for _, label in test_rows]

    results = {}
    pretrain_task, finetune_task = MaskedLMTask(), TextClassificationTask()
    pretrain_settings = _settings(pretrain_task, data=corpus, out=os.path.join(work, "pretrain"), **sizes)
    jit = not quick  # XLA's compilation outlasts a quick run
    model, data, summary = _train(pretrain_task, pretrain_settings, pretrain_seconds, os.path.join(work, "pretrain"),
                                  jit)
    summary["sequence_length"] = data.preprocessing["sequence_length"]
    summary["val_masked_accuracy"] = float(model.evaluate(data.validation, verbose=0, return_dict=True)
                                           ["masked_accuracy"]) if data.validation is not None else float("nan")
    results["pretraining"] = summary
    init = _as_run_folder(model, data, pretrain_task, pretrain_settings, os.path.join(work, "pretrained_run"))

    contenders = {"pretrained": (init, budget_seconds), "scratch": (None, budget_seconds),
                  "scratch_same_total_time": (None, budget_seconds + pretrain_seconds)}
    for name, (init_dir, seconds) in contenders.items():
        out = os.path.join(work, name)
        settings = _settings(finetune_task, data=train_file, out=out, init=init_dir,
                             **{k: v for k, v in sizes.items() if not init_dir or k in ("batch_size", "sequence_length")})
        model, data, summary = _train(finetune_task, settings, seconds, out, jit)
        summary.update(_score(model, data, test_texts, test_labels), budget_seconds=seconds)
        results[name] = summary
        LOG.info("bert %s: %s", name, summary)
    # The baseline trains on the same training verses (the task's validation verses left out).
    names = sorted({label for _, label in train_rows})
    held = _validation_texts(train_rows, finetune_task)
    kept = [(t, label) for t, label in train_rows if t not in held]
    results["tfidf"] = _tfidf([t for t, _ in kept], [label for _, label in kept], test_texts, test_labels, names)
    results["data"] = {"corpus_lines": len(corpus_lines), "train_verses": len(kept), "test_verses": len(test_rows)}
    return results


def _validation_texts(train_rows, task):
    """The verses the fine-tuning task holds out for validation (its seeded split)."""
    from applications.text.bert.task import _split

    texts = [text for text, _ in train_rows]
    _, held = _split(texts, task.defaults["validation_fraction"], 0)
    return {texts[i] for i in held}


def _number(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render(results, facts, pretrain_seconds, budget_seconds, quick):
    pre = results["pretraining"]
    data = results["data"]
    lines = [START, "## BERT: book-kind classification after a fixed CPU time budget", ""]
    if quick:
        lines += ["**`--quick` run: tiny models and data subsets. These numbers check that the code runs; "
                  "they measure nothing.**", ""]
    lines += [
        f"- date: {facts['date']}",
        f"- machine: {facts['machine']}",
        f"- software: {facts['versions']}",
        f"- load average (1/5/15 min) at start: {' / '.join(f'{x:.2f}' for x in facts['load'])}; at end: "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())} (wall-clock budgets: load lowers every step count)",
        f"- budget: pretraining {pretrain_seconds:g} s, fine-tuning {budget_seconds:g} s per contender, each counted "
        "from the end of its first (compiling) train step",
        f"- command: `{facts['command']}`",
        f"- data: {data['corpus_lines']} pretraining verses (test verses excluded), {data['train_verses']} training "
        f"verses (the task's 10 % validation verses held out), {data['test_verses']} test verses, 7 classes "
        "(chance 0.143)",
        "",
        "| contender | test accuracy | macro F1 | training | steps | parameters |",
        "|---|---|---|---|---|---|",
    ]
    rows = [
        ("fine-tuned from the pretrained encoder", results["pretrained"],
         f"{pretrain_seconds:g} s pretraining + {budget_seconds:g} s"),
        ("from scratch", results["scratch"], f"{budget_seconds:g} s"),
        ("from scratch, same total time", results["scratch_same_total_time"],
         f"{pretrain_seconds + budget_seconds:g} s"),
    ]
    for label, result, time_text in rows:
        lines.append(f"| {label} | {_number(result['accuracy'])} | {_number(result['macro_f1'])} | {time_text} | "
                     f"{result['steps']} ({result['epochs']:.1f} ep) | {result['parameters']} |")
    tfidf = results["tfidf"]
    lines.append(f"| TF-IDF + logistic regression (scikit-learn) | {_number(tfidf['accuracy'])} | "
                 f"{_number(tfidf['macro_f1'])} | {tfidf['train_seconds']:.1f} s | - | - |")
    lines += ["", f"Pretraining: {pre['steps']} steps ({pre['epochs']:.2f} epochs of {pre['sequence_length']}-token windows), "
              f"held-out masked-token accuracy {_number(pre['val_masked_accuracy'])}, last epoch's train loss "
              f"{pre['loss']:.3f}.", "",
              "What is compared is in `benchmarks/applications/bert_classification.py`'s docstring: the BERT "
              "application's own data pipeline, models, optimizer and schedule (planned over the budget), one run "
              "each, so a point or two of accuracy is within noise.", END]
    return "\n".join(lines) + "\n"


def write_section(path, section):
    """Replace the section between the markers in `path` (or append it)."""
    text = Path(path).read_text(encoding="utf-8") if os.path.exists(path) else ""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    Path(path).write_text(text.lstrip("\n"), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pretrain-seconds", type=float, default=600.0)
    parser.add_argument("--budget-seconds", type=float, default=180.0, help="fine-tuning seconds per contender")
    parser.add_argument("--quick", action="store_true", help="tiny models and data: checks the code runs")
    parser.add_argument("--out", default=str(HERE.parent / "APPLICATIONS.md"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    from budget import machine_facts

    facts = machine_facts()
    started = time.time()
    results = run(args.pretrain_seconds, args.budget_seconds, quick=args.quick)
    write_section(args.out, render(results, facts, args.pretrain_seconds, args.budget_seconds, args.quick))
    print(f"wrote {args.out} ({(time.time() - started) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
