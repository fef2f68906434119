"""Which segments of a long text hold a needle, answered from an index of the text's trigrams
instead of a scan of the text.

The home search matches a typed string anywhere in a document's number, title or province
(substring semantics, not words). Scanning the whole listing's text for each new search cost
time in proportion to the corpus (and a Python step per match: 30 ms for a common string at
20,000 plans). The index here keeps every position of the text sorted by the three characters
starting there: the positions where a needle starts are those of its rarest trigram that
every other trigram of the needle confirms (one ``searchsorted`` each, in numpy), so a search
costs the occurrences of that trigram, not the text. Exact: no hashing, every character of the
needle is checked.
"""

from __future__ import annotations

import numpy as np

_PAD = 0  # the character id after the text's end: a trigram there is one or two characters


class SegmentIndex:
    """The positions of a text made of segments, by the trigram starting at each.

    Characters are numbered densely (1.. in code point order, 0 past the end), so a trigram
    is one integer of three ``bits``-wide fields and the trigrams a one- or two-character
    needle starts are one range of them."""

    def __init__(self, segments: list[str], separator: str) -> None:
        text = separator.join(segments)
        lengths = np.fromiter((len(s) + len(separator) for s in segments), np.int64,
                              len(segments))
        self.starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if segments else \
            np.zeros(0, np.int64)
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        self.chars = np.unique(points) if len(points) else np.zeros(0, np.uint32)
        self.bits = int(len(self.chars) + 1).bit_length()
        ids = np.searchsorted(self.chars, points).astype(np.int64) + 1
        ids = np.concatenate((ids, np.full(2, _PAD, np.int64)))
        bits = self.bits
        codes = (ids[:-2] << (2 * bits)) | (ids[1:-1] << bits) | ids[2:]
        shift = max(1, len(points).bit_length())
        if 3 * bits + shift <= 62:
            # one sort of code and position together: positions come out ordered within a code
            keyed = np.sort((codes << shift) | np.arange(len(points), dtype=np.int64))
            self.positions = (keyed & ((1 << shift) - 1)).astype(np.int32)
            ordered = keyed >> shift
        else:  # thousands of distinct characters: a stable sort of the codes (slower)
            order = np.argsort(codes, kind="stable")
            self.positions, ordered = order.astype(np.int32), codes[order]
        first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) \
            if len(ordered) else np.zeros(0, np.int64)
        self.codes = ordered[first]
        self.bounds = np.append(first, len(ordered)).astype(np.int64)

    def __len__(self) -> int:
        return len(self.starts)

    def _ids(self, needle: str) -> list[int] | None:
        """The needle's character ids (None when a character is not in the text)."""
        points = np.frombuffer(needle.encode("utf-32-le"), dtype=np.uint32)
        if not len(self.chars):
            return None
        at = np.searchsorted(self.chars, points)
        if (at >= len(self.chars)).any() or (self.chars[np.minimum(at, len(self.chars) - 1)]
                                             != points).any():
            return None
        return [int(i) + 1 for i in at]

    def _group(self, lo: int, hi: int) -> np.ndarray:
        """The positions of the trigram codes in ``[lo, hi)``."""
        first, last = np.searchsorted(self.codes, (lo, hi))
        return self.positions[self.bounds[first]:self.bounds[last]]

    def starts_of(self, needle: str) -> np.ndarray:
        """Every position the needle starts at (in no particular order for needles shorter than
        three characters)."""
        if not needle:
            return np.zeros(0, np.int32)
        ids = self._ids(needle)
        if ids is None:
            return np.zeros(0, np.int32)
        bits = self.bits
        if len(ids) < 3:
            lo = ids[0] << (2 * bits) | (ids[1] << bits if len(ids) == 2 else 0)
            return self._group(lo, lo + (1 << (bits if len(ids) == 2 else 2 * bits)))
        groups = []
        for offset in range(len(ids) - 2):
            code = ids[offset] << (2 * bits) | ids[offset + 1] << bits | ids[offset + 2]
            group = self._group(code, code + 1)
            if not len(group):
                return np.zeros(0, np.int32)
            groups.append((len(group), offset, group))
        groups.sort(key=lambda g: g[0])  # the rarest trigram first, confirmed by the others
        _, anchor, group = groups[0]
        found = group.astype(np.int64) - anchor
        for _, offset, group in groups[1:]:
            wanted = found + offset
            at = np.minimum(np.searchsorted(group, wanted), len(group) - 1)
            found = found[group[at] == wanted]
            if not len(found):
                break
        return found

    def segments_of(self, needle: str) -> np.ndarray:
        """The segments holding the needle (each once or more, in no particular order); every
        segment for the empty needle (as ``"" in text``)."""
        if not needle:
            return np.arange(len(self.starts))
        return np.searchsorted(self.starts, self.starts_of(needle), side="right") - 1
