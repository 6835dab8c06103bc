"""The BERT family's predictors: a masked-LM run and a text-classification run.

    predictor = applications.load("runs/bert")            # a MaskedLMPredictor
    predictor.evaluate("corpus.txt")                       # masked_accuracy, loss, perplexity
    predictor.predict(["In the [MASK] God created"])       # the best tokens for each [MASK]

    predictor = applications.load("runs/books")           # a TextClassifierPredictor
    predictor.predict(["Jesus wept."], top_k=3)            # [{"input", "label", "probability", "top_k"}]
    predictor.evaluate("test.tsv")                         # accuracy, macro_f1, per class, confusion matrix
    predictor.export()                                     # RUN/saved_model: strings in, labels out

Texts are tokenized and packed exactly as in training (`applications.text.bert.data`).
"""

import json
import logging
import os

import numpy as np

from applications.skeleton.errors import UserError
from applications.skeleton.classification import softmax
from applications.skeleton.predictor import Predictor
from applications.text.bert.task import MASKED_LM, TEXT_CLASSIFICATION

logger = logging.getLogger(__name__)


class _BertPredictor(Predictor):
    def __init__(self, model, tokenizer, info=None, folder=None):
        super().__init__(model, info, folder)
        self.tokenizer = tokenizer

    @classmethod
    def from_run(cls, folder, info):
        from applications.skeleton.loading import load_keras_model
        from applications.text.bert.tokenizers import load_tokenizer

        tokenizer = load_tokenizer(folder.file, info.get("preprocessing", {}))
        return cls(load_keras_model(folder.model_path), tokenizer, info, folder)

    @property
    def encoder(self):
        return self.model.encoder

    @property
    def sequence_length(self):
        return int(self.preprocessing.get("sequence_length", self.encoder.max_sequence_length))


class MaskedLMPredictor(_BertPredictor):
    """Predictor of a `masked-lm` run (see the module doc)."""

    task = MASKED_LM
    model_classes = ("applications.text.bert>BertMaskedLM",)

    def evaluate(self, data, batch_size=32, seed=0):
        """Masked-token accuracy, loss (mean cross-entropy over the chosen tokens) and perplexity on
        a corpus, masked as in training with a fixed `seed` (the same numbers on every call)."""
        from applications.text.bert.data import masked_lm_dataset, read_corpus, windows_of

        texts = read_corpus(data)
        examples = texts
        if self.preprocessing.get("examples") == "windows":
            examples = windows_of(self.tokenizer, texts, self.sequence_length, str(data))
        dataset = masked_lm_dataset(examples, self.tokenizer, batch_size, self.sequence_length, seed=seed,
                                    drop_remainder=False)
        total_loss, correct, count = 0.0, 0, 0
        for features, labels in dataset:
            logits = np.asarray(self.model(features, training=False), np.float64)  # (B, P, V)
            labels = labels.numpy()
            chosen = labels != 0
            top = logits.max(-1, keepdims=True)
            log_probs = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))  # log softmax
            picked = np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
            total_loss -= float(picked[chosen].sum())
            correct += int((logits.argmax(-1) == labels)[chosen].sum())
            count += int(chosen.sum())
        loss = total_loss / max(1, count)
        return {"masked_accuracy": correct / max(1, count), "loss": loss, "perplexity": float(np.exp(loss)),
                "num_masked_tokens": count, "num_examples": len(examples)}

    def predict(self, texts, top_k=5, batch_size=32):
        """For each text with `[MASK]` tokens: the `top_k` tokens at each, best first, and the
        text with every `[MASK]` filled by its best token."""
        import tensorflow as tf

        from applications.text.bert.data import pack
        from applications.text.bert.tokenizers import MASK

        results = []
        for number, text in enumerate(texts, start=1):
            pieces = text.split(MASK)
            if len(pieces) < 2:
                raise UserError(f"input {number} has no {MASK}: the masked-LM predicts masked tokens "
                                f"(e.g. 'In the {MASK} God created'): {text[:60]!r}")
            ids = []
            for index, piece in enumerate(pieces):
                if index:
                    ids.append(self.tokenizer.mask_id)
                if piece.strip():
                    ids += self.tokenizer.tokenize([piece]).flat_values.numpy().tolist()
            features = pack(self.tokenizer, tf.ragged.constant([ids], tf.int32), None, self.sequence_length)
            token_ids = features["token_ids"].numpy()[0]
            positions = np.flatnonzero(token_ids == self.tokenizer.mask_id)
            if not len(positions):
                raise UserError(f"input {number}: its {MASK} tokens fall beyond the model's "
                                f"{self.sequence_length} tokens")
            features["mask_positions"] = tf.constant(positions[None, :], tf.int32)
            probabilities = softmax(np.asarray(self.model(features, training=False))[0])  # (masks, V)
            masks, best = [], []
            for position, row in zip(positions, probabilities):
                order = np.argsort(-row)[:top_k]
                tokens = self.tokenizer.id_to_token(order)
                ranked = [{"token": token, "probability": float(row[i])} for token, i in zip(tokens, order)]
                masks.append({"position": int(position), "token": ranked[0]["token"],
                              "probability": ranked[0]["probability"], "top_k": ranked})
                best.append(ranked[0]["token"])
            filled = pieces[0] + "".join(f"{token}{piece}" for token, piece in zip(best, pieces[1:]))
            results.append({"input": text, "filled": filled, "masks": masks})
        return results


class TextClassifierPredictor(_BertPredictor):
    """Predictor of a `text-classification` run (see the module doc)."""

    task = TEXT_CLASSIFICATION
    model_classes = ("applications.text.bert>BertClassifier",)

    @property
    def class_names(self):
        return list(self.model.class_names)

    @property
    def text_pairs(self):
        return bool(self.model.text_pairs)

    def _dataset(self, texts, pairs, batch_size):
        from applications.text.bert.data import classification_dataset

        return classification_dataset(texts, pairs, None, self.tokenizer, batch_size, self.sequence_length,
                                      drop_remainder=False)

    def probabilities(self, texts, pairs=None, batch_size=32):
        """`(len(texts), num_classes)` class probabilities."""
        logits = self.model.predict(self._dataset(texts, pairs, batch_size), verbose=0)
        return softmax(logits)

    def _split_inputs(self, inputs):
        if not self.text_pairs:
            return list(inputs), None
        texts, pairs = [], []
        for number, line in enumerate(inputs, start=1):
            cells = line.split("\t")
            if len(cells) != 2:
                raise UserError(f"input {number}: this model reads sentence pairs, 'text_a<TAB>text_b'; found "
                                f"{len(cells)} column(s): {line[:60]!r}")
            texts.append(cells[0])
            pairs.append(cells[1])
        return texts, pairs

    def predict(self, inputs, top_k=5, batch_size=32):
        """One dict per input (`input`, `label`, `probability`, `top_k`: `[{"label", "probability"}]`);
        a pair model reads `text_a<TAB>text_b` inputs."""
        inputs = [str(line) for line in inputs]
        if not inputs:
            return []
        texts, pairs = self._split_inputs(inputs)
        probabilities = self.probabilities(texts, pairs, batch_size)
        k = max(1, min(int(top_k), len(self.class_names)))
        results = []
        for line, row in zip(inputs, probabilities):
            ranked = [{"label": self.class_names[i], "probability": float(row[i])} for i in np.argsort(-row)[:k]]
            results.append({"input": line, "label": ranked[0]["label"], "probability": ranked[0]["probability"],
                            "top_k": ranked})
        return results

    def evaluate(self, data, batch_size=32, out_dir=None):
        """Accuracy, macro F1, per-class precision/recall/F1 and the confusion matrix on a
        labelled file; writes `confusion_matrix.png` and `evaluation.json` into `out_dir`
        (default: the run folder)."""
        from applications.skeleton.classification import (
            check_known_labels, classification_report, plot_confusion_matrix,
        )
        from applications.text.bert.data import read_labelled

        labelled = read_labelled(data)
        if labelled.text_pairs != self.text_pairs:
            wanted = "text_a<TAB>text_b<TAB>label" if self.text_pairs else "text<TAB>label"
            raise UserError(f"{data}: this model reads '{wanted}' lines; the file has "
                            f"{3 if labelled.text_pairs else 2} columns")
        for label in labelled.labels:
            if label not in self.class_names:
                check_known_labels([label], self.class_names, f"{data} (line {labelled.first_line_of(label)})")
        index = {name: i for i, name in enumerate(self.class_names)}
        truth = [index[label] for label in labelled.labels]
        predicted = self.probabilities(labelled.texts, labelled.pairs, batch_size).argmax(axis=-1)
        report = classification_report(truth, predicted, self.class_names)
        results = {"accuracy": report["accuracy"], "macro_f1": report["macro_f1"], "num_examples": len(truth),
                   "per_class": report["per_class"], "confusion_matrix": report["confusion_matrix"],
                   "class_names": self.class_names}
        out_dir = out_dir or (self.folder.path if self.folder is not None else None)
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            png = plot_confusion_matrix(np.array(report["confusion_matrix"]), self.class_names,
                                        os.path.join(out_dir, "confusion_matrix.png"),
                                        title=f"{os.path.basename(str(data))}: accuracy {report['accuracy']:.3f}")
            results["confusion_matrix_png"] = png
            with open(os.path.join(out_dir, "evaluation.json"), "w", encoding="utf-8") as file:
                json.dump(dict(results, data=os.path.abspath(str(data))), file, indent=2)
        logger.info("Accuracy %.4f, macro F1 %.4f on %d examples.", report["accuracy"], report["macro_f1"], len(truth))
        return results

    def serving_module(self):
        from applications.text.bert.export import serving_module

        return serving_module(self.model, self.tokenizer, self.sequence_length)
