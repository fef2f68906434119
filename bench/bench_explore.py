"""Explorer benchmark: time to a usable picture of a lineage of more than 2,000 nodes.

Why: pyvis's physics layout took minutes around 1,500 nodes. The explorer uses a hierarchical
layout with physics off; this checks it stays under 3 s on the largest lineage analysts will
open: 28-CT/TW carried out by a party plan and a UBND plan in each of the 34 provinces, each
UBND plan with tasks and ``--assignments`` extra assignments of two duties (lead + coordinate).
Documents are made with ``tests/factories.py``'s ``provincial_plan`` (no extractor), mapped and
loaded into an in-memory store, served on 127.0.0.1 and opened in headless Debian chromium at
``/explore?open=<28-CT/TW>&depth=8``. Printed, from navigation start:

* first render: the first frame drawn with the lineage on the canvas;
* usable picture: the first frame after the hierarchical layout and the fit to the window;
* stable layout: the layout is final once drawn (physics off); checked by comparing node
  positions again after ``--settle`` seconds, which must not have moved;
* the server's share (``/api/lineage``) and the number of nodes and edges visible.

Run: ``.venv/bin/python bench/bench_explore.py [--assignments 15] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, LiveServer  # noqa: E402
from factories import agency, provincial_plan, span  # noqa: E402
from kgraph.graph.mapping import document_graph  # noqa: E402
from kgraph.graph.vocab import ID  # noqa: E402
from kgraph.ingest.model import Assignment, Duty, PlanDocument  # noqa: E402
from kgraph.resources import resource_graphs  # noqa: E402
from kgraph.store.embedded import OxigraphRepository  # noqa: E402
from kgraph.web.app import create_app  # noqa: E402

PROVINCES = [
    "An Giang", "Bắc Ninh", "Cà Mau", "Cao Bằng", "Cần Thơ", "Đà Nẵng", "Đắk Lắk", "Điện Biên",
    "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Nội", "Hà Tĩnh", "Hải Phòng", "Hưng Yên",
    "Khánh Hòa", "Lai Châu", "Lâm Đồng", "Lạng Sơn", "Lào Cai", "Nghệ An", "Ninh Bình",
    "Phú Thọ", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị", "Sơn La", "Tây Ninh", "Thái Nguyên",
    "Thanh Hóa", "Thành phố Hồ Chí Minh", "Tuyên Quang", "Vĩnh Long", "Huế",
]
DEPARTMENTS = [
    "Sở Giáo dục và Đào tạo", "Sở Tài chính", "Sở Tư pháp", "Sở Nội vụ", "Sở Công an",
    "Sở Văn hóa, Thể thao và Du lịch", "Sở Khoa học và Công nghệ", "Sở Xây dựng",
    "Sở Nông nghiệp và Môi trường", "Sở Công Thương", "Sở Dân tộc và Tôn giáo",
    "Sở Ngoại vụ", "Ban Dân tộc", "Tỉnh đoàn", "Hội Liên hiệp Phụ nữ tỉnh",
    "Liên đoàn Lao động tỉnh", "Báo tỉnh", "Đài Phát thanh và Truyền hình",
]


def plans(assignments: int) -> list[PlanDocument]:
    """One party plan + one UBND plan per province, each UBND plan with extra assignments."""
    documents = []
    for i, province in enumerate(PROVINCES):
        plan = provincial_plan(f"{100 + i}/KH-UBND", province, f"{200 + i}-KH/TU",
                               date(2024, 3, 1), date(2024, 6, 1))
        for k in range(assignments):
            name = DEPARTMENTS[k % len(DEPARTMENTS)]
            slug = f"bench-{k}"
            body = agency(name, name, slug, province)
            partner = agency("Sở Y tế", "Sở Y tế", "so-y-te", province)
            number = str(5 + k)
            plan.assignments.append(Assignment(
                number, f"{name}:", span(f"{number}. {name}:"), addressees=[body],
                has_lead_clause=True,
                duties=[Duty("1", f"Chủ trì nhiệm vụ {k} của {name}", span("- Chủ trì"),
                             lead=[body], coordinators=[partner]),
                        Duty("2", f"Phối hợp thực hiện nhiệm vụ {k}", span("- Phối hợp"),
                             coordinators=[body])]))
        documents.append(plan)
    return documents


def load(assignments: int) -> OxigraphRepository:
    repo = OxigraphRepository()
    payload = resource_graphs()
    payload.update({str(g.name): g.to_ntriples() for g in map(document_graph,
                                                                plans(assignments))})
    repo.replace_graphs(payload)
    return repo


def measure(page: object, url: str, settle: float) -> dict[str, float]:
    """Open the lineage once; times in ms from navigation start."""
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)  # type: ignore[attr-defined]
    timings = page.evaluate("kgExplorer.timings")  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while "usable" not in timings and time.monotonic() < deadline:
        time.sleep(0.02)
        timings = page.evaluate("kgExplorer.timings")  # type: ignore[attr-defined]
    before = page.evaluate("JSON.stringify(kgExplorer.network.getPositions())")  # type: ignore
    time.sleep(settle)
    after = page.evaluate("JSON.stringify(kgExplorer.network.getPositions())")  # type: ignore
    counts = page.evaluate(  # type: ignore[attr-defined]
        "[kgExplorer.visibleIds().length, kgExplorer.edges.get({filter: e => !e.hidden}).length]")
    return {
        "first_render": timings["drawn"], "usable": timings["usable"],
        "merged": timings["merged"] - timings["dataReady"],
        "api": timings["dataReady"] - timings["requestStart"], "stable": float(before == after),
        "nodes": counts[0], "edges": counts[1],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignments", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--store", type=Path, default=None,
                        help="a built store to serve instead of the generated one (read-only; "
                             "its explorer data is computed or read back first, untimed)")
    parser.add_argument("--open", default=str(ID["doc/vn/28-ct-tw/2023"]),
                        help="IRI of the document whose lineage (down) is opened")
    parser.add_argument("--depth", type=int, default=8, help="depth of the lineage opened")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    repo = (OxigraphRepository(args.store, read_only=True) if args.store
            else load(args.assignments))
    print(f"store: {len(repo)} quads, opened in {time.perf_counter() - started:.1f} s")
    root = args.open
    with LiveServer(create_app(repo)) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(server.url) else
                outside.append(r.url))
        url = f"{server.url}/explore?open={root}&direction=down&depth={args.depth}"
        started = time.perf_counter()  # the per-version data (search index, facets)
        page.goto(f"{server.url}/api/facets", timeout=3_600_000)
        print(f"explorer data ready in {time.perf_counter() - started:.1f} s (untimed below)")
        results = [measure(page, url, args.settle) for _ in range(args.runs)]
        page.screenshot(path=str(ROOT / "test-artifacts" / "bench-explore.png"))
        browser.close()
    nodes, edges = results[0]["nodes"], results[0]["edges"]
    print(f"lineage of {root}: {nodes:.0f} nodes, {edges:.0f} edges visible")
    print(f"{'':>24}  first open (the walk)  reopened (kept answer), median; all runs")
    for key, label in (("api", "/api/lineage"), ("merged", "vis data"),
                       ("first_render", "time to first render"),
                       ("usable", "laid out, fitted, drawn")):
        values = [r[key] for r in results]
        again = statistics.median(values[1:]) if len(values) > 1 else float("nan")
        print(f"{label:>24}: {values[0]:7.0f} ms {again:20.0f} ms      "
              f"(runs: {', '.join(f'{v:.0f}' for v in values)})")
    stable = all(r["stable"] == 1.0 for r in results)
    print(f"{'stable layout':>24}: {'yes' if stable else 'NO'} (positions unchanged after "
          f"{args.settle:.1f} s; physics off) -> stable at first render")
    print(f"{'requests off 127.0.0.1':>24}: {len(outside)}")
    first, again = results[0]["usable"], statistics.median(r["usable"] for r in results)
    print(f"target < 3 s to a usable picture: first open {'met' if first < 3000 else 'MISSED'}"
          f" ({first:.0f} ms), median of all runs {'met' if again < 3000 else 'MISSED'} "
          f"({again:.0f} ms); load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
