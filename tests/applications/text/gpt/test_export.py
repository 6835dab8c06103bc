"""The exported GPT serves in a fresh process that never imports keras_attn, and its greedy
continuations equal `generate`'s (top-k 1), one window of the context."""

from serving import serve

SCRIPT = """
gpt = tf.saved_model.load(sys.argv[1])
out = gpt.signatures["serving_default"](prompts=tf.constant(["And God said", "", "zz\\u2603"]),
                                        max_new_tokens=tf.constant(int(sys.argv[2])))
long = gpt.signatures["serving_default"](prompts=tf.constant(["In the beginning"]), max_new_tokens=tf.constant(99))
result = {"continuations": [t.decode() for t in out["continuations"].numpy()],
          "long": long["continuations"].numpy()[0].decode()}
"""


def test_saved_model_serves_in_a_fresh_process(char_run, char_predictor, tmp_path):
    saved_model = char_predictor.export(tmp_path / "saved_model")
    served = serve(saved_model, SCRIPT, 9)
    assert served["imported"] == []
    expected = char_predictor.generate(["And God said", "", "zz\u2603"], max_new_tokens=9, top_k=1)
    assert served["continuations"] == [result["continuation"] for result in expected]
    context = char_predictor.generator.context
    assert len(served["long"]) == context - 1  # one window: at most context - 1 new tokens
