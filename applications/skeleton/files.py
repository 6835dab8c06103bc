"""Scanning the user's data folders, the same way for every family.

`list_class_folders(directory, extensions, what)` reads the layout every classifier uses
(one subfolder per class, files anywhere below it) with these rules:

- a symbolic link to a **folder** below a class folder is followed only when it stays inside
  that class folder and leads to a folder not visited yet (no cycles, nothing counted twice,
  no images of one class counted in another); a class folder may itself be a link;
- a symbolic link to a **file** is followed wherever it points (a subset of a dataset is
  often made of links), but every real file is counted once: a second path to the same file
  is left out with a warning naming both;
- hidden entries (`.name`) are skipped; files are sorted, so the order never depends on the
  file system;
- errors name the folder: missing, no class subfolders, an empty class, a single class
  (classification needs two).

Example:

>>> import os, tempfile
>>> root = tempfile.mkdtemp()
>>> for name in ("cat/a.png", "cat/b.png", "dog/c.png"):
...     os.makedirs(os.path.dirname(os.path.join(root, name)), exist_ok=True)
...     open(os.path.join(root, name), "w").close()
>>> os.symlink("..", os.path.join(root, "cat", "up"))  # a cycle: not followed
>>> names, paths, labels = list_class_folders(root, (".png",), "images")
>>> names, [os.path.relpath(p, root) for p in paths], labels
(['cat', 'dog'], ['cat/a.png', 'cat/b.png', 'dog/c.png'], [0, 0, 1])
"""

import logging
import os

from applications.skeleton.errors import UserError

logger = logging.getLogger(__name__)


class DataFolderError(UserError):
    """A data folder that cannot be used; the message names it."""


def _inside(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_files(directory, extensions, root=None, seen_dirs=None, seen_files=None):
    """Sorted files under `directory` whose names end with `extensions` (case-insensitive),
    following the link rules of the module doc. `root` is the folder links must stay in
    (default: `directory` itself)."""
    root = os.path.realpath(root or directory)
    seen_dirs = set() if seen_dirs is None else seen_dirs
    seen_files = {} if seen_files is None else seen_files
    found = []
    real = os.path.realpath(directory)
    if real in seen_dirs:
        return found
    seen_dirs.add(real)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as error:
        raise DataFolderError(f"Cannot read the folder {directory}: {error.strerror}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = os.path.join(directory, entry.name)
        if entry.is_dir():  # follows links
            target = os.path.realpath(path)
            if entry.is_symlink() and not _inside(target, root):
                logger.warning("Not following %s: the link leaves the folder %s.", path, root)
                continue
            if target in seen_dirs:
                if entry.is_symlink():
                    logger.warning("Not following %s: it leads to a folder already scanned.", path)
                continue
            found += walk_files(path, extensions, root, seen_dirs, seen_files)
        elif entry.is_file() and entry.name.lower().endswith(tuple(extensions)):
            target = os.path.realpath(path)
            if target in seen_files:
                logger.warning("Leaving out %s: it is the same file as %s.", path, seen_files[target])
                continue
            seen_files[target] = path
            found.append(path)
    return found


def list_class_folders(directory, extensions, what="files", min_classes=2):
    """`(class_names, paths, labels)` of a folder of class subfolders (see the module doc).

    Raises:
        DataFolderError: the folder is missing, has no class subfolders, fewer than
            `min_classes` classes, a class with no file of `extensions`, or no file at all.
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise DataFolderError(f"No such folder: {directory}")
    class_names = sorted(entry.name for entry in os.scandir(directory)
                         if entry.is_dir() and not entry.name.startswith("."))
    kinds = ", ".join(extensions)
    if not class_names:
        raise DataFolderError(
            f"{directory} has no class subfolders; put each class's {what} in {directory}/<class_name>/."
        )
    seen_dirs, seen_files = {os.path.realpath(directory)}, {}
    paths, labels, empty = [], [], []
    for label, name in enumerate(class_names):
        found = walk_files(os.path.join(directory, name), extensions, None, seen_dirs, seen_files)
        if not found:
            empty.append(name)
        paths += found
        labels += [label] * len(found)
    if not paths:
        raise DataFolderError(f"No {what} ({kinds}) in any class folder of {directory}.")
    if empty:
        raise DataFolderError(
            f"Class folder(s) with no {what} ({kinds}) in {directory}: {', '.join(empty)}. "
            f"Add {what} or remove the folder(s)."
        )
    if len(class_names) < min_classes:
        raise DataFolderError(
            f"{directory} holds {len(paths)} {what} in one class folder ({class_names[0]}); classification "
            f"needs at least {min_classes} classes, one subfolder each."
        )
    return class_names, paths, labels
