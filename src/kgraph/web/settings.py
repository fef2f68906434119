"""Server configuration from CLI flags and KGRAPH_* environment variables.

The defaults are the safe ones: read-only (no write token), a 30 s query timeout, a row cap,
a 1 MB request body cap, a 32 MB answer cap, no CORS, and only the bound host name accepted in
``Host``. ``kgraph serve`` flags override the environment.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGRAPH_")

    store: str | None = None  # store directory or http(s) endpoint; None = in memory
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout: float = 30.0  # seconds; the worker running a longer query is killed
    max_rows: int = 10_000  # result rows (or triples) per answer; more are cut and flagged
    max_body: int = 1_000_000  # bytes per request body; larger requests get 413
    cors_origins: Annotated[list[str], NoDecode] = []  # allow-list; empty = no CORS headers
    write_token: str | None = None  # enables SPARQL UPDATE for `Authorization: Bearer <token>`
    workers: int = 0  # query worker processes; 0 = min(4, CPUs), at least 2
    max_workers: int = 0  # worker processes in all, long queries included; 0 = 3 x workers
    max_result_bytes: int = 32_000_000  # bytes per answer; longer answers are cut and flagged
    stream_after: int = 1_000_000  # answers longer than this are streamed as they are written
    queue: int = 128  # requests waiting for a worker; more get 503 with Retry-After
    client_concurrency: int = 64  # requests one client may have in flight
    client_slow: int = 1  # long-running (> 0.5 s) queries one client may have at once
    worker_memory: int = 2 * 1024**3  # address space (bytes) a worker may add; 0 = no limit
    # compute the pages' per-version data (listings, explorer) in the background at start and
    # after each new version (kgraph serve turns it on; tests build apps without it)
    warm: bool = False
    # Host header values served (421 otherwise); empty = the bound host and its loopback names
    allowed_hosts: Annotated[list[str], NoDecode] = []

    @field_validator("cors_origins", "allowed_hosts", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        """KGRAPH_CORS_ORIGINS may be a comma-separated list."""
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
