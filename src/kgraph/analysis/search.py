"""A small in-memory label index: find documents, agencies and provinces as people type them.

Users type Vietnamese with or without diacritics and numbers with any separators
("so y te gia lai", "28 ct tw"). Labels and queries are both folded
(:func:`kgraph.ingest.text.fold`)
and split into alphanumeric tokens; a label matches when every query token starts one of its
tokens. The index is rebuilt from the lineage graph, so it costs no query of its own.
"""

from __future__ import annotations

import heapq
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kgraph.analysis.lineage import KIND_LABELS, LineageGraph, Node
from kgraph.ingest.text import fold

_TOKENS = re.compile(r"[a-z0-9]+")
_SEARCHABLE = ("document", "agency", "collective", "mention", "province")
_KIND_RANK = {kind: rank for rank, kind in enumerate(_SEARCHABLE)}
# A candidate's words are checked for a token (a few dozen ``startswith``) rather than the
# token's entries read when these many more entries hold it than candidates remain.
WORDS_CHECKED = 32


def tokens(text: str) -> list[str]:
    """Folded alphanumeric tokens ("Sở Y tế" -> ["so", "y", "te"]; "28-CT/TW" -> 28, ct, tw)."""
    return _TOKENS.findall(fold(text))


@dataclass(frozen=True)
class Hit:
    iri: str
    kind: str
    label: str
    detail: str
    province: str


@dataclass(frozen=True)
class _Entry:
    hit: Hit
    primary: tuple[str, ...]  # tokens of the label (number for documents)
    words: frozenset[str]  # every token: label, title, province, kind


def _entry(node: Node) -> _Entry | None:
    """The index entry of a searchable node (None for plan parts)."""
    if node.kind not in _SEARCHABLE:
        return None
    if node.kind == "document":
        detail = " · ".join(v for v in (node.doctype, node.text, node.year) if v)
    else:
        detail = KIND_LABELS[node.kind]
    label = node.number or node.text or node.label
    primary = tuple(tokens(label))
    words = set(primary)
    for extra in (node.text, node.province, node.doctype):
        words.update(tokens(extra))
    hit = Hit(iri=node.iri, kind=node.kind, label=label, detail=detail, province=node.province)
    return _Entry(hit, primary, frozenset(words))


class LabelIndex:
    """Folded tokens of every searchable node's label, number, title and province."""

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = entries

    @classmethod
    def from_lineage(cls, lineage: LineageGraph) -> LabelIndex:
        return cls.from_nodes(lineage.nodes.values())

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node]) -> LabelIndex:
        return cls([entry for node in nodes if (entry := _entry(node)) is not None])

    def updated(self, nodes: dict[str, Node], changed: set[str]) -> LabelIndex:
        """The index of ``nodes`` where only the entries of ``changed`` IRIs differ from this
        one's (a new store version: the others are reused, not folded again)."""
        kept = [entry for entry in self._entries if entry.hit.iri not in changed]
        return LabelIndex(kept + [entry for iri in sorted(changed) if iri in nodes
                                  and (entry := _entry(nodes[iri])) is not None])

    def state(self) -> list[tuple[object, ...]]:
        """The entries as plain tuples (what :meth:`from_state` reads back, quickly)."""
        return [(e.hit.iri, e.hit.kind, e.hit.label, e.hit.detail, e.hit.province, e.primary,
                 tuple(e.words)) for e in self._entries]

    @classmethod
    def from_state(cls, state: list[tuple[Any, ...]]) -> LabelIndex:
        entries = []
        new = object.__new__
        for iri, kind, label, detail, province, primary, words in state:
            hit, entry = new(Hit), new(_Entry)  # frozen: filled without __init__'s setattrs
            hit.__dict__.update(iri=iri, kind=kind, label=label, detail=detail,
                                province=province)
            entry.__dict__.update(hit=hit, primary=primary, words=frozenset(words))
            entries.append(entry)
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def prepare(self) -> LabelIndex:
        """Build the word index now (a served version's warm-up) rather than at the first
        search (0.6 s at 20,000 plans)."""
        self._word_index()
        return self

    def _word_index(self) -> tuple[list[str], list[list[int]]]:
        """Every distinct word, sorted, with the entries holding it (built on first use): a
        query token's entries are those of the words in its prefix range (two bisections),
        so a search reads the candidates only, not every label of the corpus."""
        index = getattr(self, "_words", None)
        if index is None:
            holders: dict[str, list[int]] = {}
            for number, entry in enumerate(self._entries):
                for word in entry.words:
                    holders.setdefault(word, []).append(number)
            words = sorted(holders)
            index = (words, [holders[w] for w in words])
            self._words = index
        return index

    def _holder_counts(self) -> list[int]:
        """Entries holding the words before each word of the index (``counts[end] -
        counts[start]``: the entries of a prefix range, without reading them)."""
        counts = getattr(self, "_counts", None)
        if counts is None:
            counts = [0]
            for held in self._word_index()[1]:
                counts.append(counts[-1] + len(held))
            self._counts = counts
        return counts

    def _candidates(self, wanted: list[str]) -> list[_Entry]:
        """The entries every query token starts a word of. The token with the fewest entries
        gives the first candidates; a token held by many more entries than remain (at 20,000
        plans "so", of "Sở" and "Số", starts words of 42,410 entries) is checked on the
        candidates' own words instead of reading all its entries."""
        words, holders = self._word_index()
        counts = self._holder_counts()
        ranges = []
        for token in set(wanted):
            start = bisect_left(words, token)
            end = bisect_left(words, token + "\uffff", start)
            ranges.append((counts[end] - counts[start], token, start, end))
        found: set[int] | None = None
        for held, token, start, end in sorted(ranges):  # fewest entries first
            if found is None:
                found = {n for i in range(start, end) for n in holders[i]}
            elif held > WORDS_CHECKED * len(found):
                entries = self._entries
                found = {n for n in found
                         if any(word.startswith(token) for word in entries[n].words)}
            else:
                found &= {n for i in range(start, end) for n in holders[i]}
            if not found:
                return []
        return [self._entries[n] for n in sorted(found or ())]

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Labels every query token is a prefix of a word of; best matches first.

        Exact labels first, then labels the query covers best (fewest words left over).
        """
        wanted = tokens(query)
        if not wanted:
            return []
        wanted_set = set(wanted)
        covers: dict[str, frozenset[str]] = {}  # a label word -> the query tokens it starts with

        def covered(word: str) -> frozenset[str]:
            found = covers.get(word)
            if found is None:
                found = covers[word] = frozenset(t for t in wanted_set if word.startswith(t))
            return found

        scored = []
        for entry in self._candidates(wanted):  # national scale: a common word has thousands
            exact = tuple(wanted) == entry.primary
            seen = [covered(w) for w in entry.primary]
            in_label = wanted_set.issubset(frozenset().union(*seen))
            unmatched = sum(1 for tokens_of in seen if not tokens_of)
            scored.append(
                (
                    (
                        not exact,
                        not in_label,
                        unmatched,
                        _KIND_RANK[entry.hit.kind],
                        len(entry.hit.label),
                        entry.hit.label,
                        entry.hit.iri,
                    ),
                    entry.hit,
                )
            )
        return [hit for _, hit in heapq.nsmallest(limit, scored, key=lambda pair: pair[0])]
