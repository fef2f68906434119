"""The web app's perimeter over real HTTP: Host allow-list (DNS rebinding), Origin check (CSRF),
security headers on every response, no CDN-backed /docs, and 4xx (never 500) for bad input."""

from __future__ import annotations

import httpx
import pytest

from kgraph.store.embedded import OxigraphRepository
from kgraph.web.app import create_app, host_name
from kgraph.web.settings import Settings

ASK = "ASK { ?s ?p ?o }"


@pytest.fixture
def client_for(sample_repo: OxigraphRepository, live_server: type):  # type: ignore[no-untyped-def]
    """``with client_for(settings) as (client, url)``: a live server and an HTTP client."""
    from contextlib import contextmanager

    @contextmanager
    def make(settings: Settings | None = None):  # type: ignore[no-untyped-def]
        with live_server(create_app(sample_repo, settings)) as server, httpx.Client(
                base_url=server.url, timeout=30) as client:
            yield client, server.url

    return make


def test_foreign_host_gets_421_and_configured_hosts_are_served(client_for) -> None:  # type: ignore[no-untyped-def]
    with client_for() as (client, _):
        assert client.get("/health").status_code == 200  # 127.0.0.1: the bound host
        assert client.get("/health", headers={"Host": "localhost:1234"}).status_code == 200
        rebound = client.get("/sparql", params={"query": ASK},
                             headers={"Host": "attacker.example"})
        assert rebound.status_code == 421
        assert "--allowed-host" in rebound.text
        assert client.get("/", headers={"Host": "kgraph.example.org"}).status_code == 421
    with client_for(Settings(allowed_hosts=["kgraph.example.org"])) as (client, _):
        assert client.get("/health", headers={"Host": "kgraph.example.org"}).status_code == 200
        assert client.get("/health").status_code == 421  # only what is configured


def test_host_names_are_compared_without_port() -> None:
    assert host_name("Example.org:8000") == "example.org"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_cross_site_posts_are_refused_unless_cors_allows_the_origin(client_for) -> None:  # type: ignore[no-untyped-def]
    foreign = {"Origin": "http://evil.example"}
    with client_for(Settings(write_token="t")) as (client, url):
        form = client.post("/sparql", data={"query": ASK}, headers=foreign)
        update = client.post("/sparql", data={"update": "CLEAR ALL"},
                             headers={**foreign, "Authorization": "Bearer t"})
        null_origin = client.post("/sparql", data={"query": ASK}, headers={"Origin": "null"})
        fetch = client.post("/sparql", data={"query": ASK},
                            headers={"Sec-Fetch-Site": "cross-site"})
        own = client.post("/sparql", data={"query": ASK}, headers={"Origin": url})
        plain = client.post("/sparql", data={"query": ASK})  # curl, scripts: no Origin
        still_there = client.get("/sparql", params={"query": ASK})
    assert form.status_code == update.status_code == null_origin.status_code == 403
    assert fetch.status_code == 403
    assert "evil.example" in form.text
    assert own.status_code == plain.status_code == 200
    assert still_there.json()["boolean"] is True  # the CLEAR ALL never ran
    with client_for(Settings(cors_origins=["http://evil.example"])) as (client, _):
        allowed = client.post("/sparql", data={"query": ASK}, headers=foreign)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://evil.example"


@pytest.mark.parametrize("path", ["/", "/audit", "/audit/raci?doc=none", "/sparql?query=ASK{}",
                                  "/health", "/id/none", "/static/kgraph.css", "/nowhere"])
def test_every_response_carries_the_security_headers(client_for, path: str) -> None:  # type: ignore[no-untyped-def]
    with client_for() as (client, _):
        response = client.get(path)
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    if headers.get("content-type", "").startswith("text/html"):
        assert "default-src 'self'" in csp and "object-src 'none'" in csp
        assert "https:" not in csp and "*" not in csp


def test_docs_are_off_and_the_schema_stays(client_for) -> None:  # type: ignore[no-untyped-def]
    with client_for() as (client, _):
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 404
        schema = client.get("/openapi.json")
    assert schema.status_code == 200 and "/sparql" in schema.json()["paths"]
    assert "cdn" not in schema.text.lower()


@pytest.mark.parametrize("path", [
    "/id/abc%00", "/id/%00", "/id/a%ff", "/id/a%1F", "/doc/x%00y", "/audit?doc=%00",
    "/sparql?query=ASK%00{}",
])
def test_malformed_urls_get_400(client_for, path: str) -> None:  # type: ignore[no-untyped-def]
    with client_for() as (client, _):
        response = client.get(path)
    assert response.status_code == 400, response.text
    assert "not allowed in the URL" in response.text


@pytest.mark.parametrize("path", ["/id/a%3Cb%3E", "/id/a%5C", "/id/a%22b", "/id/a%7Bb%7D",
                                  "/id/a%60", "/id/a%20b", "/id/%E2%80%A8", "/id/a%C2%85"])
def test_identifiers_no_iri_can_hold_are_not_found(client_for, path: str) -> None:  # type: ignore[no-untyped-def]
    with client_for() as (client, _):
        assert client.get(path).status_code == 404


@pytest.mark.parametrize("query", [
    "SELECT (<urn:no-such-function>(1) AS ?x) {}",
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> SELECT (xsd:nothing(1) AS ?x) {}",
    "SELECT * { ?s ?p ?o } LIMIT -1",
    "SELECT * { \\u0053ERVICE <urn:x> {} }",
])
def test_bad_queries_get_400(client_for, query: str) -> None:  # type: ignore[no-untyped-def]
    with client_for() as (client, _):
        response = client.get("/sparql", params={"query": query})
    assert response.status_code == 400, response.text
