"""`keras-attn gpt train|evaluate|generate|export`: the GPT family's commands.

    keras-attn gpt train --data corpus.txt --out runs/gpt          (a file, a folder of .txt, or -)
    keras-attn gpt evaluate --model runs/gpt --data held_out.txt --json
    keras-attn gpt generate --model runs/gpt --prompt "In the beginning" --max-new-tokens 200 --top-p 0.9
    echo "And God said" | keras-attn gpt generate --model runs/gpt --num-samples 3 --json
    keras-attn gpt export --model runs/gpt

Imports no TensorFlow (the help screens stay fast).
"""

import sys

from applications.skeleton.commands import (
    add_evaluate_command, add_export_command, add_predict_command, add_train_command, load_predictor,
)
from applications.skeleton.flags import _positive_int
from applications.text.gpt.task import TASK_NAME, CausalLanguageModelTask

TASKS = {TASK_NAME: "applications.text.gpt.predictor:GPTPredictor"}
CUSTOM_OBJECTS = None  # the model is made of keras_attn's own layers
DATA_LAYOUT = ("--data is a UTF-8 text file (optionally .gz), a folder (every .txt file below it, sorted by path, "
               "each followed by a line break when it lacks one) or - for standard input. The validation text is "
               "the last --validation-fraction of the characters unless --validation-data is given.")
GENERATE_NOTES = (
    "Prompts are the --prompt values, else one per stdin line. One prompt and one sample without --json are "
    "streamed as they are produced. Sampling is seeded (--seed): the same seed gives the same text. A prompt "
    "longer than the model's context keeps its last tokens (with a warning); continuations longer than the "
    "context slide the window (its last half is read again). --top-k 1 is greedy decoding."
)


def _predictor(args, command):
    return load_predictor(args, (TASK_NAME,), f"gpt {command}")


def _evaluate(args):
    return _predictor(args, "evaluate").evaluate(args.data, batch_size=args.batch_size)


def _evaluate_text(result):
    return [f"loss {result['loss']:.4f}  perplexity {result['perplexity']:.3f}  "
            f"bits per character {result['bits_per_character']:.4f}  ({result['tokens']} tokens, "
            f"{result['characters']} characters)"]


def _prompts(args):
    if args.prompt is not None:
        return list(args.prompt)
    return [line.rstrip("\r\n") for line in sys.stdin]


def _generate(args):
    predictor = _predictor(args, "generate")
    prompts = _prompts(args)
    options = dict(max_new_tokens=args.max_new_tokens, num_samples=args.num_samples, temperature=args.temperature,
                   top_k=args.top_k, top_p=args.top_p, seed=args.seed)
    if len(prompts) == 1 and args.num_samples == 1 and not args.json:
        out = getattr(args, "stdout", None) or sys.stdout

        def write(text):
            out.write(text)
            out.flush()

        write(prompts[0])
        predictor.generate(prompts, stream=write, **options)
        write("\n")
        return None  # already written
    return predictor.generate(prompts, **options)


def _generate_text(results):
    lines = []
    for index, result in enumerate(results):
        if index:
            lines.append("---")
        lines.append(result["prompt"] + result["continuation"])
    return lines


def register(subparsers):
    """Add `gpt` and its sub-commands to the `keras-attn` parser."""
    gpt = subparsers.add_parser("gpt", help="GPT-style causal language models on plain text")
    commands = gpt.add_subparsers(dest="gpt_command", required=True, metavar="COMMAND")

    train = add_train_command(commands, CausalLanguageModelTask(), help="train a GPT on a text corpus",
                              description=DATA_LAYOUT)
    train.add_argument("--sequence-length", type=_positive_int, metavar="N",
                       help="tokens per training window and the model's context (default: 64)")
    train.add_argument("--tokenizer", choices=("char", "sentencepiece"),
                       help="one id per character, or SentencePiece with byte fallback (default: char); "
                            "--init keras_hub:<preset> uses the preset's GPT-2 tokenizer")
    train.add_argument("--vocabulary-size", type=_positive_int, metavar="N",
                       help="SentencePiece pieces, a soft limit of at least ~300 (default: 1000)")
    train.add_argument("--positions", choices=("learned", "rotary"), help="position embeddings (default: learned)")
    train.add_argument("--untied-output", action="store_true", default=None,
                       help="an output projection of its own instead of the token table")

    add_evaluate_command(commands, _evaluate, "loss, perplexity and bits per character on a text",
                         description=DATA_LAYOUT, text=_evaluate_text)

    generate = add_predict_command(commands, _generate, "continue prompts (streamed for one prompt)",
                                   name="generate", aliases=("predict",), description=GENERATE_NOTES,
                                   text=_generate_text)
    generate.add_argument("--prompt", action="append", metavar="TEXT",
                          help="a prompt (repeat for several; default: one per stdin line)")
    generate.add_argument("--max-new-tokens", type=_positive_int, default=200, metavar="N",
                          help="tokens to generate per sample (default: 200)")
    generate.add_argument("--temperature", type=float, default=1.0, metavar="T", help="default: 1.0")
    generate.add_argument("--top-k", type=_positive_int, metavar="K", help="sample from the K most probable tokens")
    generate.add_argument("--top-p", type=float, metavar="P",
                          help="sample from the smallest set of tokens whose probability reaches P")
    generate.add_argument("--seed", type=int, default=0, help="sampling seed (default: 0)")
    generate.add_argument("--num-samples", type=_positive_int, default=1, metavar="M",
                          help="samples per prompt (default: 1)")

    add_export_command(commands, (TASK_NAME,), "gpt",
                       help="write a SavedModel: prompt strings and max_new_tokens in, greedy continuations out")
    return gpt
