"""The pronunciation lexicon: English words, brand names and acronyms read the
way Vietnamese speakers say them (``AI -> ây ai``, ``iPhone -> ai phôn``).

The file is a user-editable TSV, one entry a line::

    # comment
    term<TAB>reading[<TAB>case]

``case`` is ``auto`` (the default), ``exact`` or ``ignore``. ``auto`` matches a
term that has a lower-case letter in any case (``iPhone`` also matches
``IPHONE`` and ``iphone``) and an all-capitals term exactly (``AI`` must not
eat the Vietnamese word ``ai``, "who"). Terms match as whole words: not
preceded or followed by a letter or digit. Where terms overlap, the longest
wins.

Replacement happens in one pass, so a reading is never matched again.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.services.text.errors import InvalidLexiconError, LexiconFileError

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "Lexicon",
    "LexiconEntry",
    "LexiconFile",
    "parse_lexicon",
]

logger = logging.getLogger("app.text.lexicon")

DEFAULT_LEXICON_PATH = Path(__file__).resolve().parents[2] / "data" / "lexicon.tsv"

_CASE_MODES = ("auto", "exact", "ignore")
MAX_TERM_CHARS = 100
MAX_READING_CHARS = 300


@dataclass(frozen=True)
class LexiconEntry:
    term: str
    reading: str
    ignore_case: bool


def _clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def make_entry(term: str, reading: str, case: str = "auto") -> LexiconEntry:
    """Validate one entry; raises ``InvalidLexiconError`` with a reason."""
    if not isinstance(term, str) or not isinstance(reading, str):
        raise InvalidLexiconError("lexicon terms and readings must be strings")
    term, reading = _clean(term), _clean(reading)
    if not term:
        raise InvalidLexiconError("a lexicon term is empty")
    if len(term) > MAX_TERM_CHARS or len(reading) > MAX_READING_CHARS:
        raise InvalidLexiconError(f"lexicon entry {term[:40]!r} is too long")
    if not any(ch.isalnum() for ch in term):
        raise InvalidLexiconError(f"lexicon term {term!r} has no letter or digit")
    if case not in _CASE_MODES:
        raise InvalidLexiconError(f"lexicon case for {term!r} must be one of {', '.join(_CASE_MODES)}")
    ignore = any(ch.islower() for ch in term) if case == "auto" else case == "ignore"
    return LexiconEntry(term, reading.lower(), ignore)


def parse_lexicon(text: str, source: str = "<lexicon>") -> list[LexiconEntry]:
    """Entries of a lexicon TSV; raises ``LexiconFileError`` naming the bad line."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) not in (2, 3):
            raise LexiconFileError(f"{source}:{number}: expected 'term<TAB>reading[<TAB>case]'")
        try:
            entries.append(make_entry(*fields))
        except InvalidLexiconError as exc:
            raise LexiconFileError(f"{source}:{number}: {exc.message}") from None
    return entries


def _boundary_pattern(entry: LexiconEntry) -> str:
    body = re.escape(entry.term).replace(r"\ ", r"\s+")
    if entry.ignore_case:
        body = f"(?i:{body})"
    # Whole words: no letter or digit glued on either side.
    return rf"(?<![^\W_]){body}(?![^\W_])"


class Lexicon:
    """An immutable set of entries compiled into one regular expression."""

    def __init__(self, entries: Iterable[LexiconEntry] = ()) -> None:
        # One entry per term regardless of case; a later entry overrides an earlier one.
        by_key: dict[str, LexiconEntry] = {}
        for entry in entries:
            by_key[" ".join(entry.term.split()).casefold()] = entry
        self._by_key = by_key
        ordered = sorted(by_key.values(), key=lambda e: (-len(e.term), e.term))
        self.entries: tuple[LexiconEntry, ...] = tuple(ordered)
        self._pattern = re.compile("|".join(_boundary_pattern(e) for e in ordered)) if ordered else None

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def merged(self, extra: Iterable[LexiconEntry]) -> Lexicon:
        """A lexicon with ``extra`` entries overriding these (same term in any case)."""
        return Lexicon([*self.entries, *extra])

    def _reading(self, matched: str) -> str:
        entry = self._by_key.get(" ".join(matched.split()).casefold())
        return entry.reading if entry is not None else matched

    def apply(self, text: str) -> str:
        """Replace every whole-word occurrence of a term by its reading (one pass)."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: self._reading(m.group(0)), text)


def entries_from_mapping(mapping: Mapping[str, str] | None) -> list[LexiconEntry]:
    """Per-request entries (``{"term": "reading"}``), case mode ``auto``."""
    if not mapping:
        return []
    if not isinstance(mapping, Mapping):
        raise InvalidLexiconError("extra_lexicon must be an object of term -> reading")
    return [make_entry(term, reading) for term, reading in mapping.items()]


class LexiconFile:
    """The lexicon file, re-read when it changes on disk (mtime/size checked per use).

    A missing file is an empty lexicon. A file that fails to parse raises on the
    first load; after that a bad edit is logged and the last good lexicon kept,
    so a typo cannot take the service down. ``with_extra`` caches the merged
    lexicons of recent per-request entries.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, cache_size: int = 64) -> None:
        self.path = Path(path) if path is not None else DEFAULT_LEXICON_PATH
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._lexicon = Lexicon()
        self._merged: OrderedDict[tuple[tuple[str, str], ...], Lexicon] = OrderedDict()
        self._cache_size = cache_size
        self._loaded = False
        self.current()  # fail fast on a broken file

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Lexicon:
        stamp = self._stat()
        if self._loaded and stamp == self._stamp:
            return self._lexicon
        with self._lock:
            stamp = self._stat()
            if self._loaded and stamp == self._stamp:
                return self._lexicon
            if stamp is None:
                if self._loaded and self._stamp is not None:
                    logger.warning("lexicon file %s disappeared; using an empty lexicon", self.path)
                lexicon = Lexicon()
            else:
                try:
                    lexicon = Lexicon(parse_lexicon(self.path.read_text(encoding="utf-8"), str(self.path)))
                except (LexiconFileError, OSError, UnicodeDecodeError) as exc:
                    if not self._loaded:
                        if isinstance(exc, LexiconFileError):
                            raise
                        raise LexiconFileError(f"cannot read lexicon {self.path}: {exc}") from exc
                    logger.error("lexicon file %s not reloaded, keeping the previous one: %s", self.path, exc)
                    self._stamp = stamp
                    return self._lexicon
            self._lexicon, self._stamp, self._loaded = lexicon, stamp, True
            self._merged.clear()
            return lexicon

    def with_extra(self, extra: Mapping[str, str] | None) -> Lexicon:
        base = self.current()
        if not extra:
            return base
        entries = entries_from_mapping(extra)
        key = tuple((e.term, e.reading) for e in entries)
        with self._lock:
            cached = self._merged.get(key)
            if cached is not None and base is self._lexicon:
                self._merged.move_to_end(key)
                return cached
        merged = base.merged(entries)
        with self._lock:
            if base is self._lexicon:
                self._merged[key] = merged
                while len(self._merged) > self._cache_size:
                    self._merged.popitem(last=False)
        return merged
