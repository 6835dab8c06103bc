"""The SavedModel of an image classifier: encoded image bytes in, top labels out.

Its `serving_default` signature maps `{"images": (batch,) tf.string}` (the bytes of JPEG,
PNG, BMP or GIF files; a GIF gives its first frame) to
`{"labels": (batch, k) tf.string, "probabilities": (batch, k) float32}`, best first, with
`k = min(5, classes)`. Each image is decoded by TensorFlow, converted to the model's
channels with the same rules as training (`applications.vision.data.to_channels`), resized
bilinearly and normalised to [-1, 1], so its answers equal `predict` on the same files.
A process that imports neither `keras_attn` nor `applications` serves it:

    import tensorflow as tf
    classifier = tf.saved_model.load("RUN/saved_model")
    out = classifier.signatures["serving_default"](images=tf.constant([open("a.png", "rb").read()]))
    out["labels"][0, 0], out["probabilities"][0, 0]

TensorFlow's decoders read 8-bit JPEG (grey or colour), PNG, BMP and GIF; convert other
files (CMYK JPEG, 16-bit PNG, TIFF, WebP) before serving, or use `keras-attn vision predict`,
which reads every format Pillow reads.
"""

import tensorflow as tf

from applications.vision.data import LUMA


def _to_channels(pixels, channels):
    """TensorFlow twin of `data.to_channels` for a decoded `uint8 (H, W, 1|2|3|4)` image."""
    pixels = tf.cast(pixels, tf.float32)
    have = tf.shape(pixels)[-1]
    opaque = tf.fill(tf.concat([tf.shape(pixels)[:2], [1]], 0), 255.0)

    def rgba():  # every decoded layout as RGB + alpha
        return tf.switch_case(have - 1, [
            lambda: tf.concat([tf.repeat(pixels[..., :1], 3, axis=-1), opaque], -1),  # grey
            lambda: tf.concat([tf.repeat(pixels[..., :1], 3, axis=-1), pixels[..., 1:2]], -1),  # grey + alpha
            lambda: tf.concat([pixels[..., :3], opaque], -1),  # RGB
            lambda: pixels[..., :4],  # RGBA
        ])

    if channels == 1:
        grey = tf.tensordot(rgba()[..., :3], tf.constant(LUMA), axes=[[2], [0]])[..., None]
        return tf.cond(tf.equal(have, 1), lambda: pixels[..., :1], lambda: grey)
    return rgba()[..., :channels]


class ServingClassifier(tf.Module):
    """The exported module: the model, its class names and the decoding."""

    def __init__(self, model):
        super().__init__(name="image_classifier")
        self.model = model
        self.class_names = tf.constant(list(model.class_names))
        self.image_size = tuple(model.backbone.image_size)
        self.channels = int(model.backbone.num_channels)
        self.k = min(5, model.num_classes)

    def _pixels(self, encoded):
        decoded = tf.io.decode_image(encoded, channels=0, expand_animations=False)
        pixels = _to_channels(decoded, self.channels)
        pixels = tf.image.resize(pixels, self.image_size, method="bilinear")
        return tf.ensure_shape(pixels, (*self.image_size, self.channels))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    def classify(self, images):
        spec = tf.TensorSpec((*self.image_size, self.channels), tf.float32)
        pixels = tf.map_fn(self._pixels, images, fn_output_signature=spec)
        logits = tf.cast(self.model(pixels / 127.5 - 1.0, training=False), tf.float32)
        probabilities, indices = tf.math.top_k(tf.nn.softmax(logits, axis=-1), k=self.k)
        return {"labels": tf.gather(self.class_names, indices), "probabilities": probabilities}


def serving_module(model):
    """`(module, signatures)` for `applications.skeleton.export.write_saved_model`."""
    module = ServingClassifier(model)
    return module, {"serving_default": module.classify.get_concrete_function()}

