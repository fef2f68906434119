"""Which segments of a long text hold a needle, answered from an index of the text's trigrams
instead of a scan of the text.

The home search matches a typed string anywhere in a document's number, title or province
(substring semantics, not words). Scanning the whole listing's text for each new search cost
time in proportion to the corpus (and a Python step per match: 30 ms for a common string at
20,000 plans). The index here keeps every place of the text sorted by the three characters
starting there: the places where a needle starts are those of its rarest trigram that
trigrams covering the needle's other characters confirm (one ``searchsorted`` each, in numpy),
so a search costs the occurrences of that trigram, not the text. Exact: no hashing, every
character of the needle is checked.
"""

from __future__ import annotations

import numpy as np

_PAD = 0  # the character id after the text's end: a trigram there is one or two characters


class SegmentIndex:
    """The places of a text made of segments, by the trigram starting at each.

    A place is ``segment << shift | offset in the segment`` (the segment's separator at its
    end): the next character's place is the next integer, and a match's segment is its place
    shifted, with no search among the segments' starts. Characters are numbered densely (1..
    in code point order, 0 past a segment's end), so a trigram is one integer of three
    ``bits``-wide fields and the trigrams a one- or two-character needle starts are one range
    of them."""

    def __init__(self, segments: list[str], separator: str) -> None:
        count = len(segments)
        lengths = np.fromiter((len(s) + len(separator) for s in segments), np.int64, count)
        longest = int(lengths.max()) if count else 1
        self.shift = longest.bit_length()
        points = np.frombuffer("".join(s + separator for s in segments).encode("utf-32-le"),
                               dtype=np.uint32)
        self.chars = np.unique(points) if len(points) else np.zeros(0, np.uint32)
        self.bits = bits = int(len(self.chars) + 1).bit_length()
        ids = np.searchsorted(self.chars, points).astype(np.int64) + 1
        ids = np.concatenate((ids, np.full(2, _PAD, np.int64)))
        codes = (ids[:-2] << (2 * bits)) | (ids[1:-1] << bits) | ids[2:]
        firsts = np.cumsum(lengths) - lengths
        places = (np.repeat(np.arange(count, dtype=np.int64) << self.shift, lengths)
                  + np.arange(len(points), dtype=np.int64) - np.repeat(firsts, lengths))
        width = max(1, (count << self.shift).bit_length())
        kind = np.int32 if width < 32 else np.int64
        if 3 * bits + width <= 62:
            # one sort of code and place together: places come out ordered within a code
            keyed = np.sort((codes << width) | places)
            self.places, ordered = (keyed & ((1 << width) - 1)).astype(kind), keyed >> width
        else:  # thousands of distinct characters: a stable sort of the codes (slower)
            order = np.argsort(codes, kind="stable")
            self.places, ordered = places[order].astype(kind), codes[order]
        first = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) \
            if len(ordered) else np.zeros(0, np.int64)
        self.codes = ordered[first]
        self.bounds = np.append(first, len(ordered)).astype(np.int64)
        self.count = count

    def __len__(self) -> int:
        return self.count

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
        """The places of the trigram codes in ``[lo, hi)``."""
        first, last = np.searchsorted(self.codes, (lo, hi))
        return self.places[self.bounds[first]:self.bounds[last]]

    def places_of(self, needle: str) -> np.ndarray:
        """Every place the needle starts at (in no particular order for needles shorter than
        three characters)."""
        ids = self._ids(needle) if needle else None
        if ids is None:
            return np.zeros(0, np.int64)
        bits = self.bits
        if len(ids) < 3:
            lo = ids[0] << (2 * bits) | (ids[1] << bits if len(ids) == 2 else 0)
            return self._group(lo, lo + (1 << (bits if len(ids) == 2 else 2 * bits)))
        groups = {}
        for offset in range(len(ids) - 2):
            code = ids[offset] << (2 * bits) | ids[offset + 1] << bits | ids[offset + 2]
            group = self._group(code, code + 1)
            if not len(group):
                return np.zeros(0, np.int64)
            groups[offset] = group
        # the rarest trigram's places, confirmed by trigrams that cover the other characters
        anchor = min(groups, key=lambda offset: len(groups[offset]))
        covering = sorted({*range(0, len(ids) - 2, 3), len(ids) - 3} - {anchor},
                          key=lambda offset: len(groups[offset]))
        found = groups[anchor].astype(np.int64) - anchor
        for offset in covering:
            group, wanted = groups[offset], found + offset
            at = np.minimum(np.searchsorted(group, wanted), len(group) - 1)
            found = found[group[at] == wanted]
            if not len(found):
                break
        return found

    def segments_of(self, needle: str) -> np.ndarray:
        """The segments holding the needle (each once or more, in no particular order); every
        segment for the empty needle (as ``"" in text``)."""
        if not needle:
            return np.arange(self.count)
        return self.places_of(needle) >> self.shift
