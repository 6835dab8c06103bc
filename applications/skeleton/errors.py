"""`UserError`: a problem the user can fix, reported as one line naming what is wrong.

The `keras-attn` command prints any `UserError` (and any `OSError` or `ValueError`, which
the data readers raise for bad files) as one line on stderr and exits with status 2; `-v`
keeps the traceback. Subclasses say which kind of thing is wrong.
"""


class UserError(ValueError):
    """Bad input: a file, a line, a flag, a class. The message names it."""


class RunFolderError(UserError):
    """A run folder that cannot be used as asked (missing, unfinished, damaged, another task)."""


class ModelFileError(UserError):
    """A `.keras` file that cannot be loaded (damaged, unknown class, refused by safe mode)."""


class FlagError(UserError):
    """A command-line value that does not fit (names the flag)."""


class RunInterrupted(BaseException):
    """SIGINT or SIGTERM stopped a command; `signal_name` says which.

    A `BaseException`, like `KeyboardInterrupt`: a library's `except Exception` (h5py, `inspect`
    inside Keras' saving) must neither swallow it nor turn it into another error."""

    def __init__(self, signal_name):
        super().__init__(f"stopped by {signal_name}")
        self.signal_name = signal_name
