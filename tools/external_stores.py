"""Start a Virtuoso or a Jena SPARQL server on 127.0.0.1 for kgraph's tests and benchmarks.

    python tools/external_stores.py virtuoso [--dir DIR]   # prints the --store URL, serves
    python tools/external_stores.py jena [--dir DIR]       # until Ctrl-C, then stops it

Virtuoso Open Source comes from Debian (``virtuoso-opensource``). Its database is created in
DIR with a minimal ``virtuoso.ini`` (ports picked free, result rows and query time raised, see
:data:`VIRTUOSO_INI`), and a user ``kgraph`` allowed to update over ``/sparql-auth`` (Digest).

"jena" is **Apache Jena's engine (ARQ over an in-memory TDB2 dataset, union default graph)
behind a minimal SPARQL 1.1 Protocol + Graph Store Protocol front** (``tools/jena-server/``),
not Apache Jena Fuseki, which Debian does not package and which cannot be fetched here. It is
compiled with ``javac`` against Debian's ``libapache-jena-java`` on first use (or by
``scripts/setup --dev``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
JENA_SOURCE = TOOLS / "jena-server"
JENA_BUILD = JENA_SOURCE / "build"
DEBIAN_JARS = Path("/usr/share/java")
VIRTUOSO = "virtuoso-t"
VIRTUOSO_ISQL = "isql-vt"
VIRTUOSO_USER = ("kgraph", "kgraph-test-secret")  # created in the test database only
VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")

VIRTUOSO_INI = """\
[Database]
DatabaseFile = virtuoso.db
ErrorLogFile = virtuoso.log
LockFile = virtuoso.lck
TransactionFile = virtuoso.trx
xa_persistent_file = virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = virtuoso-temp.db
TransactionFile = virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty_buffers}
MaxQueryMem = 1G
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
ServerThreads = 8
MaxClientConnections = 8
Charset = UTF-8

[SPARQL]
; kgraph's answers are complete or an error: the default 10,000-row cap would cut lists
; silently, and the "anytime" timeout would return partial answers.
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ExternalStore:
    """A server this module started: the URL kgraph takes, the environment it needs."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    directory: Path
    env: dict[str, str] = field(default_factory=dict)
    started_seconds: float = 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _wait_http(url: str, process: subprocess.Popen[bytes], seconds: float, log: Path) -> None:
    import httpx  # (lazily: scripts/setup compiles the Jena server with the system python)

    deadline = time.monotonic() + seconds
    while True:
        try:
            response = httpx.get(url, params={"query": "ASK {}"}, timeout=2)
            if response.status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"server at {url} did not start:\n{tail}")
        time.sleep(0.2)


# ---------------------------------------------------------------------------- Virtuoso

def virtuoso_missing() -> str | None:
    """Why Virtuoso cannot run here, or None."""
    for binary in (VIRTUOSO, VIRTUOSO_ISQL):
        if shutil.which(binary) is None:
            return f"{binary} is absent (Debian package virtuoso-opensource)"
    return None


def start_virtuoso(directory: Path, *, buffers: int = 20_000,
                   wait_seconds: float = 90) -> ExternalStore:
    """A new Virtuoso database in ``directory``; its URL is ``/sparql-auth`` (user kgraph)."""
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    vsp = VIRTUOSO_VSP if VIRTUOSO_VSP.is_dir() else directory
    (directory / "virtuoso.ini").write_text(VIRTUOSO_INI.format(
        sql_port=sql_port, http_port=http_port, dir=directory, vsp=vsp, buffers=buffers,
        dirty_buffers=buffers * 3 // 4), encoding="utf-8")
    log = directory / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [VIRTUOSO, "-f", "-c", "virtuoso.ini"], cwd=directory, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{http_port}"
    _wait_http(base + "/sparql", process, wait_seconds, directory / "virtuoso.log")
    user, password = VIRTUOSO_USER
    # A user for kgraph's writes: SPARQL_UPDATE over /sparql-auth, reads stay open on /sparql.
    isql(sql_port, f"DB.DBA.USER_CREATE('{user}', '{password}'); "
                   f"GRANT SPARQL_UPDATE TO \"{user}\";")
    store = ExternalStore(
        "virtuoso", f"{base}/sparql-auth", process, directory,
        env={"KGRAPH_STORE_USER": user, "KGRAPH_STORE_PASSWORD": password})
    store.env["KGRAPH_VIRTUOSO_SQL_PORT"] = str(sql_port)
    store.started_seconds = time.monotonic() - started
    return store


def isql(sql_port: int, statements: str, *, timeout: float = 600) -> str:
    """Run SQL as dba on a database this module created (default dba password)."""
    result = subprocess.run(
        [VIRTUOSO_ISQL, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={statements}"],
        capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0 or "*** Error" in result.stdout + result.stderr:
        raise RuntimeError(f"isql failed: {result.stdout[-1000:]} {result.stderr[-1000:]}")
    return result.stdout


# ---------------------------------------------------------------------------- Jena

def jena_classpath() -> list[Path]:
    names = [line.strip() for line in
             (JENA_SOURCE / "classpath.txt").read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    return [DEBIAN_JARS / name for name in names]


def jena_missing() -> str | None:
    """Why the Jena server cannot run here, or None."""
    for binary in ("java", "javac"):
        if shutil.which(binary) is None:
            return f"{binary} is absent (Debian package default-jdk-headless)"
    absent = [p.name for p in jena_classpath() if not p.exists()]
    if absent:
        return f"Jena jars absent from {DEBIAN_JARS} ({', '.join(absent[:3])}; Debian package "\
               "libapache-jena-java)"
    return None


def build_jena(target: Path = JENA_BUILD) -> Path:
    """Compile the server (once; again when its source is newer) into ``target``.

    Debian's jena-core 4.5.0 ships its relocated Xerces classes under ``xerces.*`` but their
    message bundles under ``org/apache/jena/ext/xerces``; without copies where the classes look
    for them, Jena fails to start ("internal error" in XSSimpleTypeDecl). They are copied in.
    """
    source = JENA_SOURCE / "KgraphJenaServer.java"
    marker = target / "KgraphJenaServer.class"
    if marker.exists() and marker.stat().st_mtime >= source.stat().st_mtime:
        return target
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        work = Path(tmp) / "classes"
        work.mkdir()
        classpath = os.pathsep.join(map(str, jena_classpath()))
        subprocess.run(["javac", "-nowarn", "-d", str(work), "-cp", classpath, str(source)],
                       check=True, capture_output=True, text=True)
        import zipfile

        prefix = "org/apache/jena/ext/xerces/impl/"
        with zipfile.ZipFile(DEBIAN_JARS / "jena-core.jar") as jar:
            for name in jar.namelist():
                if name.startswith(prefix) and name.endswith(".properties"):
                    out = work / "xerces" / "impl" / name[len(prefix):]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(jar.read(name))
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    return target


def start_jena(directory: Path, *, wait_seconds: float = 60,
               location: Path | None = None) -> ExternalStore:
    """The Jena server on a free port; its URL is the dataset ``/ds`` (query and update)."""
    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    classes = build_jena()
    port = free_port()
    classpath = os.pathsep.join([str(classes), *map(str, jena_classpath())])
    command = ["java", "-Xmx1g", "-cp", classpath, "KgraphJenaServer", "--port", str(port),
               "--timeout-s", "300"]
    if location is not None:
        command += ["--location", str(location)]
    log = directory / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}/ds"
    _wait_http(url, process, wait_seconds, log)
    store = ExternalStore("jena", url, process, directory)
    store.started_seconds = time.monotonic() - started
    return store


STARTERS = {"virtuoso": (virtuoso_missing, start_virtuoso), "jena": (jena_missing, start_jena)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("server", choices=sorted(STARTERS))
    parser.add_argument("--dir", type=Path, help="database folder (default: a new temporary one)")
    parser.add_argument("--build-only", action="store_true", help="jena: compile and exit")
    args = parser.parse_args()
    missing, start = STARTERS[args.server]
    if reason := missing():
        print(f"{args.server}: {reason}", file=sys.stderr)
        return 1
    if args.build_only:
        print(build_jena() if args.server == "jena" else "nothing to build")
        return 0
    directory = args.dir or Path(tempfile.mkdtemp(prefix=f"kgraph-{args.server}-"))
    store = start(directory)
    print(f"{store.name} up in {store.started_seconds:.1f} s: kgraph --store {store.url}")
    for key, value in store.env.items():
        print(f"  export {key}={value}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        store.process.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        store.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
