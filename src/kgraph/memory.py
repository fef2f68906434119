"""The build's memory handed back to the system, and measured.

Why: glibc's allocator keeps what a process frees (a bulk load's hundreds of MB of TriG
text and the loader's buffers) in its arenas, resident, for the next allocation. At 20,000
plans the build's main process held gigabytes of such freed pages, and every process it
forked (the reading stage's workers, the directive aligners) started with them mapped: the
process tree's summed memory went past the 4 GB the build is given while the live data was
much smaller. ``malloc_trim`` returns every whole free page of every arena to the system.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import os
from collections.abc import Iterator
from pathlib import Path


@functools.cache
def _trim() -> object | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def release_freed() -> bool:
    """Hand the pages this process has freed back to the system (glibc); whether any were.

    A no-op returning False without glibc. Costs a walk of the allocator's free lists (a few
    milliseconds after a bulk load): called after large frees, not per document."""
    trim = _trim()
    if trim is None:
        return False
    return bool(trim(0))  # type: ignore[operator]


_registered = False


def release_before_forks() -> None:
    """From now on, every fork of this process first hands its freed pages back: a forked
    child (a build's worker, an aligner) does not start with the parent's freed-but-held
    pages mapped, which it would hold as long as it runs. Registered once per process."""
    global _registered
    if not _registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(before=release_freed)
        _registered = True


def resident_mb() -> int:
    """Resident memory of this process in MB (Linux; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 2**20


@contextlib.contextmanager
def collector_paused(paused: bool = True, *, settle: bool = False) -> Iterator[None]:
    """Python's cycle collector off inside (when ``paused`` and it is on), on again after:
    for work that only allocates (a one-plan build, a long request's parse), whose repeated
    collections would walk its millions of objects to free nothing.

    ``settle``: what the work left alive is moved to the oldest generation as the collector
    comes back on (:func:`gc.freeze` then :func:`gc.unfreeze`: moved, not walked). Otherwise
    the first young collection after it walks every object the work made and kept (after a
    one-plan build of a 20,000-plan store: 22 ms, freeing nothing, at the command's very end).
    Done only when nothing was frozen before the work (a server's frozen per-version data
    stays frozen); what the work froze itself (a build's workspace) is moved with the rest.
    Cycles it left are freed by the next full collection, as they would have been."""
    if not paused or not gc.isenabled():
        yield
        return
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        yield
    finally:
        if settle and frozen == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()
