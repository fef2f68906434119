"""Where kgraph finds its own resources (ontology, shapes, queries, reference data).

An installed wheel carries them under ``kgraph/_resources``; a source checkout (editable
install) reads them from the project's top-level folders, so there is one copy of each.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent.parent

_LAYOUT = {
    "ontology": ("ontology", "ontology"),
    "shapes": ("shapes", "shapes"),
    "queries": ("queries", "queries"),
    "reference": ("reference", "data/reference"),
}


def resource_dir(name: str) -> Path:
    """The folder holding one kind of resource, packaged copy first."""
    packaged, in_checkout = _LAYOUT[name]
    candidate = _PACKAGE / "_resources" / packaged
    if candidate.is_dir():
        return candidate
    return _CHECKOUT / in_checkout


def project_root() -> Path:
    """The source checkout (used for the default sources and data/ttl)."""
    return Path(os.environ.get("KGRAPH_HOME", _CHECKOUT))


def default_sources() -> Path:
    return project_root() / "data" / "sources"


def default_ttl_dir() -> Path:
    return project_root() / "data" / "ttl"


def default_store_dir() -> Path:
    """Persistent store location: $KGRAPH_STORE, else the user's data folder."""
    env = os.environ.get("KGRAPH_STORE")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("kgraph")) / "store"


def cache_dir() -> Path:
    """Where kgraph keeps what it can recompute (data derived from a remote store):
    $KGRAPH_CACHE, else the user's cache folder."""
    env = os.environ.get("KGRAPH_CACHE")
    if env:
        return Path(env)
    return Path(platformdirs.user_cache_dir("kgraph"))
