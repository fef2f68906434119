"""The update worker: one SPARQL update, under the query timeout, into a new store version.

A server with a write token never writes the version its queries read. For each update it
starts this module as a **fresh process** (``python -m kgraph.web.update_worker FD MEMORY``),
not a fork: RocksDB's background threads do not survive ``fork``, and a writer needs them (a
forked writer hangs at its first flush, measured). The process sandboxes itself like a query
worker (no network), limits its memory, reads one request from the socket ``FD``, checks the
text (:func:`check_update`), checkpoints the current version into the new one (hard links),
opens that for writing, applies the update, flushes, closes and answers. The server waits at
most the timeout; past it the process is killed and its half-written version deleted, so a
timed-out update changes nothing. Only the server makes the new version current (one rename).

It imports only pyoxigraph and the modules the check needs (about 0.35 s of CPU: Python,
pyoxigraph, the SPARQL parser's tables; 1.8-2.2 s of wall time at load 8). The server starts
the next update's process when an update ends, so only the first update waits for it, inside
its time budget.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import Any

from kgraph.web import safety, sandbox
from kgraph.web.sandbox import SandboxStatus


def die_with_parent() -> None:
    """Linux: SIGKILL this worker when the server dies, even by SIGKILL (no orphans holding
    the listening socket). Elsewhere the pipe's EOF on a clean exit is all there is."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG


def address_space() -> int:
    """Bytes of address space this process has mapped now (VmSize)."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def limit_memory(extra: int) -> None:
    """RLIMIT_AS: what the process has mapped now plus ``extra`` bytes; 0 = no limit."""
    if extra <= 0:
        return
    import resource

    limit = address_space() + extra
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def check_update(text: str, using: list[str], using_named: list[str],
                 status: SandboxStatus | None, lateral: bool = False) -> str:
    """The update text to run: checked (no LOAD, SERVICE or foreign dataset), with the
    protocol's ``using-graph-uri`` / ``using-named-graph-uri`` added. Raises UnsafeRequest.
    ``lateral``: whether the store's engine runs ``LATERAL`` joins (the embedded store's
    does; a remote store is sent SPARQL 1.1 only).

    A process without a network sandbox fails closed: any text that mentions SERVICE or LOAD
    anywhere, even inside a string, is refused."""
    if status is not None and not status.isolated:
        folded = text.upper()
        for word in safety.REMOTE_KEYWORDS:
            if word in folded:
                raise safety.UnsafeRequest(
                    f"this worker has no network sandbox ({status.reason}), so any request "
                    f"that mentions {word} is refused")
    safety.check_update(text, lateral)
    if using or using_named:
        if safety.has_dataset_clause(text, lateral):
            raise safety.UnsafeRequest(
                "using-graph-uri / using-named-graph-uri cannot be combined with USING or "
                "WITH in the update")
        text = safety.add_using(text, using, using_named, lateral)
        safety.check_update(text, lateral)
    return text


def apply(request: dict[str, Any], status: SandboxStatus) -> tuple[int, str]:
    """Check and apply one update request; (HTTP status, message)."""
    import pyoxigraph as ox

    try:
        text = check_update(request["text"], request["using"], request["using_named"], status,
                            lateral=True)  # the embedded store's engine
        source = ox.Store.read_only(request["source"])
        source.backup(request["target"])  # a RocksDB checkpoint: hard links, whatever the size
        del source
        store = ox.Store(request["target"])
        store.update(text, base_iri=request["base_iri"])
        store.flush()
        del store  # closed here: its compactions end before the server opens the version
    except safety.UnsafeRequest as exc:
        return 400, f"refused: {exc}"
    except SyntaxError as exc:
        return 400, f"syntax error: {exc}"
    except MemoryError:
        return 503, "update stopped: it needs more memory than a worker may use"
    except (ValueError, TypeError, LookupError) as exc:
        return 400, f"update error: {exc}"
    except Exception as exc:
        return 500, f"update failed: {type(exc).__name__}: {exc}"
    return 204, ""


def main(argv: list[str]) -> None:
    """``python -m kgraph.web.update_worker FD MEMORY``: serve one update on socket FD."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.disable()  # a worker aborted at its memory limit is reported as a 503
    die_with_parent()
    conn = Connection(int(argv[0]))
    status = sandbox.install()
    conn.send(status)
    limit_memory(int(argv[1]))
    try:
        request = conn.recv()
    except (EOFError, OSError):
        return
    started = time.perf_counter()
    code, message = apply(request, status)
    conn.send((code, message, time.perf_counter() - started))
    conn.close()
    os._exit(0)  # no interpreter teardown: the answer is sent, the version closed


if __name__ == "__main__":
    main(sys.argv[1:])
