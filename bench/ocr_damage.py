"""An OCR-damage model learnt from pairs of clean plans and their English-only OCR copies.

The damage an English-only tesseract does to a Vietnamese plan is learnt, not written by hand:
each clean text is aligned with its OCR copy (words first, in a diacritic-folded space; then
the characters of each aligned stretch) and the confusions are counted: what each character
became (``ố`` -> ``6``/``o``/``é``, ``ư`` -> ``u``/``ir``, ``đ`` -> ``d``, a space lost or
gained), which words were dropped or added, and which line breaks the typesetting kept. The
counts are the model (a small JSON file); ``damage`` draws from them with a seed, so a clean plan
of a genre no OCR copy shows gets the damage the real OCR does, reproducibly.

Layout is part of the damage: the OCR copies were typeset from Markdown with its markup removed
and read back page by page, so table pipes, bold and rules are gone, hard-wrapped lines run on
into paragraphs, and paragraphs wrap again at the page's width. Whether a line break survives is
learnt per context (how the line before ends, how the next begins, whether a blank line
separates them), and the width from the OCR lines.

``python bench/ocr_damage.py learn`` writes the model from every pair;
``python bench/ocr_damage.py rotate`` learns from some pairs and scores damaged copies of the
others against their real OCR copies; ``python bench/ocr_damage.py table`` scores the real plans
without an OCR copy, clean and damaged at several seeds (``--old-src`` puts another checkout's
code side by side).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_FILE = HERE / "ocr_damage.json"
SHARED = Path(os.environ.get("KGRAPH_SHARED", HERE.parent.parent / "shared"))
REAL = SHARED / "real"
OCR = REAL / "ocr"
SEED_CLEAN = SHARED / "seeds" / "004_d5d135182c80a159.txt"
SEED_OCR = SHARED / "fixtures" / "seed004_ocr-eng.txt"

# --- Markdown as the typesetter saw it ----------------------------------------------------------
_RULE = re.compile(r"^\s*[-=_*]{3,}\s*$")
_EMPHASIS = re.compile(r"\*+|__+|^#+\s*", re.M)


def strip_markup(text: str) -> str:
    """The text without its Markdown markup: emphasis and heading marks and rules gone, a table
    row's cells each on its own line, a lone pipe a paragraph break."""
    lines = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        if _RULE.match(line):
            lines.append("")
            continue
        line = _EMPHASIS.sub("", line)
        if "|" in line:
            cells = [c.strip() for c in line.split("|")]
            if not any(cells):
                lines.append("")
                continue
            if all(re.fullmatch(r":?-*:?", c) for c in cells):
                continue
            lines.extend(c for c in cells if c)
            continue
        lines.append(line.rstrip())
    return "\n".join(lines)


# --- contexts of a line break -------------------------------------------------------------------
_MARKER = re.compile(
    r"^\s*(?:[-+•*–]\s|[0-9]+(?:\.[0-9]+)*[.)]\s|[IVXLC]+[.)]\s|[a-zđ][.)]\s|"
    r"(?:Điều|ĐIỀU|Phần|PHẦN|Chương|CHƯƠNG|Mục|MỤC|Phụ lục|PHỤ LỤC)\s+[0-9IVXLC]+\b)"
)


def start_class(line: str) -> str:
    """How a line begins: a list or heading marker, a capital, or anything else."""
    stripped = line.lstrip()
    if _MARKER.match(stripped):
        return "marker"
    return "upper" if stripped[:1].isupper() else "other"


def end_class(line: str) -> str:
    """How a line ends: a full stop, colon or semicolon, or anything else."""
    return "stop" if line.rstrip()[-1:] in {".", ":", ";", "!", "?"} else "open"


def break_context(before: str, after: str, blank: bool) -> str:
    """Blank line or not | how the line before ends | how the next begins | the line before
    short (a heading, a header's line) or long (a paragraph's line wrapped by its writer)."""
    short = "short" if len(before.strip()) < 40 else "long"
    return f"{'blank' if blank else 'line'}|{end_class(before)}|{start_class(after)}|{short}"


# --- words in a folded space --------------------------------------------------------------------
def fold_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _unaccented(c: str) -> str:
    """The letter without its marks, case kept (Ặ -> A, đ -> d)."""
    decomposed = unicodedata.normalize("NFD", c.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)) or c


WORD_CLASSES = ("number", "word", "sign")


def word_class(word: str) -> str:
    """A word holding a digit (a number, a date, a document's code), a word, or signs only."""
    if any(c.isdigit() for c in word):
        return "number"
    return "word" if any(c.isalpha() for c in word) else "sign"


@dataclass
class Token:
    word: str
    line: int  # index of the line the word stands on


def tokens(text: str) -> list[Token]:
    return [Token(w, i) for i, line in enumerate(text.split("\n")) for w in line.split()]


def _char_pairs(a: str, b: str) -> Iterable[tuple[str, str]]:
    """(clean character, what it became) along one aligned stretch; a merged space is (" ", "")."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            yield from ((c, c) for c in a[i1:i2])
        elif op == "delete":
            yield from ((c, "") for c in a[i1:i2])
        elif op == "insert":
            yield ("", b[j1:j2])
        else:
            src, dst = a[i1:i2], b[j1:j2]
            if len(src) == len(dst):
                yield from zip(src, dst, strict=True)
            else:  # one clean character to several, or several to fewer: spread the output
                for k, c in enumerate(src):
                    lo = k * len(dst) // len(src)
                    hi = (k + 1) * len(dst) // len(src)
                    yield c, dst[lo:hi]


def char_context(c: str, word: str) -> str:
    """The key a character's confusions are counted under: inside a word holding a digit and
    something else (a date, a document's number, "28-CT/TW") the OCR reads it otherwise than
    alone or in a word ("5" alone in a table's cell comes back as "fs)", in "2509" as "5")."""
    if c != " " and len(word) > 1 and any(ch.isdigit() for ch in word):
        return f"#{c}"
    return c


def _with_contexts(text: str) -> Iterable[str]:
    """char_context of each character of text, in order (spaces between its words too)."""
    for i, word in enumerate(text.split(" ")):
        if i:
            yield " "
        yield from (char_context(c, word) for c in word)


@dataclass
class Counts:
    chars: defaultdict[str, Counter[str]]
    breaks: defaultdict[str, Counter[str]]
    words: Counter[str]
    widths: list[int]
    inserted: Counter[str]

    @classmethod
    def empty(cls) -> Counts:
        return cls(defaultdict(Counter), defaultdict(Counter), Counter(), [], Counter())


def count_pair(clean: str, ocr: str, counts: Counts) -> None:
    """Align one clean text with its OCR copy and add the confusions to counts."""
    clean = strip_markup(clean)
    ocr = unicodedata.normalize("NFC", ocr)
    clean_lines = clean.split("\n")
    a, b = tokens(clean), tokens(ocr)
    matcher = SequenceMatcher(
        None, [fold_word(t.word) for t in a], [fold_word(t.word) for t in b], autojunk=False
    )
    ocr_line_of: dict[int, int] = {}
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                ocr_line_of[i1 + k] = b[j1 + k].line
                word = a[i1 + k].word
                for (c, out), ctx in zip(_char_pairs(word, b[j1 + k].word),
                                         _with_contexts(word), strict=False):
                    if c:
                        counts.chars[ctx][out] += 1
            counts.words.update(f"kept {word_class(t.word)}" for t in a[i1:i2])
        elif op == "delete":
            counts.words.update(f"dropped {word_class(t.word)}" for t in a[i1:i2])
        elif op == "insert":
            counts.words["inserted"] += j2 - j1
            for t in b[j1:j2]:
                if len(t.word) <= 3:
                    counts.inserted[t.word] += 1
        else:  # a stretch of words read as another number of words: align its characters
            src = " ".join(t.word for t in a[i1:i2])
            dst = " ".join(t.word for t in b[j1:j2])
            if len(src) > 4 * len(dst) or len(dst) > 4 * len(src):
                counts.words.update(f"dropped {word_class(t.word)}" for t in a[i1:i2])
                counts.words["inserted"] += j2 - j1
                continue
            counts.words.update(f"kept {word_class(t.word)}" for t in a[i1:i2])
            contexts = _with_contexts(src)
            for c, out in _char_pairs(src, dst):
                if c:
                    counts.chars[next(contexts)][out] += 1
    # a space between two words of a line, both aligned: still a space on one OCR line?
    for k in range(len(a) - 1):
        aligned = k in ocr_line_of and k + 1 in ocr_line_of
        if aligned and a[k].line == a[k + 1].line and ocr_line_of[k] == ocr_line_of[k + 1]:
            counts.chars[" "][" "] += 1
    # line breaks: two words on consecutive clean lines, both aligned, still on two OCR lines?
    for k in range(len(a) - 1):
        if a[k].line == a[k + 1].line or k not in ocr_line_of or k + 1 not in ocr_line_of:
            continue
        between = clean_lines[a[k].line + 1 : a[k + 1].line]
        blank = any(not line.strip() for line in between)
        context = break_context(clean_lines[a[k].line], clean_lines[a[k + 1].line], blank)
        kept = ocr_line_of[k + 1] != ocr_line_of[k]
        counts.breaks[context]["kept" if kept else "joined"] += 1
    counts.widths.extend(len(line) for line in ocr.split("\n") if line.strip())


def learn(pairs: Sequence[tuple[Path, Path]]) -> dict:
    """The model learnt from (clean, OCR) pairs: counts, nothing hand-set but the cut-offs."""
    counts = Counts.empty()
    for clean, ocr in pairs:
        count_pair(clean.read_text(encoding="utf-8"), ocr.read_text(encoding="utf-8"), counts)
    widths = sorted(counts.widths)
    return {
        "about": "OCR damage learnt by bench/ocr_damage.py from " + ", ".join(
            c.name for c, _ in pairs
        ),
        "width": widths[int(0.9 * (len(widths) - 1))],
        "words": dict(counts.words),
        "inserted": dict(counts.inserted.most_common(40)),
        "breaks": {k: dict(v) for k, v in sorted(counts.breaks.items())},
        "chars": {
            c: dict(v.most_common(12))
            for c, v in sorted(counts.chars.items())
            if sum(v.values()) >= 3
        },
    }


# --- damage ---------------------------------------------------------------------------------------
class Damage:
    """Draws damage from a learnt model; one Damage per (model, seed) is reproducible."""

    def __init__(self, model: dict, seed: int) -> None:
        self.model = model
        self.rng = random.Random(seed)
        self._chars = {
            c: (list(v), list(v.values())) for c, v in model["chars"].items()
        }
        words = model["words"]
        total = sum(words.values()) or 1
        self.drop = {
            kind: words.get(f"dropped {kind}", 0)
            / ((words.get(f"dropped {kind}", 0) + words.get(f"kept {kind}", 0)) or 1)
            for kind in WORD_CLASSES
        }
        self.insert = words.get("inserted", 0) / total
        self.junk = (list(model["inserted"]), list(model["inserted"].values()))

    def _char(self, c: str, word: str = "") -> str:
        table = self._chars.get(char_context(c, word)) or self._chars.get(c)
        if table is None:  # a character no pair showed: as its unaccented letter fares
            base = _unaccented(c)
            table = self._chars.get(base) if base != c else None
            if table is None:
                return c
        outs, weights = table
        return self.rng.choices(outs, weights)[0]

    def _keep_break(self, before: str, after: str, blank: bool) -> bool:
        """A context seen rarely leans on the contexts that share all but its last part, and
        those on all of their kind (blank line or not)."""
        parts = break_context(before, after, blank).split("|")
        p = 0.5
        for depth in (1, len(parts) - 1, len(parts)):
            prefix = "|".join(parts[:depth])
            kept = joined = 0
            for name, seen in self.model["breaks"].items():
                if name == prefix or name.startswith(prefix + "|"):
                    kept += seen.get("kept", 0)
                    joined += seen.get("joined", 0)
            p = (kept + 2 * p) / (kept + joined + 2)
        return self.rng.random() < p

    def layout(self, text: str) -> list[str]:
        """The lines the page shows: breaks kept or joined as learnt, then wrapped."""
        lines = strip_markup(text).split("\n")
        paragraphs: list[str] = []
        blank, before = True, ""
        for line in lines:
            if not line.strip():
                blank = True
                continue
            if paragraphs and not self._keep_break(before, line, blank):
                paragraphs[-1] = f"{paragraphs[-1].rstrip()} {line.strip()}"
            else:
                paragraphs.append(line.strip())
            blank, before = False, line
        width = self.model["width"]
        out: list[str] = []
        for paragraph in paragraphs:
            current = ""
            for word in paragraph.split():
                if current and len(current) + 1 + len(word) > width:
                    out.append(current)
                    current = word
                else:
                    current = f"{current} {word}" if current else word
            out.append(current)
        return out

    def __call__(self, text: str) -> str:
        lines = []
        for line in self.layout(text):
            damaged = self._space().join(
                "".join(self._char(c, word) for c in word) for word in line.split(" ")
            )
            lines.append(self._drop_words(damaged))
        return "\n".join(lines) + "\n"

    def _space(self) -> str:
        return self._char(" ")

    def _drop_words(self, line: str) -> str:
        out = []
        for word in line.split(" "):
            if word and self.rng.random() < self.drop[word_class(word)]:
                continue
            out.append(word)
            if self.rng.random() < self.insert and self.junk[0]:
                out.append(self.rng.choices(*self.junk)[0])
        return " ".join(out)


def damage(text: str, model: dict, seed: int) -> str:
    """text as an English-only OCR would give it back, drawn from model with seed."""
    return Damage(model, seed)(text)


def load_model(path: Path = MODEL_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def all_pairs() -> list[tuple[Path, Path]]:
    pairs = [(REAL / p.name, p) for p in sorted(OCR.glob("*.txt"))]
    return [*pairs, (SEED_CLEAN, SEED_OCR)]


# --- scoring ------------------------------------------------------------------------------------
METRICS = ("metadata", "refs", "agencies", "agencies_and_request", "request", "kind", "items",
           "task_groups", "task_items", "reporting")
HEADS = ("meta", "refs R", "agency", "ag+req", "req", "kind", "items", "groups", "t.items",
         "report")


def gold_entries() -> dict[str, dict]:
    """Every real plan's and seed's gold entry by file name."""
    from kgraph.ingest.evaluation import load_gold

    out = {}
    for name in ("real.json", "real2.json", "seeds.json"):
        for entry in load_gold(SHARED / "gold" / name):
            out[entry["file"]] = entry
    return out


def score_text(entry: dict, text: str, folder: Path) -> dict[str, list[int]]:
    """[hits, total] per metric of the extractor on text (written to folder, read as a file)."""
    from kgraph.errors import KgraphError
    from kgraph.ingest.evaluation import Ratio, _failed, score_document
    from kgraph.ingest.extract import extract_file

    path = folder / entry["file"]
    path.write_text(text, encoding="utf-8")
    try:
        s = score_document(entry, extract_file(path))
    except KgraphError as exc:  # refused: all of its gold counts as misses, as in kgraph eval
        s = _failed(entry, str(exc))
        s.ref_tp = 0
    refs = Ratio(s.ref_tp, s.ref_gold)
    groups = Ratio(int(s.task_groups_exact), 1)
    ratios = (s.metadata, refs, s.agencies, s.agencies_and_request, s.request, s.kind, s.items,
              groups, s.task_items, s.reporting)
    return {m: [r.hits, r.total] for m, r in zip(METRICS, ratios, strict=True)}


def _add(into: dict[str, list[int]], more: dict[str, list[int]]) -> None:
    for m, (h, t) in more.items():
        into.setdefault(m, [0, 0])
        into[m][0] += h
        into[m][1] += t


def score_set(files: Sequence[str], model: dict, seeds: Sequence[int], folder: Path,
              ocr_dir: Path | None = None) -> dict[str, dict[str, dict[str, list[int]]]]:
    """Per file: scores of the clean text, the damaged copies (summed over seeds) and, when
    ocr_dir holds one, the real OCR copy."""
    gold = gold_entries()
    out: dict[str, dict[str, dict[str, list[int]]]] = {}
    for name in files:
        entry = gold[name]
        clean = (SEED_CLEAN if name == SEED_CLEAN.name else REAL / name).read_text(
            encoding="utf-8"
        )
        row = {"clean": score_text(entry, clean, folder), "damaged": {}}
        for seed in seeds:
            _add(row["damaged"], score_text(entry, damage(clean, model, seed), folder))
        real = ocr_dir / name if ocr_dir else None
        if real is not None and real.exists():
            row["ocr"] = score_text(entry, real.read_text(encoding="utf-8"), folder)
        out[name] = row
    return out


def word_accuracy(clean: str, ocr: str) -> tuple[float, float]:
    """Of the clean words (markup stripped), the share read back exactly and the share read
    back equal once diacritics are folded away: how hard a copy is hit, whatever reads it."""
    a, b = tokens(strip_markup(clean)), tokens(unicodedata.normalize("NFC", ocr))
    exact = SequenceMatcher(None, [t.word for t in a], [t.word for t in b], autojunk=False)
    folded = SequenceMatcher(
        None, [fold_word(t.word) for t in a], [fold_word(t.word) for t in b], autojunk=False
    )
    n = len(a) or 1
    return (sum(m.size for m in exact.get_matching_blocks()) / n,
            sum(m.size for m in folded.get_matching_blocks()) / n)


def _pct(hits_total: list[int]) -> str:
    hits, total = hits_total
    return f"{100 * hits / total:5.1f}" if total else "    -"


def format_scores(scores: dict, columns: Sequence[str], title: str) -> str:
    """One row per file and column set, metrics in percent; a TOTAL row per column set."""
    head = f"{'file':<34} {'text':<8}" + "".join(f"{h:>8}" for h in HEADS)
    rows = [title, head, "-" * len(head)]
    totals: dict[str, dict[str, list[int]]] = {c: {} for c in columns}
    for name, row in scores.items():
        for c in columns:
            if c not in row:
                continue
            _add(totals[c], row[c])
            rows.append(f"{name[:34]:<34} {c:<8}" + "".join(f"{_pct(row[c][m]):>8}"
                                                          for m in METRICS))
    rows.append("-" * len(head))
    for c in columns:
        if totals[c]:
            rows.append(f"{'TOTAL':<34} {c:<8}" + "".join(f"{_pct(totals[c][m]):>8}"
                                                          for m in METRICS))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    import subprocess
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("learn", help="learn the model from every pair and write it")
    rotate = sub.add_parser("rotate", help="learn from some pairs, check on the others")
    rotate.add_argument("--learn", nargs="+", required=True, help="real OCR pairs to learn from")
    rotate.add_argument("--seeds", type=int, default=5)
    table = sub.add_parser("table", help="clean vs damaged scores of plans")
    table.add_argument("files", nargs="+")
    table.add_argument("--seeds", type=int, default=3)
    table.add_argument("--old-src", type=Path, help="another checkout's src/ to score side by side")
    table.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    write = sub.add_parser("write", help="write damaged copies and their gold to a folder")
    write.add_argument("folder", type=Path)
    write.add_argument("files", nargs="+")
    write.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "write":  # for kgraph eval --gold FOLDER/gold.json --sources FOLDER
        args.folder.mkdir(parents=True, exist_ok=True)
        gold, model = gold_entries(), load_model()
        for name in args.files:
            clean = (SEED_CLEAN if name == SEED_CLEAN.name else REAL / name).read_text(
                encoding="utf-8"
            )
            (args.folder / name).write_text(damage(clean, model, args.seed), encoding="utf-8")
        documents = [gold[name] for name in args.files]
        (args.folder / "gold.json").write_text(
            json.dumps({"documents": documents}, ensure_ascii=False), encoding="utf-8"
        )
        return 0
    if args.command == "learn":
        model = learn(all_pairs())
        MODEL_FILE.write_text(
            json.dumps(model, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        print(f"wrote {MODEL_FILE} ({len(model['chars'])} characters)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        if args.command == "rotate":
            learnt = [(REAL / n, OCR / n) for n in args.learn] + [(SEED_CLEAN, SEED_OCR)]
            held = sorted(p.name for p in OCR.glob("*.txt") if p.name not in args.learn)
            model = learn(learnt)
            scores = score_set(held, model, range(args.seeds), Path(tmp), OCR)
            print(format_scores(scores, ("clean", "ocr", "damaged"),
                                f"learnt from {', '.join(args.learn)} + seed 004; "
                                f"damaged = {args.seeds} seeds summed"))
            print("\nwords read back (exact / diacritics folded):")
            for name in held:
                clean = (REAL / name).read_text(encoding="utf-8")
                real = word_accuracy(clean, (OCR / name).read_text(encoding="utf-8"))
                sims = [word_accuracy(clean, damage(clean, model, s)) for s in range(args.seeds)]
                sim = tuple(sum(x) / len(sims) for x in zip(*sims, strict=True))
                print(f"  {name[:34]:<34} real OCR {real[0]:.3f} / {real[1]:.3f}   "
                      f"simulated {sim[0]:.3f} / {sim[1]:.3f}")
            return 0
        scores = score_set(args.files, load_model(), range(args.seeds), Path(tmp))
        if args.json:
            print(json.dumps(scores))
            return 0
        if args.old_src:
            env = {**os.environ, "PYTHONPATH": str(args.old_src)}
            old = json.loads(subprocess.run(
                [sys.executable, __file__, "table", *args.files, "--seeds", str(args.seeds),
                 "--json"], env=env, check=True, capture_output=True, text=True).stdout)
            for name, row in scores.items():
                row["old-dmg"] = old[name]["damaged"]
                row["old-cln"] = old[name]["clean"]
            columns = ("old-cln", "clean", "old-dmg", "damaged")
        else:
            columns = ("clean", "damaged")
        print(format_scores(scores, columns, f"damaged = {args.seeds} seeds summed"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
