"""`Predictor`: a trained run, ready to predict, evaluate and export.

Every family's predictor subclasses this. `applications.load(run_dir)` returns the right one
for any run folder; a family builds it from its model and assets in `from_run`.

A predictor holds:

- `model`: the trained `keras.Model`;
- `info`: the run's `run.json` (task, configs, settings, metrics);
- `folder`: its `RunFolder` (for assets), or `None` for a model made in memory.

and implements `predict(inputs, **options)` (a list with one dict per input),
`evaluate(data, **options)` (a dict of the field's metrics) and `serving_module()` (the
`tf.Module` and signatures of its SavedModel, which serves without the library).
"""

import os

from applications.skeleton.export import SAVED_MODEL_DIR, write_saved_model


class Predictor:
    """The base of every family's predictor (see the module doc)."""

    task = None

    def __init__(self, model, info=None, folder=None):
        self.model = model
        self.info = dict(info or {})
        self.folder = folder

    @classmethod
    def from_run(cls, folder, info):
        """Build the predictor of a finished run folder (families read their assets here)."""
        from applications.skeleton.loading import load_keras_model

        return cls(load_keras_model(folder.model_path), info, folder)

    @classmethod
    def from_legacy(cls, folder):
        """A run folder of keras-attn 0.1 whose model holds everything (the 0.1 class names are
        mapped by `load_keras_model`); families with assets override this."""
        from applications.skeleton.loading import load_keras_model

        return cls(load_keras_model(folder.model_path), {"task": cls.task, "legacy": "keras-attn 0.1"}, folder)

    @property
    def preprocessing(self):
        return self.info.get("preprocessing", {})

    def predict(self, inputs, **options):
        raise NotImplementedError

    def evaluate(self, data, **options):
        raise NotImplementedError

    def serving_module(self):
        """`(tf.Module, {signature name: concrete function})` of the SavedModel."""
        raise NotImplementedError(f"{type(self).__name__} has no SavedModel export.")

    def default_export_dir(self):
        if self.folder is None:
            raise ValueError("This predictor has no run folder: pass the SavedModel folder.")
        return os.path.join(self.folder.path, SAVED_MODEL_DIR)

    def export(self, directory=None):
        """Write the SavedModel (default `RUN/saved_model`); returns its folder."""
        directory = directory or self.default_export_dir()
        module, signatures = self.serving_module()
        return write_saved_model(module, signatures, directory)
