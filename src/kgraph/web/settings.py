"""Server configuration from CLI flags and KGRAPH_* environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGRAPH_")

    store: str | None = None  # directory of the embedded store; None = in memory
    host: str = "127.0.0.1"
    port: int = 8000
