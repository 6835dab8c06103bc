"""Character and word error rates through a small Levenshtein distance."""


def edit_distance(reference, hypothesis):
    """Levenshtein distance between two sequences (substitutions, insertions, deletions).

    >>> edit_distance("kitten", "sitting")
    3
    """
    previous = list(range(len(hypothesis) + 1))
    for i, ref_item in enumerate(reference, start=1):
        current = [i]
        for j, hyp_item in enumerate(hypothesis, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_item != hyp_item))
            )
        previous = current
    return previous[-1]


def character_error_rate(references, hypotheses):
    """Corpus CER: total character edits / total reference characters.

    >>> character_error_rate(["abc", "de"], ["abd", "de"])
    0.2
    """
    return _error_rate([list(r) for r in references], [list(h) for h in hypotheses])


def word_error_rate(references, hypotheses):
    """Corpus WER: total word edits / total reference words.

    >>> word_error_rate(["one two three"], ["one too three"])
    0.3333333333333333
    """
    return _error_rate([r.split() for r in references], [h.split() for h in hypotheses])


def _error_rate(references, hypotheses):
    if len(references) != len(hypotheses):
        raise ValueError(
            "`references` and `hypotheses` must have the same length. Received: "
            f"{len(references)} references, {len(hypotheses)} hypotheses"
        )
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    total = sum(len(r) for r in references)
    return edits / max(total, 1)
