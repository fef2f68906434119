"""Who holds a plan's tasks on a date, through the 2025 reorganisation: CLI, HTTP and the walk."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from kgraph.analysis.succession import deadlines, responsible
from kgraph.cli import app
from kgraph.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

CHILD_WORDS = ("tre em", "tré em")  # the seed is OCR-damaged: "tré em" is how "trẻ em" reads


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    result = runner.invoke(app, ["build", str(ROOT / "data" / "sources"), "--store", str(store)])
    assert result.exit_code == 0, result.stderr
    return store


def query(store: Path, *params: str) -> list[dict]:
    args = ["query", "responsible-today", "--format", "json", "--store", str(store)]
    for param in params:
        args += ["--param", param]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def child_duties_of_labour_department(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["named"] == "Sở Lao động - Thương binh và Xã hội"
            and any(w in (r["text"] or "").lower() for w in CHILD_WORDS)]


def test_cli_children_duties_go_to_health_department_of_an_giang(built_store: Path) -> None:
    rows = query(built_store, "doc=234/KH-UBND", "date=2026-01-01")
    children = child_duties_of_labour_department(rows)
    assert children, "234/KH-UBND gives the Sở LĐTBXH duties about children"
    for row in children:
        assert (row["holder"], row["holder_province"]) == ("Sở Y tế", "An Giang")
        assert row["named_province"] == "Kiên Giang"
        assert row["status"] == "succeeded"
        # two steps, in order, each with its date and legal basis
        assert row["chain"].startswith("Sở Lao động - Thương binh và Xã hội (Kiên Giang) → "
                                       "[2025-03-01, 45/2025/NĐ-CP; Trẻ em")
        assert row["chain"].endswith("Sở Y tế (Kiên Giang) → [2025-07-01, 202/2025/QH15] "
                                     "Sở Y tế (An Giang)")
        assert row["basis"] == "45/2025/NĐ-CP | 202/2025/QH15"


def test_cli_district_committees_go_to_communes_of_an_giang(built_store: Path) -> None:
    rows = query(built_store, "doc=234/KH-UBND", "date=2026-01-01")
    districts = [r for r in rows if r["named"].startswith("Ủy ban nhân dân các huyện")]
    assert districts
    for row in districts:
        assert row["holder"] == "Ủy ban nhân dân các xã, phường, đặc khu"
        assert row["holder_province"] == "An Giang"
        assert "203/2025/QH15" in row["basis"] and "202/2025/QH15" in row["basis"]


def test_before_the_reorganisation_nothing_has_changed(built_store: Path) -> None:
    rows = query(built_store, "doc=234/KH-UBND", "date=2025-01-15")
    assert rows and all(r["status"] == "unchanged" and r["holder"] == r["named"] for r in rows
                        if r["status"] != "unresolved")


def test_between_the_two_dates_the_health_department_of_kien_giang(built_store: Path) -> None:
    rows = query(built_store, "doc=234/KH-UBND", "date=2025-05-01")
    for row in child_duties_of_labour_department(rows):
        assert (row["holder"], row["holder_province"]) == ("Sở Y tế", "Kiên Giang")


def test_cli_bad_date_is_one_line_error(built_store: Path) -> None:
    result = runner.invoke(app, ["query", "responsible-today", "--param", "doc=234/KH-UBND",
                                 "--param", "date=next tuesday", "--store", str(built_store)])
    assert result.exit_code == 2
    assert "yyyy-mm-dd" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_split_follows_the_task_words(seed_repo) -> None:
    answers = responsible(seed_repo, "2509/KH-UBND", "2026-01-01")
    holders = {a.holder.rsplit("/", 1)[-1] for a in answers
               if a.named.endswith("/gia-lai/so-lao-dong-thuong-binh-va-xa-hoi")}
    assert "so-y-te" in holders
    # Gia Lai absorbed Bình Định and kept its name: its bodies carry on
    assert all("/gia-lai/" in a.holder for a in answers if "/gia-lai/" in a.named)


def test_http_responsible_and_deadlines(seed_repo, live_server) -> None:
    with live_server(create_app(seed_repo)) as server:
        response = httpx.get(f"{server.url}/api/responsible",
                             params={"doc": "234/KH-UBND", "date": "2026-01-01"})
        assert response.status_code == 200
        body = response.json()
        children = child_duties_of_labour_department(body["rows"])
        assert children
        steps = children[0]["steps"]
        assert [(s["date"], s["basis"], s["to_name"]) for s in steps] == [
            ("2025-03-01", ["45/2025/NĐ-CP"], "Sở Y tế (Kiên Giang)"),
            ("2025-07-01", ["202/2025/QH15"], "Sở Y tế (An Giang)"),
        ]
        assert steps[0]["function"] == "Trẻ em"
        bad = httpx.get(f"{server.url}/api/responsible", params={"doc": "234/KH-UBND",
                                                                "date": "2026-13-01"})
        assert bad.status_code == 400
        missing = httpx.get(f"{server.url}/api/responsible", params={"doc": "999/KH-XYZ"})
        assert missing.status_code == 404
        one = httpx.get(f"{server.url}/api/successor", params={
            "body": "https://w3id.org/kgraph/id/org/kien-giang/so-lao-dong-thuong-binh-va-xa-hoi",
            "date": "2026-01-01", "text": "giải quyết việc làm cho lao động"}).json()
        assert (one["holder"], one["holder_province"]) == ("Sở Nội vụ", "An Giang")
        assert not one["ambiguous"] and "Lao động, việc làm" in one["chain"]
        due = httpx.get(f"{server.url}/api/deadlines", params={"date": "2026-11-01"}).json()
        by_plan = {(r["plan"], r["deadline"]): r["status"] for r in due["rows"]}
        assert by_plan[("234/KH-UBND", "2026-11-10")] == "due"
        assert by_plan[("2509/KH-UBND", "2026-12-15")] == "not yet due"
        assert by_plan[("469/KH-UBND", "2021-07-20")] == "overdue"
        assert due["summary"]["overdue"] >= 1


def test_deadlines_buckets_move_with_the_date(seed_repo) -> None:
    rows = {r["part"]: r for r in deadlines(seed_repo, "234/KH-UBND", "2026-01-01")}
    yearly = next(r for r in rows.values() if r["deadline"].endswith("-11-10"))
    assert (yearly["status"], yearly["deadline"], yearly["previous"]) == (
        "not yet due", "2026-11-10", "2025-11-10")
    later = deadlines(seed_repo, "234/KH-UBND", "2026-11-10")
    assert next(r for r in later if r["part"] == yearly["part"])["status"] == "due"


def test_audit_as_of_flags_ambiguous_successors(built_store: Path) -> None:
    result = runner.invoke(app, ["audit", "--doc", "2509/KH-UBND", "--as-of", "2026-01-01",
                                 "--store", str(built_store)])
    assert "AmbiguousSuccessor" in result.stdout
    assert "Sở Lao động - Thương binh và Xã hội không còn vào ngày 2026-01-01" in result.stdout
    before = runner.invoke(app, ["audit", "--doc", "2509/KH-UBND", "--as-of", "2024-06-01",
                                 "--store", str(built_store)])
    assert "AmbiguousSuccessor" not in before.stdout
    plain = runner.invoke(app, ["audit", "--doc", "2509/KH-UBND", "--store", str(built_store)])
    assert "AmbiguousSuccessor" not in plain.stdout


def test_raci_as_of_a_date_names_the_holders(built_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "raci.csv"
    result = runner.invoke(app, ["raci", "--doc", "234/KH-UBND", "--as-of", "2026-01-01",
                                 "--out", str(out), "--store", str(built_store)])
    assert result.exit_code == 0, result.stderr
    header = next(csv.reader(out.open(encoding="utf-8")))
    assert "Sở Y tế (An Giang)" in header
    assert "Ủy ban nhân dân các xã, phường, đặc khu (An Giang)" in header
    assert "Sở Lao động - Thương binh và Xã hội" not in header


def test_cli_deadlines_on_a_date(built_store: Path) -> None:
    result = runner.invoke(app, ["query", "deadlines", "--param", "date=2026-11-01",
                                 "--format", "json", "--store", str(built_store)])
    assert result.exit_code == 0, result.stderr
    rows = {(r["plan"], r["deadline"]): r["status"] for r in json.loads(result.stdout)}
    assert rows[("234/KH-UBND", "2026-11-10")] == "due"
    assert rows[("18/KH-SLĐTBXH", "2021-05-25")] == "overdue"


PER_BODY_QUERY = """
    SELECT ?org ?event ?date ?result ?conf ?number
           ?t ?tfrom ?tto ?tconf ?tdefault ?tfunction WHERE {{ GRAPH <{graph}> {{
      VALUES ?org {{ {bodies} }}
      ?event org:originalOrganization ?org ; dcterms:date ?date ;
             org:resultingOrganization ?result .
      OPTIONAL {{ ?event kg:confidence ?conf }}
      OPTIONAL {{ ?event kg:legalBasis/eli:id_local ?number }}
      OPTIONAL {{ ?event kg:transfer ?t . ?t kg:transferredFrom ?tfrom ;
                  kg:transferredTo ?tto ; kg:confidence ?tconf .
                  OPTIONAL {{ ?t kg:isDefault ?tdefault }}
                  OPTIONAL {{ ?t kg:function ?tfunction }} }} }} }}"""


def events_asked_per_body(repo, bodies: list[str]) -> dict[str, list]:
    """The change events as they were read before they were kept per store version: one query
    for the bodies of each request, rows grouped in the order the store returns them."""
    from kgraph.analysis.succession import PREFIXES, _Event
    from kgraph.resources import REFERENCE_GRAPH

    events: dict[str, list] = {b: [] for b in bodies}
    by_key: dict[tuple[str, str], _Event] = {}
    values = " ".join(f"<{b}>" for b in bodies)
    for org, event, date, result, conf, number, t, tfrom, tto, tconf, tdefault, tfn in repo.query(
            PREFIXES + PER_BODY_QUERY.format(graph=REFERENCE_GRAPH, bodies=values)).rows:
        key = (str(org), str(event))
        if key not in by_key:
            by_key[key] = _Event(str(event), str(date), [],
                                 float(conf) if conf is not None else None)
            events[key[0]].append(by_key[key])
        found = by_key[key]
        if str(result) not in found.results:
            found.results.append(str(result))
        if number is not None and str(number) not in found.bases:
            found.bases = sorted([*found.bases, str(number)])
        if t is not None and str(tfrom) == str(org):
            transfer = {"iri": str(t), "to": str(tto), "confidence": float(tconf),
                        "default": tdefault is not None and bool(tdefault.toPython()),
                        "function": str(tfn) if tfn is not None else None}
            if transfer not in found.transfers:
                found.transfers.append(transfer)
    for leaving in events.values():
        leaving.sort(key=lambda e: e.date)
    return events


def test_change_events_kept_per_version_are_those_asked_per_body(seed_repo) -> None:
    """Every body of the reference list leaves the same events, in the same order, with its
    split's results and transfers in the same order (the tie-breaks of a split), whether asked
    per request or read once per store version; and every walk ends at the same holder."""
    from kgraph.analysis.succession import Successions, change_events
    from kgraph.resources import REFERENCE_GRAPH

    kept = change_events(seed_repo)
    assert change_events(seed_repo) is kept  # read once per store version
    bodies = sorted({str(r[0]) for r in seed_repo.query(
        f"SELECT DISTINCT ?org WHERE {{ GRAPH <{REFERENCE_GRAPH}> {{ "
        "?event <http://www.w3.org/ns/org#originalOrganization> ?org } }").rows})
    assert len(bodies) > 1000
    asked = events_asked_per_body(seed_repo, bodies)
    assert {b: kept.events.get(b, []) for b in bodies} == asked
    splits = [b for b in bodies if any(e.transfers for e in asked[b])]
    assert splits
    for start in range(0, len(splits), 16):  # a few bodies a request, as the pages ask
        chunk = splits[start:start + 16]
        assert events_asked_per_body(seed_repo, chunk) == {b: kept.events[b] for b in chunk}
    # walks with texts that tie two functions of a split: same steps as from the asked events
    walker, before = Successions(seed_repo), Successions(seed_repo)
    before.load = lambda todo: before.events.update(  # type: ignore[method-assign]
        events_asked_per_body(seed_repo, sorted(todo - set(before.events))))
    words = [ws[0] for _, ws in walker.signals().values()]
    texts = ["", *words, *(a + b for a, b in itertools.pairwise(words))]
    for body in splits:
        for text in texts:
            for date in ("2025-06-30", "2026-01-01"):
                assert walker.walk(body, text, date) == before.walk(body, text, date)


def test_plans_of_a_number_are_the_same_read_either_way(seed_repo) -> None:
    """The embedded store reads a number's plans DISTINCT first (their copies in citing graphs
    no longer multiply); a SPARQL 1.1 store joins them: same plans, numbers and titles."""
    from kgraph.analysis.succession import _plans

    class Portable:  # any store that is not the embedded one: the SPARQL 1.1 text
        def query(self, text: str):
            return seed_repo.query(text)

    numbers = sorted({str(r[0]) for r in seed_repo.query(
        "SELECT DISTINCT ?n WHERE { ?p <https://w3id.org/kgraph/def#hasAssignment> ?a ; "
        "<http://data.europa.eu/eli/ontology#id_local> ?n }").rows})
    assert len(numbers) >= 3
    for number in numbers:
        found = _plans(seed_repo, number)
        assert found and found == _plans(Portable(), number)  # type: ignore[arg-type]


def test_every_plans_deadlines_are_each_plans_together(seed_repo) -> None:
    """No plan asked: the rows of every plan, as each plan asked alone gives them (the two are
    answered by different queries on the embedded store: every plan's starts from the dated
    parts, one plan's from the plan)."""
    every = deadlines(seed_repo, "", "2026-06-01")
    plans = sorted({row["plan"] for row in every})
    assert len(plans) >= 3 and len(every) > len(plans)
    each = [row for plan in plans for row in deadlines(seed_repo, plan, "2026-06-01")]
    key = lambda row: row["part"]  # noqa: E731
    assert sorted(every, key=key) == sorted(each, key=key)


def test_http_deadlines_come_a_page_at_a_time(seed_repo, live_server) -> None:
    """Every plan's deadlines (20,000 rows at 20,000 plans) are paged: pages followed through
    ``next`` (and the ``Link`` header) give the whole answer in order; the summary and the
    total count every row whatever the page."""
    with live_server(create_app(seed_repo)) as server:
        url = f"{server.url}/api/deadlines"
        whole = httpx.get(url, params={"date": "2026-06-01", "limit": 10_000}).json()
        assert whole["total"] == len(whole["rows"]) > 4 and whole["next"] is None
        rows, address, pages = [], "/api/deadlines?date=2026-06-01&limit=3", 0
        while address:
            response = httpx.get(server.url + address)
            assert response.status_code == 200
            page = response.json()
            assert page["summary"] == whole["summary"] and page["total"] == whole["total"]
            assert len(page["rows"]) <= 3
            link = response.headers.get("link")
            assert (link is None) == (page["next"] is None)
            if link:
                assert link == f'<{page["next"]}>; rel="next"'
            rows.extend(page["rows"])
            address, pages = page["next"], pages + 1
        assert rows == whole["rows"] and pages == -(-whole["total"] // 3)
        for bad in ({"limit": 0}, {"limit": 10_001}, {"offset": -1}, {"limit": "x"}):
            assert httpx.get(url, params=bad).status_code == 422
