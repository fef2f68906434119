"""A small in-memory label index: find documents, agencies and provinces as people type them.

Users type Vietnamese with or without diacritics and numbers with any separators
("so y te gia lai", "28 ct tw"). Labels and queries are both folded
(:func:`kgraph.ingest.text.fold`)
and split into alphanumeric tokens; a label matches when every query token starts one of its
tokens. The index is rebuilt from the lineage graph, so it costs no query of its own.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from kgraph.analysis.lineage import KIND_LABELS, LineageGraph, Node
from kgraph.ingest.text import fold

_TOKENS = re.compile(r"[a-z0-9]+")
_SEARCHABLE = ("document", "agency", "collective", "mention", "province")
_KIND_RANK = {kind: rank for rank, kind in enumerate(_SEARCHABLE)}
# A candidate's words are checked for a token (a few dozen ``startswith``) rather than the
# token's entries read when these many more entries hold it than candidates remain.
WORDS_CHECKED = 32
# A one-token query held by more entries than this is ranked whole once per index and kept
# (the warm-up ranks every such prefix): its searches are a slice of that order, whatever
# the corpus size ("ubnd" matches 24,541 labels at 20,000 plans).
RANKED_FROM = 1000


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


def _entry(node: Node, tokens_of: dict[str, tuple[str, ...]] | None = None) -> _Entry | None:
    """The index entry of a searchable node (None for plan parts); ``tokens_of``: the tokens of
    texts seen already (a province's, a type's, a body's name recur across 100,000 nodes at
    20,000 plans: each is folded once)."""
    if node.kind not in _SEARCHABLE:
        return None
    if node.kind == "document":
        detail = " · ".join(v for v in (node.doctype, node.text, node.year) if v)
    else:
        detail = KIND_LABELS[node.kind]
    label = node.number or node.text or node.label
    known = {} if tokens_of is None else tokens_of
    found = []
    for text in (label, node.text, node.province, node.doctype):
        split = known.get(text)
        if split is None:
            split = known[text] = tuple(tokens(text))
        found.append(split)
    primary = found[0]
    words = set(primary)
    for split in found[1:]:
        words.update(split)
    # frozen dataclasses filled without __init__'s one setattr a field (as from_state)
    hit, entry = object.__new__(Hit), object.__new__(_Entry)
    hit.__dict__.update(iri=node.iri, kind=node.kind, label=label, detail=detail,
                        province=node.province)
    entry.__dict__.update(hit=hit, primary=primary, words=frozenset(words))
    return entry


class LabelIndex:
    """Folded tokens of every searchable node's label, number, title and province."""

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = entries

    @classmethod
    def from_lineage(cls, lineage: LineageGraph) -> LabelIndex:
        return cls.from_nodes(lineage.nodes.values())

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node]) -> LabelIndex:
        tokens_of: dict[str, tuple[str, ...]] = {}
        return cls([entry for node in nodes if (entry := _entry(node, tokens_of)) is not None])

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
        """Build the word index and rank the common prefixes now (a served version's
        warm-up) rather than at the first search."""
        index = self._word_index()
        for token in index.common_prefixes(RANKED_FROM):
            self._ranked(token)
        return self

    def _ranked(self, token: str) -> np.ndarray:
        """Every entry a one-token query matches, best first (kept: a common prefix's next
        search is a slice of it)."""
        orders: dict[str, np.ndarray] = self.__dict__.setdefault("_orders", {})
        order = orders.get(token)
        if order is None:
            found = self._candidates([token])
            order = orders[token] = found[np.argsort(self._keys(found, [token]))].astype(
                np.int32)
        return order

    def _word_index(self) -> _Words:
        """The word index (built on first use): a query token's entries are those of the
        words in its prefix range (two bisections), so a search reads the candidates only,
        not every label of the corpus."""
        index: _Words | None = getattr(self, "_words", None)
        if index is None:
            index = self._words = _Words.of(self._entries)
        return index

    def _candidates(self, wanted: list[str]) -> np.ndarray:
        """The entries every query token starts a word of, ascending. The token with the
        fewest entries gives the first candidates; a token held by many more entries than
        remain (at 20,000 plans "so", of "Sở" and "Số", starts words of 42,410 entries) is
        checked on the candidates' own words instead of reading all its entries."""
        index = self._word_index()
        ranges = [(index.holding(token), token, *index.prefix(token)) for token in set(wanted)]
        found: np.ndarray | None = None
        for held, _, start, end in sorted(ranges):  # fewest entries first
            if found is not None and held > WORDS_CHECKED * len(found):
                position, owner = _spans(index.word_ptr, found)
                words = index.entry_words[position]
                found = found[np.bincount(owner[(words >= start) & (words < end)],
                                          minlength=len(found)) > 0]
            else:
                holding = np.zeros(len(self._entries), dtype=bool)  # a mark per entry: no sort
                holding[index.holders[index.holder_ptr[start]:index.holder_ptr[end]]] = True
                found = np.flatnonzero(holding) if found is None else found[holding[found]]
            if not len(found):
                break
        return found if found is not None else np.zeros(0, np.int64)

    def _keys(self, found: np.ndarray, wanted: list[str]) -> np.ndarray:
        """Each candidate's place in the ranking as one integer, smallest best: exact label,
        then every token in the label, then fewest label words left over, then kind, label
        length, label and IRI (the entry's rank in the index, :attr:`_Words.rank`)."""
        index = self._word_index()
        position, owner = _spans(index.primary_ptr, found)
        words = index.primary[position]
        count = len(found)
        covered = np.zeros(len(words), dtype=bool)
        in_label = np.ones(count, dtype=bool)
        for token in set(wanted):
            start, end = index.prefix(token)
            starting = (words >= start) & (words < end)
            covered |= starting
            in_label &= np.bincount(owner[starting], minlength=count) > 0
        lengths = index.primary_ptr[found + 1] - index.primary_ptr[found]
        unmatched = lengths - np.bincount(owner[covered], minlength=count)
        exact = lengths == len(wanted)
        for place, token in enumerate(wanted):
            same = np.flatnonzero(exact)
            exact[same] = index.primary[index.primary_ptr[found[same]] + place] == index.word(
                token)
        return ((~exact).astype(np.int64) << 62 | (~in_label).astype(np.int64) << 61
                | unmatched.astype(np.int64) << 32 | index.rank[found])

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Labels every query token is a prefix of a word of; best matches first.

        Exact labels first, then labels the query covers best (fewest words left over).
        """
        wanted = tokens(query)
        if not wanted or limit < 1:
            return []
        if len(wanted) == 1 and self._word_index().holding(wanted[0]) > RANKED_FROM:
            return [self._entries[n].hit for n in self._ranked(wanted[0])[:limit].tolist()]
        found = self._candidates(wanted)  # national scale: a common word has thousands
        if not len(found):
            return []
        keys = self._keys(found, wanted)
        if len(found) > limit:
            best = np.argpartition(keys, limit - 1)[:limit]
            best = best[np.argsort(keys[best])]
        else:
            best = np.argsort(keys)
        return [self._entries[n].hit for n in found[best].tolist()]


def _spans(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions of ``rows``' items in a compressed table (row ``r``'s items at
    ``ptr[r]:ptr[r + 1]``), and for each position the place of its row in ``rows``."""
    lengths = ptr[rows + 1] - ptr[rows]
    owner = np.repeat(np.arange(len(rows)), lengths)
    firsts = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) + np.repeat(ptr[rows] - firsts, lengths), owner


@dataclass(frozen=True)
class _Words:
    """A label index's words as arrays (numpy: a search over 24,541 entries holding "ubnd"
    scored them one by one in Python, 105–134 ms at 20,000 plans)."""

    words: list[str]  # every distinct word, sorted
    holder_ptr: np.ndarray  # word i's entries: holders[holder_ptr[i]:holder_ptr[i + 1]]
    holders: np.ndarray
    word_ptr: np.ndarray  # entry n's words (ids): entry_words[word_ptr[n]:word_ptr[n + 1]]
    entry_words: np.ndarray
    primary_ptr: np.ndarray  # entry n's label tokens (ids), in order
    primary: np.ndarray
    rank: np.ndarray  # each entry's place in (kind, label length, label, IRI) order

    @classmethod
    def of(cls, entries: list[_Entry]) -> _Words:
        words = sorted(frozenset().union(*(e.words for e in entries)))
        ids = {word: i for i, word in enumerate(words)}

        def table(rows: list[Iterable[str]]) -> tuple[np.ndarray, np.ndarray]:
            lengths = np.fromiter((len(row) for row in rows), np.int64, len(rows))  # type: ignore[arg-type]
            items = np.fromiter((ids[w] for row in rows for w in row), np.int32,
                                int(lengths.sum()))
            return np.concatenate(([0], np.cumsum(lengths))), items

        word_ptr, entry_words = table([e.words for e in entries])
        primary_ptr, primary = table([e.primary for e in entries])
        # each word's entries, ascending: the entries' words sorted by word (stable)
        by_word = np.argsort(entry_words, kind="stable")
        holders = np.repeat(np.arange(len(entries), dtype=np.int32), np.diff(word_ptr))[by_word]
        holder_ptr = np.concatenate(([0], np.cumsum(np.bincount(entry_words,
                                                                minlength=len(words)))))
        keys = [(_KIND_RANK[e.hit.kind], len(e.hit.label), e.hit.label, e.hit.iri)
                for e in entries]
        rank = np.empty(len(entries), dtype=np.int64)
        rank[sorted(range(len(entries)), key=keys.__getitem__)] = np.arange(len(entries))
        return cls(words, holder_ptr, holders, word_ptr, entry_words, primary_ptr, primary,
                   rank)

    def prefix(self, token: str) -> tuple[int, int]:
        """The range of words the token starts."""
        start = bisect_left(self.words, token)
        return start, bisect_left(self.words, token + "\uffff", start)

    def holding(self, token: str) -> int:
        """How many entries hold a word the token starts (an entry holding several counted
        once for each)."""
        start, end = self.prefix(token)
        return int(self.holder_ptr[end] - self.holder_ptr[start])

    def common_prefixes(self, more_than: int) -> list[str]:
        """Every prefix of a word that more than ``more_than`` entries hold words of: from
        the first letters down (a prefix is common only when its shorter prefix is)."""
        found, level = [], [""]
        while level:
            deeper = []
            for prefix in level:
                at, end = self.prefix(prefix) if prefix else (0, len(self.words))
                while at < end:
                    word = self.words[at]
                    if len(word) == len(prefix):
                        at += 1
                        continue
                    child = word[:len(prefix) + 1]
                    stop = bisect_left(self.words, child + "\uffff", at, end)
                    if self.holder_ptr[stop] - self.holder_ptr[at] > more_than:
                        deeper.append(child)
                    at = stop
            found += deeper
            level = deeper
        return found

    def word(self, token: str) -> int:
        """The word's id (-1 when no label holds it)."""
        at = bisect_left(self.words, token)
        return at if at < len(self.words) and self.words[at] == token else -1
