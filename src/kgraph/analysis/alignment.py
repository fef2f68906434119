"""Cross-plan alignment: which item of each plan restates which task of the directive.

Provinces restate a directive's tasks in their own "Nhiệm vụ và giải pháp" section, in their own
order and words, sometimes splitting or merging items; two of the seeds are OCR-damaged ("Tang
cudng" for "Tăng cường"). The alignment works on the text only, never on layout (numbering,
group structure), so it keeps working whatever the outline parser makes of a plan:

* every item is folded (:func:`kgraph.ingest.text.ocr_fold`: no diacritics, OCR look-alikes
  repaired) and vectorised as scikit-learn's ``TfidfVectorizer`` does over character n-grams
  (3-5 characters inside word boundaries; fitted by it on a full alignment, the fitted
  vocabulary and IDF kept as plain data, :class:`Terms`). Character n-grams survive a
  damaged letter ("cudng" still shares "ng", " cu" with "cuong"), where whole-word TF-IDF
  loses the word;
* plans are aligned one after another against the clusters built so far (a progressive
  alignment, as for multiple sequence alignment): the cosine between each item and each
  cluster's centroid, then the best one-to-one pairing (:func:`linear_sum_assignment`, SciPy's
  algorithm with its very tie-breaking);
  pairs below :data:`PAIR_THRESHOLD` are refused. An item left over that scores at least
  :data:`JOIN_THRESHOLD` against a cluster joins it (a plan that splits one task in two);
  otherwise it starts a cluster of its own;
* when an outline of the directive is known (the directive itself, or the national plan
  carrying it out, is a source in the store), its tasks are the clusters and nothing else may
  start one: the outline is not reconstructed;
* otherwise a cluster that at least two plans restate is a task of the *reconstructed* outline;
  an item restated by no other plan is the province's own addition (``unaligned``).

Each directive task's confidence is the mean, over its items, of the cosine between the item
and the centroid of the other plans' items in the cluster (leave-one-out).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # scikit-learn and SciPy take seconds to import: only a full alignment does
    from sklearn.feature_extraction.text import TfidfVectorizer

from kgraph.ingest.text import ocr_fold

PAIR_THRESHOLD = 0.35  # one-to-one pairing of an item with a cluster: below it, no pairing
JOIN_THRESHOLD = 0.35  # an item left over by the pairing joins its best cluster at or above it
MIN_SHARE = 0.1  # share of the plans a reconstructed task must be restated by
NGRAMS = (3, 5)
_MARKER = re.compile(r"^\s*(?:[-–+•*]|\d+[.)]|[a-zđ][.)])\s+")


@dataclass(frozen=True)
class PlanItem:
    """One task item of a plan, with what an auditor needs to find it in the source."""

    iri: str
    plan: str
    number: str  # the plan's number, e.g. "234/KH-UBND"
    province: str
    no: str
    text: str
    source_text: str = ""
    position: float = 0.0  # relative place in the plan's task section, 0..1

    def __post_init__(self) -> None:
        # One string for both when they are equal (nearly every item): a directive's kept
        # alignment state pickles each text once (32 -> 21 MB for 4,000 plans, a third less
        # to write and read back in every one-plan build of a national store).
        if self.source_text == self.text and self.source_text is not self.text:
            object.__setattr__(self, "source_text", self.text)


@dataclass
class DirectiveTask:
    """A task of the directive: from its own outline, or a cluster of restating plan items."""

    no: str
    label: str
    members: list[PlanItem] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)  # item IRI -> cosine (leave-one-out)
    confidence: float = 0.0
    reconstructed: bool = True
    outline_task: str | None = None  # IRI of the outline's own task, when not reconstructed

    @property
    def plans(self) -> set[str]:
        return {m.plan for m in self.members}

    def members_in(self, province: str) -> list[PlanItem]:
        return [m for m in self.members if m.province == province]


@dataclass
class Outline:
    """The aligned outline of one directive across the plans carrying it out."""

    directive: str
    tasks: list[DirectiveTask]
    unaligned: list[PlanItem]
    reconstructed: bool
    clusters: list[int] = field(default_factory=list)  # the cluster of each task, in order

    def pairs(self) -> set[frozenset[str]]:
        """Every pair of items of two different plans that restate the same directive task."""
        found: set[frozenset[str]] = set()
        for task in self.tasks:
            for i, a in enumerate(task.members):
                for b in task.members[i + 1:]:
                    if a.plan != b.plan:
                        found.add(frozenset((a.iri, b.iri)))
        return found


@lru_cache(maxsize=65536)
def folded(text: str) -> str:
    """The matching space: OCR-repaired, diacritic-free, lower case, spaces collapsed (cached:
    a corpus restates the same sentences many times)."""
    return " ".join(ocr_fold(text).split())


def vectorizer() -> TfidfVectorizer:
    return _repeating()(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True,
                        preprocessor=folded, lowercase=False)


REPEATS_HELD = 4096  # distinct texts whose n-grams one fit holds at most (50 KB each at worst)


@lru_cache(maxsize=1)
def _repeating() -> type[TfidfVectorizer]:
    """scikit-learn's ``TfidfVectorizer`` cutting each distinct text into n-grams once per fit:
    the plans of a directive restate the same sentences (at 2,000 synthetic plans, 5,500 items
    of 60 distinct texts), and the cutting was two thirds of a full alignment. The very same
    n-gram lists, so the very same matrix."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    class Repeating(TfidfVectorizer):  # type: ignore[misc]
        def build_analyzer(self) -> Callable[[str], list[str]]:
            analyze = super().build_analyzer()
            held: dict[str, list[str]] = {}

            def cut(text: str) -> list[str]:
                found = held.get(text)
                if found is None:
                    found = analyze(text)
                    if len(held) < REPEATS_HELD:
                        held[text] = found
                return found

            return cut

        def _count_vocab(self, raw_documents: Sequence[str], fixed_vocab: bool
                         ) -> tuple[dict[str, int], object]:
            """scikit-learn's counting when fitting, each distinct text counted once: its
            loop looks up every n-gram of every item (two thirds of a 4,000-plan directive's
            alignment) though a directive's plans restate the same sentences. The very same
            vocabulary (first-seen order) and the very same matrix."""
            if fixed_vocab:
                return super()._count_vocab(raw_documents, fixed_vocab)  # type: ignore[no-any-return]
            import scipy.sparse as sp
            from sklearn.utils._sparse import _align_api_if_sparse

            analyze = self.build_analyzer()
            vocabulary: dict[str, int] = {}
            counted: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            rows: list[tuple[np.ndarray, np.ndarray]] = []
            for doc in raw_documents:
                row = counted.get(doc)
                if row is None:
                    counter: dict[int, int] = {}
                    for feature in analyze(doc):
                        index = vocabulary.get(feature)
                        if index is None:
                            index = vocabulary[feature] = len(vocabulary)
                        counter[index] = counter.get(index, 0) + 1
                    row = counted[doc] = (
                        np.fromiter(counter.keys(), dtype=np.int64, count=len(counter)),
                        np.fromiter(counter.values(), dtype=np.intc, count=len(counter)))
                rows.append(row)
            if not vocabulary:
                raise ValueError("empty vocabulary; perhaps the documents only contain stop "
                                 "words")
            sizes = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=len(rows))
            stored = int(sizes.sum())
            indices_dtype = np.int64 if stored > np.iinfo(np.int32).max else np.int32
            j_indices = np.concatenate([r[0] for r in rows]).astype(indices_dtype)
            values = np.concatenate([r[1] for r in rows])
            indptr = np.zeros(len(rows) + 1, dtype=indices_dtype)
            np.cumsum(sizes, out=indptr[1:])
            matrix = sp.csr_array((values, j_indices, indptr),
                                  shape=(len(indptr) - 1, len(vocabulary)), dtype=self.dtype)
            matrix.sort_indices()
            return vocabulary, _align_api_if_sparse(matrix)

    return Repeating


_WHITE_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str) -> list[str]:
    """The n-grams :func:`vectorizer` counts in a text (scikit-learn's ``char_wb`` analyser
    after :func:`folded`): each word padded with a space, 3 to 5 characters, a word shorter
    than n counted once."""
    low, high = NGRAMS
    grams: list[str] = []
    add = grams.append
    for word in _WHITE_SPACES.sub(" ", folded(text)).split():
        word = f" {word} "
        size = len(word)
        for n in range(low, high + 1):
            offset = 0
            add(word[:n])
            while offset + n < size:
                offset += 1
                add(word[offset:offset + n])
            if offset == 0:
                break
    return grams


@dataclass
class Terms:
    """A fitted vectoriser as plain data: the n-gram vocabulary (term -> column) and each
    column's IDF. Unpickling scikit-learn's fitted ``TfidfVectorizer`` imports scikit-learn and
    SciPy (1.5-2 s of every fresh one-plan build); :meth:`rows` gives its very floats."""

    vocabulary: dict[str, int]
    idf: np.ndarray

    @classmethod
    def of(cls, model: TfidfVectorizer) -> Terms:
        return cls(dict(model.vocabulary_), np.asarray(model.idf_, dtype=np.float64))

    def rows(self, texts: Sequence[str]) -> np.ndarray:
        """The texts' rows, dense: ``normalize(model.transform(texts)).toarray()``, bit for
        bit. Same operations in the same order: counts in column order, numpy's ``log`` over
        all the counts at once, then ``1 + log tf`` times the IDF, and each row divided by its
        L2 norm (its squares added column after column) twice (the vectoriser's, then the
        alignment's own normalisation)."""
        vocabulary = self.vocabulary
        columns: list[int] = []
        counts: list[int] = []
        sizes: list[int] = []
        for text in texts:
            found: dict[int, int] = {}
            for gram in char_ngrams(text):
                column = vocabulary.get(gram)
                if column is not None:
                    found[column] = found.get(column, 0) + 1
            ordered = sorted(found)
            columns.extend(ordered)
            counts.extend(found[c] for c in ordered)
            sizes.append(len(ordered))
        index = np.asarray(columns, dtype=np.intp)
        data = np.asarray(counts, dtype=np.float64)
        np.log(data, out=data)
        data += 1.0
        data *= self.idf[index]
        values = data.tolist()
        start = 0
        for size in sizes:
            row = values[start:start + size]
            for _ in range(2):
                total = 0.0
                for value in row:
                    total += value * value
                if total != 0.0:
                    norm = math.sqrt(total)
                    row = [value / norm for value in row]
            values[start:start + size] = row
            start += size
        out = np.zeros((len(sizes), len(self.idf)))
        out[np.repeat(np.arange(len(sizes)), sizes), index] = values
        return out


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """scikit-learn's ``normalize`` of a dense matrix, bit for bit (a copy): each row divided by
    its L2 norm (``einsum``), a norm below ten machine epsilons taken as 1."""
    matrix = np.array(matrix, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    norms[norms < 10 * np.finfo(norms.dtype).eps] = 1.0
    matrix /= norms[:, None]
    return matrix


@lru_cache(maxsize=1)
def _solver() -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """SciPy's ``linear_sum_assignment`` (its compiled module ``scipy.optimize._lsap``) loaded
    from its file alone: importing ``scipy.optimize`` for it costs a fresh process 1.1 CPU-s, the
    module alone nothing. A plain Python port of its algorithm was tried and measured: it breaks
    ties between equal totals unlike SciPy 1.17 (on rounded costs), so SciPy's own code it is.
    Falls back to the plain import where the file is not found."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("scipy")  # finds the package without importing it
    if spec is not None and spec.origin is not None:
        for path in sorted((Path(spec.origin).parent / "optimize").glob("_lsap.*")):
            if path.suffix in (".so", ".pyd"):
                found = importlib.util.spec_from_file_location("scipy.optimize._lsap", path)
                if found is not None and found.loader is not None:
                    module = importlib.util.module_from_spec(found)
                    found.loader.exec_module(module)
                    solve = getattr(module, "linear_sum_assignment", None)
                    if solve is not None:
                        return solve  # type: ignore[no-any-return]
    from scipy.optimize import linear_sum_assignment as solve

    return solve  # type: ignore[no-any-return]


def linear_sum_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one-to-one pairing of least total cost (SciPy's answer, see :func:`_solver`)."""
    return _solver()(cost)  # type: ignore[no-any-return]


@lru_cache(maxsize=65536)
def _clean_share(text: str) -> float:
    """Share of letters carrying a Vietnamese diacritic: an OCR-damaged copy has few (cached:
    a reconstructed task's label is chosen among thousands of members restating a few texts,
    0.8 CPU-s a directive of 4,000 plans uncached)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    marked = sum(1 for c in letters if unicodedata.decomposition(c) or c in "đĐ")
    return marked / len(letters)


def _label(members: Sequence[PlanItem]) -> str:
    """The member text best fit to name the task: the cleanest copy (most diacritics), without
    the plan's own item marker ("a)", "2.", "-"), which means nothing in the directive."""
    best = max(members, key=lambda m: (_clean_share(m.text), -len(m.text)))
    return _MARKER.sub("", best.text, count=1)


def minimum_support(plans: int) -> int:
    """Plans that must restate a cluster for it to be a task of a reconstructed outline: two
    (one plan's own item is its province's addition), and at least :data:`MIN_SHARE` of the
    plans, so that two of four hundred plans sharing an addition do not make a directive task."""
    if plans <= 1:
        return 1
    return max(2, math.ceil(MIN_SHARE * plans))


@dataclass
class AlignmentState:
    """The progressive alignment as it stands: what aligning one more plan needs.

    Kept with a directive's stored coverage so that a re-build after one changed plan takes the
    plan's old items out of their clusters and places its new ones exactly as :func:`align`
    places every later plan (the vectoriser stays the one fitted on the full alignment: terms it
    never saw weigh nothing, as for any text :meth:`TfidfVectorizer.transform` meets). Placing
    a plan imports neither scikit-learn nor SciPy."""

    model: Terms
    clusters: list[list[PlanItem]]  # the outline's own task first in its cluster, when fixed
    sums: list[np.ndarray]  # sum of each cluster's normalised vectors
    fixed: bool
    outline: list[PlanItem]
    own: list[np.ndarray]  # the outline tasks' vectors (fixed outlines score against them)
    scores: dict[str, float] = field(default_factory=dict)  # item IRI -> leave-one-out cosine
    plans: dict[str, int] = field(default_factory=dict)  # plan -> its items (plans aligned)

    def vectors(self, items: Sequence[PlanItem]) -> np.ndarray:
        return self.model.rows([item.text for item in items])

    def place(self, plan: Sequence[PlanItem], matrix: np.ndarray, *,
              pair_threshold: float = PAIR_THRESHOLD, join_threshold: float = JOIN_THRESHOLD
              ) -> None:
        """One step of the progressive alignment: pair the plan's items with the clusters
        (one-to-one, best total cosine), join left-overs to their best cluster, or start new
        clusters (never when the outline is fixed)."""
        clusters, sums = self.clusters, self.sums
        if clusters:
            centroids = normalize_rows(np.vstack(sums))
            similarity = np.asarray(matrix @ centroids.T)
            rows, cols = linear_sum_assignment(-similarity)
        else:
            similarity = np.zeros((len(plan), 0))
            rows, cols = np.array([], dtype=int), np.array([], dtype=int)
        placed: dict[int, int] = {}
        for r, c in zip(rows, cols, strict=True):
            if similarity[r, c] >= pair_threshold:
                placed[r] = c
        for r, item in enumerate(plan):
            target = placed.get(r)
            if target is None and similarity.shape[1]:
                best = int(np.argmax(similarity[r]))
                if similarity[r, best] >= join_threshold:
                    target = best
            if target is None:
                if self.fixed:
                    continue
                clusters.append([item])
                sums.append(matrix[r].copy())
            else:
                clusters[target].append(item)
                sums[target] = sums[target] + matrix[r]
        if plan:
            self.plans[plan[0].plan] = len(plan)

    def remove(self, plan: str, old: Sequence[PlanItem]) -> None:
        """Take a plan's items out of their clusters (``old``: the items as they were placed,
        whose vectors the cluster sums hold)."""
        vectors = dict(zip((i.iri for i in old), self.vectors(old), strict=True)) if old else {}
        for index, cluster in enumerate(self.clusters):
            keep = []
            for member in cluster:
                if member.plan == plan and member.iri in vectors:
                    self.sums[index] = self.sums[index] - vectors[member.iri]
                    self.scores.pop(member.iri, None)
                else:
                    keep.append(member)
            cluster[:] = keep
        self.plans.pop(plan, None)

    def restating(self, index: int, cluster: Sequence[PlanItem]) -> int:
        """Plans with an item in cluster ``index`` (``cluster``, its items): a state holding
        only some provinces' items counts the others' plans too."""
        return len({m.plan for m in cluster})

    def score(self, items: Sequence[PlanItem], matrix: np.ndarray) -> None:
        """Leave-one-out cosines of newly placed items (the others keep theirs)."""
        row_of = {item.iri: row for item, row in zip(items, matrix, strict=True)}
        outline_iris = {task.iri for task in self.outline}
        for index, cluster in enumerate(self.clusters):
            for member in cluster:
                row = row_of.get(member.iri)
                if row is None or member.iri in outline_iris:
                    continue
                if self.fixed:
                    position = next(i for i, t in enumerate(self.outline)
                                    if t.iri == cluster[0].iri)
                    reference = self.own[position]
                else:
                    own = [row_of[m.iri] for m in cluster if m.plan == member.plan
                           and m.iri in row_of]
                    if self.restating(index, cluster) < 2:
                        self.scores[member.iri] = 0.0
                        continue
                    reference = self.sums[index] - np.sum(own, axis=0)
                norm = float(np.linalg.norm(reference)) or 1.0
                self.scores[member.iri] = round(float(row @ reference) / norm, 3)

    def result(self, directive: str, min_support: int | None = None) -> Outline:
        """The outline the clusters make (tasks numbered, additions apart)."""
        support = min_support if min_support is not None else minimum_support(len(self.plans))
        tasks: list[DirectiveTask] = []
        unaligned: list[PlanItem] = []
        outline_iris = {task.iri for task in self.outline}
        cluster_of: dict[int, int] = {}
        for number, cluster in enumerate(self.clusters):
            members = [m for m in cluster if m.iri not in outline_iris]
            own = next((m for m in cluster if m.iri in outline_iris), None)
            if own is None and len({m.plan for m in members}) < support:
                unaligned.extend(members)
                continue
            task = DirectiveTask("", own.text if own else _label(members), members,
                                 reconstructed=own is None,
                                 outline_task=own.iri if own else None)
            task.scores = {m.iri: self.scores.get(m.iri, 0.0) for m in members}
            task.confidence = (round(float(np.mean(list(task.scores.values()))), 3)
                               if task.scores else 0.0)
            cluster_of[id(task)] = number
            tasks.append(task)
        if not self.fixed:
            tasks.sort(key=lambda t: (float(np.mean([m.position for m in t.members])), t.label))
        for index, task in enumerate(tasks, start=1):
            task.no = str(index)
        return Outline(directive, tasks, unaligned, not self.fixed,
                       [cluster_of[id(task)] for task in tasks])


def align(directive: str, plans: Sequence[Sequence[PlanItem]],
          outline: Sequence[PlanItem] = (), *, min_support: int | None = None,
          pair_threshold: float = PAIR_THRESHOLD, join_threshold: float = JOIN_THRESHOLD
          ) -> Outline:
    """Align the items of ``plans`` (one list per plan) into the directive's tasks.

    With an ``outline`` (the directive's own leaf tasks), items only join its tasks. Without
    one, clusters restated by ``min_support`` plans (default: :func:`minimum_support`) are
    the reconstructed outline.
    """
    state = align_state(plans, outline, pair_threshold=pair_threshold,
                        join_threshold=join_threshold)
    if state is None:
        return Outline(directive, [], [], not outline)
    return state.result(directive, min_support)


def align_state(plans: Sequence[Sequence[PlanItem]], outline: Sequence[PlanItem] = (), *,
                pair_threshold: float = PAIR_THRESHOLD, join_threshold: float = JOIN_THRESHOLD,
                model: Terms | None = None) -> AlignmentState | None:
    """:func:`align` up to its clusters, kept to align changed plans later (None: no item).
    ``model``: a vectoriser already fitted (else fitted on every item)."""
    from scipy.sparse import csr_matrix
    from sklearn.preprocessing import normalize

    plans = [list(p) for p in plans if p]
    everything = [item for plan in plans for item in plan] + list(outline)
    if not everything:
        return None
    texts = [item.text for item in everything]
    if model is None:
        fitted = vectorizer()
        matrix_all = normalize(fitted.fit_transform(texts))
        model = Terms.of(fitted)
    else:
        matrix_all = csr_matrix(model.rows(texts))
    vectors = _Rows(matrix_all, {item.iri: index for index, item in enumerate(everything)})

    own = [vectors[task.iri].toarray()[0] for task in outline]
    state = AlignmentState(model, [[task] for task in outline], [v.copy() for v in own],
                           bool(outline), list(outline), own)
    # the longest plans first: they hold most tasks, so later plans find their clusters
    order = sorted(plans, key=lambda p: (-len(p), p[0].number))
    for plan in order:  # dense: the same products (and ties) as ever, one copy per plan
        matrix = vectors.block(plan)
        state.place(plan, matrix, pair_threshold=pair_threshold, join_threshold=join_threshold)
    for plan in plans:
        state.plans.setdefault(plan[0].plan, len(plan))
    outline_iris = {task.iri for task in outline}
    for cluster in state.clusters:
        members = [m for m in cluster if m.iri not in outline_iris]
        own_item = next((m for m in cluster if m.iri in outline_iris), None)
        task = DirectiveTask("", "", members)
        _score(task, vectors, own_item)
        state.scores.update(task.scores)
    return state


class _Rows:
    """Items' rows of the fitted matrix, by item IRI, cut out when asked: cutting 70,000 rows
    one by one up front cost a 4,000-plan directive more than its alignment. ``block``: the
    rows of several items at once, the same matrix ``vstack`` of their rows makes."""

    def __init__(self, matrix: object, index: dict[str, int]) -> None:
        self.matrix, self.index = matrix, index

    def __getitem__(self, iri: str) -> object:
        return self.matrix[self.index[iri]]  # type: ignore[index]

    def block(self, items: Sequence[PlanItem]) -> np.ndarray:
        """The items' rows, dense: ``toarray()`` of their rows stacked, made by numpy alone
        (scipy's row indexing cost more than the rows, once per plan). The same floats: each
        row's stored values (positive, one per column) put in a zeroed row."""
        matrix = self.matrix
        rows = np.fromiter((self.index[i.iri] for i in items), dtype=np.intp, count=len(items))
        indptr = matrix.indptr  # type: ignore[attr-defined]
        starts = indptr[rows].astype(np.intp)
        sizes = indptr[rows + 1].astype(np.intp) - starts
        positions = (np.repeat(starts - (np.cumsum(sizes) - sizes), sizes)
                     + np.arange(int(sizes.sum()), dtype=np.intp))
        out = np.zeros((len(rows), matrix.shape[1]))  # type: ignore[attr-defined]
        out[np.repeat(np.arange(len(rows)), sizes),
            matrix.indices[positions]] = matrix.data[positions]  # type: ignore[attr-defined]
        return out


SCORED_ROWS = 256  # rows made dense at once when scoring against a known outline


def _score(task: DirectiveTask, vectors: _Rows, own: PlanItem | None) -> None:
    """Leave-one-out cosine of each item against the other plans' items (or the outline).

    On sparse rows, in O(terms) per item: against the others' sum ``total - mine`` through
    ``row·total - row·mine`` and ``|total - mine|² = |total|² - 2 total·mine + |mine|²`` (the
    plain way, a dense sum per item, is quadratic in a task's items: 4,000 plans restate it)."""
    from scipy.sparse import vstack

    if own is not None:
        reference = vectors[own.iri].toarray()[0]  # type: ignore[attr-defined]
        norm = float(np.linalg.norm(reference)) or 1.0
        for start in range(0, len(task.members), SCORED_ROWS):
            chunk = task.members[start:start + SCORED_ROWS]
            dense = vectors.block(chunk)
            for member, row in zip(chunk, dense, strict=True):
                task.scores[member.iri] = round(float(row @ reference) / norm, 3)
    elif task.members:
        rows = {m.iri: vectors[m.iri] for m in task.members}
        plans: dict[str, list[PlanItem]] = {}
        for member in task.members:
            plans.setdefault(member.plan, []).append(member)
        total = np.asarray(vstack([rows[m.iri] for m in task.members]).sum(axis=0))[0]
        total_sq = float(total @ total)
        for members in plans.values():
            if len(plans) < 2:
                for member in members:
                    task.scores[member.iri] = 0.0
                continue
            mine = rows[members[0].iri]
            for member in members[1:]:
                mine = mine + rows[member.iri]  # type: ignore[operator]
            norm_sq = (total_sq - 2 * float(mine.dot(total)[0])  # type: ignore[attr-defined]
                       + float(mine.multiply(mine).sum()))  # type: ignore[attr-defined]
            norm = math.sqrt(max(norm_sq, 0.0)) or 1.0
            for member in members:
                row = rows[member.iri]
                value = (float(row.dot(total)[0])  # type: ignore[attr-defined]
                         - float(row.multiply(mine).sum()))  # type: ignore[attr-defined]
                task.scores[member.iri] = round(value / norm, 3)
    task.confidence = round(float(np.mean(list(task.scores.values()))), 3) if task.scores else 0.0


def score_pairs(predicted: set[frozenset[str]], gold: set[frozenset[str]]
                ) -> tuple[float, float]:
    """Precision and recall of predicted restatement pairs against a hand-made alignment."""
    hits = len(predicted & gold)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(gold) if gold else 0.0
    return precision, recall
