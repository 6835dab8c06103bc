"""`TranslationPredictor`: a translation run folder -> translations, BLEU, alignments, SavedModel.

    predictor = applications.load("runs/en-es")
    predictor.predict(["Jesus wept."], beam_width=4)    # [{"input", "translation"}]
    predictor.translate(["Jesus wept."])                # ["..."]
    predictor.evaluate("test.tsv")                      # bleu, chrf, exact_match, num_pairs, samples
    predictor.attention("And God saw the light", "alignment.png")
    predictor.export()                                  # RUN/saved_model: strings in, translations out

Every architecture (transformer, t5, rnn: `model_config["architecture"]` in `run.json`;
a run without it is a Transformer) loads, translates, evaluates, aligns and exports through
these same methods. Inputs are read as training did. An empty (or blank) input gives an empty translation
without running the model. An input longer than the model's `max_length - 1` source tokens
is translated from its first tokens only, and a warning names the input's number and
length (translate long texts sentence by sentence).
"""

import json
import logging
import os

from applications.skeleton.predictor import Predictor
from applications.text.translation.task import TASK_NAME

logger = logging.getLogger(__name__)


class TranslationPredictor(Predictor):
    """Predictor of a `translation` run (see the module doc)."""

    task = TASK_NAME

    def __init__(self, translator, info=None, folder=None):
        super().__init__(translator.model, info, folder)
        self.translator = translator

    @classmethod
    def from_run(cls, folder, info):
        from applications.skeleton.errors import RunFolderError
        from applications.skeleton.loading import load_keras_model
        from applications.text.tokenizer import SubwordTokenizer
        from applications.text.translation.sizes import ModelConfig
        from applications.text.translation.translator import Translator

        tokenizer_path = folder.file(info.get("preprocessing", {}).get("tokenizer", "tokenizer.model"))
        if not os.path.isfile(tokenizer_path):
            raise RunFolderError(f"{folder.path} is a damaged translation run: {tokenizer_path} is missing")
        config = ModelConfig.from_dict(info["model_config"])
        translator = Translator(load_keras_model(folder.model_path), SubwordTokenizer.load(tokenizer_path), config)
        return cls(translator, info, folder)

    @classmethod
    def from_legacy(cls, folder):
        """A keras-attn 0.1 translator folder (`translator.json`, `tokenizer.model`)."""
        from applications.skeleton.errors import RunFolderError

        try:
            with open(folder.file("translator.json"), encoding="utf-8") as file:
                config = json.load(file)
        except (OSError, ValueError) as error:
            raise RunFolderError(f"{folder.file('translator.json')} cannot be read ({error})") from None
        info = {"task": TASK_NAME, "legacy": "keras-attn 0.1", "model_config": config,
                "preprocessing": {"tokenizer": "tokenizer.model", "max_length": config.get("max_length")}}
        return cls.from_run(folder, info)

    @property
    def max_length(self):
        return self.translator.max_length

    @staticmethod
    def _search(beam_width=None, length_penalty_alpha=0.6):
        if beam_width:
            return "beam", {"beam_width": int(beam_width), "length_penalty_alpha": float(length_penalty_alpha)}
        return "greedy", {}

    def _warn_long(self, sentences, numbers):
        """One warning naming the inputs (their 1-based `numbers`) longer than the model reads."""
        lengths = self.translator.tokenizer.tokenize(list(sentences)).row_lengths().numpy()
        limit = self.max_length - 1  # the end token takes one place
        long = [(number, int(length)) for number, length in zip(numbers, lengths) if length > limit]
        if len(long) == 1:
            logger.warning(
                "Input %d has %d tokens; the model reads at most %d: only its first %d tokens are translated "
                "(translate long texts sentence by sentence).", long[0][0], long[0][1], limit, limit,
            )
        elif long:
            shown = ", ".join(f"{number} ({length} tokens)" for number, length in long[:5])
            more = f" and {len(long) - 5} more" if len(long) > 5 else ""
            logger.warning(
                "%d of %d inputs are longer than the model reads (%d tokens): inputs %s%s. Only their first %d "
                "tokens are translated (translate long texts sentence by sentence).",
                len(long), len(numbers), limit, shown, more, limit,
            )

    def translate(self, sentences, beam_width=None, length_penalty_alpha=0.6, batch_size=64):
        """Translations of a list of strings (empty inputs give empty translations)."""
        sentences = [str(sentence) for sentence in sentences]
        filled = [index for index, sentence in enumerate(sentences) if sentence.strip()]
        results = [""] * len(sentences)
        if not filled:
            return results
        texts = [sentences[index] for index in filled]
        self._warn_long(texts, [index + 1 for index in filled])
        search, options = self._search(beam_width, length_penalty_alpha)
        for index, translation in zip(filled, self.translator.translate(texts, search=search, batch_size=batch_size,
                                                                          **options)):
            results[index] = translation
        return results

    def predict(self, sentences, beam_width=None, length_penalty_alpha=0.6, batch_size=64):
        """One `{"input", "translation"}` per sentence."""
        translations = self.translate(sentences, beam_width, length_penalty_alpha, batch_size)
        return [{"input": source, "translation": target} for source, target in zip(sentences, translations)]

    def evaluate(self, data, beam_width=None, length_penalty_alpha=0.6, batch_size=64, num_samples=5):
        """Corpus BLEU, chrF (sacrebleu) and exact match on a pair file, and a few samples."""
        from applications.text.translation.data import read_pairs
        from applications.text.translation.evaluate import score_translations

        pairs = read_pairs(data)
        sources, references = [source for source, _ in pairs], [target for _, target in pairs]
        hypotheses = self.translate(sources, beam_width, length_penalty_alpha, batch_size)
        results = score_translations(hypotheses, references)
        results["samples"] = [{"source": s, "reference": r, "translation": h}
                              for s, r, h in list(zip(sources, references, hypotheses))[:num_samples]]
        logger.info("BLEU %.2f, exact match %.3f on %d pairs.", results["bleu"], results["exact_match"], len(pairs))
        return results

    def attention(self, sentence, out):
        """Save the alignment heatmap of one translation (the last decoder block's cross-attention,
        or the RNN's additive attention); returns the PNG path."""
        from applications.skeleton.errors import UserError
        from applications.text.translation.plots import plot_alignment

        if not sentence.strip():
            raise UserError("The sentence is empty: there is nothing to align.")
        self._warn_long([sentence], [1])
        source, target, weights = self.translator.cross_attention(sentence)
        return plot_alignment(source, target, weights, out, title=sentence[:60])

    def serving_module(self):
        from applications.text.translation.export import serving_module

        return serving_module(self.translator)
