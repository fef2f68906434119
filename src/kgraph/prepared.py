"""Values a fresh process would otherwise compute at start from what kgraph ships, kept ready.

A one-plan ``kgraph build`` is a new process: whatever it derives from the shipped shapes and
code before it reads the plan (parsing SPARQL texts with rdflib's parser, whose modules alone
take a fifth of a CPU-second to import) it pays again every time. Such a value is kept pickled
in the cache folder (:func:`kgraph.paths.cache_dir`) under a digest of everything it is made
from (its inputs, the code that computes it, Python's and the libraries' versions it names), so
a changed input or code is a new file, never a stale value. Anything unreadable or unwritable
is computed as before: the cache is an optimisation, never a requirement.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

FOLDER = "prepared"  # under the cache folder


def prepared(name: str, compute: Callable[[], T], *made_from: str | bytes | Path) -> T:
    """``compute()``, read back from the cache folder when a process kept it before for the
    same ``made_from`` (texts, bytes, files whose contents count), else computed and kept."""
    digest = hashlib.sha256(sys.version.encode())
    for part in made_from:
        data = (part.read_bytes() if isinstance(part, Path)
                else part if isinstance(part, bytes) else part.encode("utf-8"))
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    path = _folder() / f"{name}-{digest.hexdigest()[:32]}.pickle"
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)  # type: ignore[no-any-return]
    except Exception:  # absent, or damaged: computed again (and replaced)
        pass
    value = compute()
    _keep(path, value)
    return value


def prepared_by_argument(*made_from: str | bytes | Path) -> Callable[[Callable[[str], T]],
                                                                    Callable[[str], T]]:
    """A one-argument function (a text in, a picklable value out) whose values are
    :func:`prepared` by the argument and ``made_from`` (the files of the code computing it)."""

    def decorate(function: Callable[[str], T]) -> Callable[[str], T]:
        name = function.__name__.strip("_").replace("_", "-")

        @functools.wraps(function)
        def wrapper(argument: str) -> T:
            return prepared(name, lambda: function(argument), argument, *made_from)

        wrapper.uncached = function  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _folder() -> Path:
    from kgraph.paths import cache_dir

    return cache_dir() / FOLDER


def _keep(path: Path, value: Any) -> None:
    """Written whole under another name, then renamed: a reader sees the old file or the new."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError):
        pass  # a read-only or full disk: computed again next time
