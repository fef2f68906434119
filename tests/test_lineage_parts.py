"""The directive stage's lineage kept in parts (kgraph.analysis.directive_index.LineageIndex):
a one-plan build reads the parts its changed graphs touch, and what it finds for the directives
its plans carry out, and the lineage it keeps, are what the whole lineage gives. Checked on
random national-like lineages (plans carrying out several directives, chains through provincial
plans, two directives of one number; many plans carrying out no directive: a decision, a
resolution, a plan on top of its own chain or nothing, with graphs stating their targets' own
links, and targets moving from a directive to a decision and back) against the store's lineage
read whole, and for a lineage kept whole by older code; and that a plan carrying out no
directive reads its own roots' parts, not those of every such plan."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kgraph.analysis import coverage as cov
from kgraph.analysis import directive_index as di
from kgraph.store.derived import document_value, keep_document_value

DOC = "https://example.org/doc/"


class Store:
    """A store's lineage, read as :meth:`Lineage.read` reads it (whole, or some graphs)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.graphs: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]],
                                     di.SourcePlan]] = {}
        self.numbers = {f"{DOC}d{i}": f"{i % 4}-NQ/TW" for i in range(5)}  # d0 and d4: 0-NQ/TW
        self.others = [f"{DOC}qd{i}" for i in range(3)] + [f"{DOC}cp{i}" for i in range(2)]
        self.numbers.update({d: f"{i}/QĐ-TTg" if "qd" in d else f"{i}/NQ-CP"
                             for i, d in enumerate(self.others)})  # carried out, no directive
        self.labels = {f"{DOC}p{i}": f"Tỉnh {i}" for i in range(4)}
        self.serial = 0
        self.directive_share = 0.4  # of the plans carrying out a document, not a plan

    def sources(self) -> dict[str, str]:
        return {graph: entry[2].sha256 for graph, entry in self.graphs.items()}

    def plan(self, graph: str | None = None, iri: str | None = None,
             targets: list[str] | None = None) -> str:
        """A plan (new, or another text of ``graph``'s) carrying out up to two documents
        (``targets``, else drawn), its graph now and then stating a target plan's own link."""
        self.serial += 1
        iri = iri or f"{DOC}plan{self.serial}"
        graph = graph or f"{iri}/graph"
        plans = [p.iri for _, _, p in self.graphs.values() if p.iri != iri]
        directives = [f"{DOC}d{i}" for i in range(5)]
        if targets is None:
            way = self.rng.random()  # mostly one document: groups apart, a few plans in two
            documents = (directives if self.rng.random() < self.directive_share
                         else self.others)
            targets = ([] if way < 0.1 else
                       [self.rng.choice(documents)] if way < 0.4 or not plans else
                       [self.rng.choice(plans)] if way < 0.85 else
                       self.rng.sample(directives + self.others + plans, 2))
        edges = [(iri, t) for t in targets]
        for target in targets:  # "carrying out plan X, which carries out Y"
            above = [t for g, e in self.graphs.items() for s, t in e[0]
                     if s == target and g != graph]
            if above and self.rng.random() < 0.2:
                edges.append((target, above[0]))
        province = self.rng.choice([*self.labels, ""])
        number = f"{self.serial}/KH-UBND"
        self.numbers[iri] = number
        self.graphs[graph] = (
            edges, [(t, self.numbers[t]) for t in dict.fromkeys(t for _, t in edges)],
            di.SourcePlan(iri, number, self.labels.get(province, ""), province, graph,
                          f"sha{self.serial}"))
        return graph

    def read(self, repo: object, graphs: list[str] | None = None) -> di.Lineage:
        chosen = sorted(self.graphs if graphs is None else set(graphs) & set(self.graphs))
        plans = {self.graphs[g][2].iri: self.graphs[g][2] for g in chosen}
        return di.Lineage({g: list(self.graphs[g][0]) for g in chosen},
                          {g: list(self.graphs[g][1]) for g in chosen}, plans,
                          {p.province_iri: self.labels[p.province_iri] for p in plans.values()
                           if p.province_iri})


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    found = Store(random.Random(0))
    monkeypatch.setattr(di.Lineage, "read", classmethod(lambda cls, repo, graphs=None:
                                                        found.read(repo, graphs)))
    monkeypatch.setattr(cov, "_records", lambda repo, text: [])  # (every chain is of plans)
    di._HELD.clear()
    return found


def kept_files(root: Path) -> dict[str, object]:
    return {path.stem: document_value(root, path.stem)
            for path in (root / "derived" / "documents").glob("directive-lineage-*.pickle")}


def assert_kept_whole(root: Path, sources: dict[str, str], store: Store) -> None:
    """One index and its parts kept, nothing else, and merged they are the store's lineage."""
    key = di.lineage_key(sources)
    index = document_value(root, key)
    assert isinstance(index, di.LineageIndex)
    assert set(kept_files(root)) == {key, *index.parts.values()}
    di._HELD.clear()
    merged, _ = di._kept_lineage(root, key)
    whole = store.read(None)
    assert merged is not None
    assert (merged.edges, merged.targets, merged.plans, merged.labels) == (
        whole.edges, whole.targets, whole.plans, whole.labels)
    made = di._keep_index(root / "whole", key, whole, False)  # the index made from nothing
    assert (index.holders, index.numbers, index.labels) == (made.holders, made.numbers,
                                                            made.labels)
    assert {name: graphs_of(root, part) for name, part in index.parts.items()} == {
        name: graphs_of(root / "whole", part) for name, part in made.parts.items()}


def graphs_of(root: Path, key: str) -> set[str]:
    part = document_value(root, key)
    assert isinstance(part, di.Lineage)
    return {*part.edges, *part.targets, *(p.graph for p in part.plans.values())}


def assert_same_answers(mine: di.Lineage, whole: di.Lineage, changed: dict[str, str | None]
                        ) -> None:
    """What the stage asks of the lineage, for the changed documents: the same."""
    assert mine.groups(changed) == whole.groups(changed)
    for number in whole.groups(changed):
        for directive, numbers in whole.directive_numbers.items():
            if number in numbers:
                assert mine.implementing(None, directive) == whole.implementing(  # type: ignore[arg-type]
                    None, directive)  # type: ignore[arg-type]


def recorded_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The values the stage reads kept (or holds) from now on."""
    read: list[object] = []
    original = di._held_value

    def recording(root: Path, key: str) -> object:
        value = original(root, key)
        read.append(value)
        return value

    monkeypatch.setattr(di, "_held_value", recording)
    return read


@pytest.mark.parametrize("seed", range(8))
def test_a_few_plans_built_read_some_parts_and_find_what_the_whole_lineage_finds(
        store: Store, tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    store.rng.seed(seed)
    store.directive_share = 0.5 if seed % 2 else 0.15  # or most plans carrying out none
    for _ in range(120):
        store.plan()
    before = store.sources()
    first = di.kept_lineage(None, tmp_path, {}, before)  # type: ignore[arg-type]
    assert first.plans == store.read(None).plans
    assert_kept_whole(tmp_path, before, store)
    read_parts = []
    directives = {f"{DOC}d{i}" for i in range(5)}
    for step in range(35):
        plans = {g: e[2].iri for g, e in store.graphs.items()}
        kind = step % 7
        if kind == 5:  # a plan's target moves from a directive to a decision, or back
            direct = sorted(g for g, e in store.graphs.items()
                            if e[0] and e[0][0][1] in directives | set(store.others))
            graph = store.rng.choice(direct)
            target = store.graphs[graph][0][0][1]
            store.plan(graph, plans[graph], [store.rng.choice(
                store.others if target in directives else sorted(directives))])
            graphs = [graph]
        elif kind == 6:  # a plan carrying out nothing, then another carrying it out
            graph = store.plan(targets=[])
            di._HELD.clear()
            after = store.sources()
            with monkeypatch.context() as patch:
                read = recorded_reads(patch)
                mine = di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
            assert_same_answers(mine, store.read(None), {store.graphs[graph][2].iri: None})
            assert_kept_whole(tmp_path, after, store)
            assert sum(isinstance(v, di.Lineage) for v in read) <= 1  # its lone part at most
            before = after
            graphs = [store.plan(targets=[store.graphs[graph][2].iri])]
        elif kind == 0 or not plans:  # new plans
            graphs = [store.plan() for _ in range(store.rng.choice([1, 2]))]
        elif kind == 1:  # a plan of the store, another text (its targets may change)
            graph = store.rng.choice(sorted(plans))
            store.plan(graph, plans[graph])
            graphs = [graph]
        elif kind == 2:  # a plan gone
            graph = store.rng.choice(sorted(plans))
            del store.graphs[graph]
            graphs = [graph]
        elif kind == 3:  # a plan named by others, read again with another number's IRI
            graph = store.rng.choice(sorted(plans)[:40])
            store.plan(graph)
            graphs = [graph]
        else:  # a new plan that later plans already carry out (a target before its text)
            iri = f"{DOC}early{step}"
            store.numbers[iri] = f"early{step}/KH"
            store.plan(iri=f"{DOC}child{step}")
            store.graphs[f"{DOC}child{step}/graph"][0].append((f"{DOC}child{step}", iri))
            store.graphs[f"{DOC}child{step}/graph"][1].append((iri, store.numbers[iri]))
            di._HELD.clear()
            after = store.sources()
            di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
            before = after
            graphs = [store.plan(iri=iri)]
        after = store.sources()
        di._HELD.clear()  # a new process
        with monkeypatch.context() as patch:
            read = recorded_reads(patch)
            mine = di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
        changed: dict[str, str | None] = {
            store.graphs[g][2].iri: None for g in graphs if g in store.graphs}
        assert_same_answers(mine, store.read(None), changed)
        assert_kept_whole(tmp_path, after, store)
        read_parts.append(sum(isinstance(v, di.Lineage) for v in read))
        before = after
    index = document_value(tmp_path, di.lineage_key(before))
    assert isinstance(index, di.LineageIndex)
    assert min(read_parts) < len(index.parts)  # some builds read some parts, not all


def test_a_lineage_kept_whole_by_older_code_is_read_once_and_kept_in_parts(
        store: Store, tmp_path: Path) -> None:
    for _ in range(60):
        store.plan()
    before = store.sources()
    whole = store.read(None)
    delta_base = di.lineage_key({"older": "sources"})
    keep_document_value(tmp_path, delta_base, whole)  # an older build's full lineage
    keep_document_value(tmp_path, di.lineage_key(before), di.LineageDelta(
        delta_base, [], whole.part([])))  # and its delta since (nothing changed)
    graph = store.plan()
    after = store.sources()
    mine = di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
    iri = store.graphs[graph][2].iri
    assert_same_answers(mine, store.read(None), {iri: None})
    assert_kept_whole(tmp_path, after, store)  # the older values gone
    assert not any(isinstance(v, di.LineageDelta) for v in kept_files(tmp_path).values())


def test_a_plan_carrying_out_no_directive_reads_its_roots_parts_only(
        store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans under two decisions (chains of three levels) and plans carrying out nothing: a new
    plan under one decision reads the parts holding that decision's family, a new plan
    carrying out nothing a lone part of a few graphs, and neither a part of the other's."""
    first, second = store.others[0], store.others[1]
    family: dict[str, set[str]] = {first: set(), second: set()}
    for decision in (first, second):
        for _ in range(30):
            chain = [decision]
            for _ in range(3):
                graph = store.plan(targets=[chain[-1]])
                family[decision].add(graph)
                chain.append(store.graphs[graph][2].iri)
    lone = {store.plan(targets=[]) for _ in range(600)}
    before = store.sources()
    di.kept_lineage(None, tmp_path, {}, before)  # type: ignore[arg-type]
    under = sorted(store.graphs[g][2].iri for g in family[first])
    for targets, allowed in (([under[5]], family[first]), ([], lone)):
        new = store.plan(targets=targets)
        after = store.sources()
        di._HELD.clear()
        with monkeypatch.context() as patch:
            read = recorded_reads(patch)
            mine = di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
        assert_same_answers(mine, store.read(None), {store.graphs[new][2].iri: None})
        assert_kept_whole(tmp_path, after, store)
        graphs = set().union(*({*v.edges, *v.targets, *(p.graph for p in v.plans.values())}
                               for v in read if isinstance(v, di.Lineage)))
        assert graphs and graphs <= allowed
        assert len(graphs) < len(allowed) / 20 if allowed is lone else graphs == allowed
        before = after


def test_a_document_looking_like_a_root_in_the_parts_read_is_checked_in_every_part(
        store: Store, tmp_path: Path) -> None:
    """Two plans carrying out each other (no root above them) and a third carrying out one of
    them, each in no head's part: when the third moves to a directive, the part read holding
    it may show the cycle's plan carried out and carrying out nothing (its own link lives in
    another part); it becomes no head."""
    def named(prefix: str, part: str | None, other: str | None = None) -> str:
        for n in range(10_000):
            iri = f"{DOC}{prefix}{n}"
            found = di._lone_part(f"{iri}/graph")
            if (part is None or found == part) and found != other:
                return iri
        raise AssertionError("no name")

    third = named("third", None)
    part = di._lone_part(f"{third}/graph")
    y = named("y", part)  # y's graph, carrying out x, in the third's lone part
    x = named("x", None, part)  # x's graph, carrying out y, in another
    store.numbers.update({x: "x/KH", y: "y/KH"})
    store.plan(iri=x, targets=[y])
    store.plan(iri=y, targets=[x])
    store.plan(iri=third, targets=[x])
    for _ in range(20):
        store.plan(targets=[f"{DOC}d0"])
    before = store.sources()
    di.kept_lineage(None, tmp_path, {}, before)  # type: ignore[arg-type]
    assert_kept_whole(tmp_path, before, store)
    store.plan(f"{third}/graph", third, [f"{DOC}d0"])
    after = store.sources()
    di._HELD.clear()
    mine = di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
    assert_same_answers(mine, store.read(None), {third: None})
    assert_kept_whole(tmp_path, after, store)


def test_an_index_kept_by_older_code_is_read_whole_once_and_kept_in_this_layout(
        store: Store, tmp_path: Path) -> None:
    """An index of the older layout (the graphs of no directive in one part, no ``layout``)
    under the key of this code (a store re-keyed by a benchmark) is merged, not continued."""
    store.directive_share = 0.2
    for _ in range(80):
        store.plan()
    before = store.sources()
    whole = store.read(None)
    key = di.lineage_key(before)
    directives = set(whole.directive_numbers)
    mentions = di._mentions(whole)
    groups = di._group_graphs(whole, sorted(directives), mentions)
    groups[""] = set(mentions) - set().union(*groups.values())
    holders: dict[str, tuple[str, ...]] = {}
    di._holders(groups, mentions, holders)
    older = di.LineageIndex({name: di._keep_part(tmp_path, di._part(whole, graphs), False)
                             for name, graphs in groups.items()}, {}, holders,
                            dict(whole.labels), "")
    del older.__dict__["layout"]
    keep_document_value(tmp_path, key, older)
    graph = store.plan(targets=[store.others[0]])
    after = store.sources()
    di._HELD.clear()
    mine = di.kept_lineage(None, tmp_path, before, after)  # type: ignore[arg-type]
    assert_same_answers(mine, store.read(None), {store.graphs[graph][2].iri: None})
    assert_kept_whole(tmp_path, after, store)
    assert document_value(tmp_path, di.lineage_key(after)).layout == di.LAYOUT
