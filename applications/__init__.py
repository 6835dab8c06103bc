"""Model families built only from `keras_attn`, on one application skeleton.

    import applications
    predictor = applications.load("runs/vit")      # any run folder -> its task's predictor
    predictor.predict(["photo.png"])
    predictor.evaluate("test_images/")
    predictor.export()                             # RUN/saved_model, serves without the library

Families: `applications.text.translation` (`keras-attn text`), `applications.text.gpt`
(`keras-attn gpt`), `applications.text.bert` (`keras-attn bert`), `applications.vision`
(`keras-attn vision`), `applications.speech` (`keras-attn speech`); the shared machinery is
in `applications.skeleton`. Importing this package imports no TensorFlow.
"""


def load(path, tasks=None, command=None):
    """The predictor of a run folder (or `.keras` file); see `applications.skeleton.loading.load`."""
    from applications.skeleton.loading import load as _load

    return _load(path, tasks=tasks, command=command)
