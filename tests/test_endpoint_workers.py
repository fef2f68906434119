"""Query worker processes do not outlive the server, even when it is killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import ROOT

SERVER = r'''
import asyncio
from kgraph.store.embedded import OxigraphRepository
from kgraph.web.query_workers import Job, WorkerPool

async def main() -> None:
    pool = WorkerPool(OxigraphRepository(), 2)
    await pool.run(Job("ASK {}"), 5)
    print(" ".join(str(w.process.pid) for w in pool._all), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
'''


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return "\tZ" not in next(line for line in status if line.startswith("State:"))
    except FileNotFoundError:
        return False


def test_workers_die_with_a_killed_server() -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    assert server.stdout is not None
    workers = [int(pid) for pid in server.stdout.readline().split()]
    assert len(workers) == 2 and all(running(pid) for pid in workers)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    deadline = time.monotonic() + 5
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if running(pid)]
    for pid in survivors:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
