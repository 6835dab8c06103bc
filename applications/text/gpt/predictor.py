"""`GPTPredictor`: a causal-lm run folder -> continuations, scores, SavedModel.

    predictor = applications.load("runs/gpt")
    predictor.generate(["In the beginning"], max_new_tokens=200, temperature=0.8, top_p=0.9, seed=1)
    # [{"prompt", "sample", "continuation"}]
    predictor.evaluate("held_out.txt")    # {"loss", "perplexity", "bits_per_character", "tokens", "characters"}
    predictor.export()                    # RUN/saved_model: prompt strings + max_new_tokens -> continuations

`generate` samples with temperature, top-k and top-p (seeded: the same seed gives the same
text), or greedily (`greedy=True`, which `top_k=1` equals); see
`applications/text/gpt/generator.py` for prompts longer than the context and continuations
longer than it.
"""

import logging

from applications.skeleton.predictor import Predictor
from applications.text.gpt.task import TASK_NAME

logger = logging.getLogger(__name__)


class GPTPredictor(Predictor):
    """Predictor of a `causal-lm` run (see the module doc)."""

    task = TASK_NAME

    def __init__(self, generator, config, info=None, folder=None):
        super().__init__(generator.model, info, folder)
        self.generator = generator
        self.config = config

    @classmethod
    def from_run(cls, folder, info):
        import os

        from applications.skeleton.errors import RunFolderError
        from applications.skeleton.loading import load_keras_model
        from applications.text.gpt.generator import Generator
        from applications.text.gpt.model import GPTConfig
        from applications.text.gpt.tokenizers import load_tokenizer

        preprocessing = info.get("preprocessing", {})
        for name in preprocessing.get("tokenizer_files", []):
            if not os.path.isfile(folder.file(name)):
                raise RunFolderError(f"{folder.path} is a damaged gpt run: {folder.file(name)} is missing")

        def read(name):
            with open(folder.file(name), "rb") as file:
                return file.read()

        tokenizer = load_tokenizer(preprocessing.get("tokenizer", "char"), read)
        config = GPTConfig.from_dict(info["model_config"])
        generator = Generator(load_keras_model(folder.model_path), tokenizer, config.sequence_length)
        return cls(generator, config, info, folder)

    @classmethod
    def from_model(cls, model, tokenizer, context=None):
        """A predictor of a model made in memory (e.g. `from_keras_hub_gpt2`) and its tokenizer."""
        from applications.text.gpt.generator import Generator
        from applications.text.gpt.model import EMBEDDING

        embedding = model.get_layer(EMBEDDING)
        context = context or getattr(embedding, "sequence_length", None)
        return cls(Generator(model, tokenizer, context), None)

    @property
    def tokenizer(self):
        return self.generator.tokenizer

    @property
    def sequence_length(self):
        """The window length the model was trained on (its context when unknown)."""
        return int(self.preprocessing.get("sequence_length", self.generator.context))

    def generate(self, prompts, max_new_tokens=100, num_samples=1, greedy=False, temperature=1.0, top_k=None,
                 top_p=None, seed=0, stream=None):
        """Continuations of each prompt (see `Generator.generate`)."""
        from applications.skeleton.errors import FlagError

        if max_new_tokens < 1:
            raise FlagError(f"--max-new-tokens {max_new_tokens}: must be at least 1")
        if not temperature > 0:
            raise FlagError(f"--temperature {temperature}: must be above 0")
        if top_k is not None and top_k < 1:
            raise FlagError(f"--top-k {top_k}: must be at least 1")
        if top_p is not None and not 0 < top_p <= 1:
            raise FlagError(f"--top-p {top_p}: must be in (0, 1]")
        if num_samples < 1:
            raise FlagError(f"--num-samples {num_samples}: must be at least 1")
        return self.generator.generate([str(prompt) for prompt in prompts], max_new_tokens, num_samples, greedy,
                                       temperature, top_k, top_p, seed, stream)

    def predict(self, prompts, **options):
        """The same as `generate`."""
        return self.generate(prompts, **options)

    def evaluate(self, data, batch_size=32, skip_bad_files=False):
        """Loss, perplexity, bits per character and tokens of a corpus (a file, a folder or `-`)."""
        from applications.text.gpt.data import read_corpus
        from applications.text.gpt.evaluation import score_text

        text = read_corpus(data)
        ids = self.tokenizer.encode(text)
        if len(ids) < 2:
            from applications.text.gpt.data import CorpusError

            raise CorpusError(f"{data}: {len(ids)} token(s): nothing to predict (at least 2 tokens)")
        return score_text(self.model, ids, len(text), self.sequence_length, batch_size, self.tokenizer.pad_id)

    def serving_module(self):
        from applications.text.gpt.export import serving_module

        return serving_module(self.generator)
