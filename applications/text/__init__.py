"""Translation: from a TSV of sentence pairs to an evaluated, exported translator.

    pairs = data.read_pairs("pairs.tsv")                   # source<TAB>target per line
    translator, history = train.train_translator(pairs, "out", size="small")
    evaluate.evaluate_translator(translator, test_pairs)   # {"bleu", "exact_match", ...}
    translator.translate(["Jesus wept."], search="beam", beam_width=4)
    export.export_saved_model(translator, "out/saved_model")

Command line: `keras-attn text train|evaluate|translate|attention|export`.
"""
