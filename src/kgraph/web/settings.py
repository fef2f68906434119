"""Server configuration from CLI flags and KGRAPH_* environment variables.

The defaults are the safe ones: read-only (no write token), a 30 s query timeout, a row cap,
a 1 MB request body cap and no CORS. ``kgraph serve`` flags override the environment.
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

    @field_validator("cors_origins", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        """KGRAPH_CORS_ORIGINS may be a comma-separated list."""
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value
