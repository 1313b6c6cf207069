"""Text chunking and duration estimates, measured in UTF-8 bytes.

The reference pipeline measures text in UTF-8 bytes, not characters, both for
the chunk budget and for the duration estimate. For Vietnamese this matters:
accented letters take 2-3 bytes, so a byte is a rough proxy for "how much
sound" a letter carries, and the model's durations were tuned to it.
"""

from __future__ import annotations

import math
import re

__all__ = [
    "MIN_CHUNK_BYTES",
    "SHORT_TEXT_BYTES",
    "SHORT_TEXT_SPEED",
    "chunk_text",
    "estimate_duration_frames",
    "max_chunk_bytes",
    "split_sentences",
    "utf8_len",
]

# A reference close to (or beyond) the total budget would leave a zero or
# negative budget for generated text, and every word would become its own
# chunk; a few words per chunk keeps the prosody usable, and the model copes
# with a somewhat longer total than the budget assumes.
MIN_CHUNK_BYTES = 32

# Upstream stretches very short texts: a word or two at the reference's
# speaking rate comes out clipped and hurried.
SHORT_TEXT_BYTES = 10
SHORT_TEXT_SPEED = 0.3

# ASCII punctuation ends a piece only when whitespace follows, so "3,5" or
# "1.000" stay whole; up to two closing quotes or brackets stay with their sentence.
_CLOSERS = "\"'”’»)\\]}"
_SPLIT_RE = re.compile(
    r"(?<=[.!?;:,…])\s+"
    rf"|(?<=[.!?;:,…][{_CLOSERS}])\s+"
    rf"|(?<=[.!?;:,…][{_CLOSERS}][{_CLOSERS}])\s+"
    r"|(?<=[。！？；：，、])\s*"
)
_WS_RE = re.compile(r"\s+")


def utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (lone surrogates count as 3)."""
    return len(text.encode("utf-8", errors="surrogatepass"))


def max_chunk_bytes(
    ref_text_bytes: int,
    ref_seconds: float,
    speed: float = 1.0,
    *,
    max_total_seconds: float = 22.0,
) -> int:
    """Byte budget of one chunk so that reference + chunk fit ``max_total_seconds``.

    Assumes the generated speech has the reference's bytes-per-second rate;
    never below ``MIN_CHUNK_BYTES``.
    """
    if ref_text_bytes <= 0:
        raise ValueError(f"ref_text_bytes must be positive, got {ref_text_bytes!r}")
    if not (ref_seconds > 0 and math.isfinite(ref_seconds)):
        raise ValueError(f"ref_seconds must be positive, got {ref_seconds!r}")
    if not (speed > 0 and math.isfinite(speed)):
        raise ValueError(f"speed must be positive, got {speed!r}")
    budget = int(ref_text_bytes / ref_seconds * (max_total_seconds - ref_seconds) * speed)
    return max(budget, MIN_CHUNK_BYTES)


def split_sentences(text: str) -> list[str]:
    """Split after sentence punctuation followed by whitespace.

    Splits after ``. ! ? ; : ,`` and ``…`` (plus any closing quote or bracket)
    when whitespace follows, and after full-width CJK punctuation always.
    Punctuation stays with its sentence; whitespace inside a piece collapses
    to single spaces; empty pieces are dropped.
    """
    pieces = _SPLIT_RE.split(text)
    out = []
    for piece in pieces:
        cleaned = _WS_RE.sub(" ", piece).strip()
        if cleaned:
            out.append(cleaned)
    return out


def chunk_text(text: str, max_bytes: int) -> list[str]:
    """Pack consecutive sentences into chunks of at most ``max_bytes`` UTF-8 bytes.

    Sentences are joined with single spaces. A sentence longer than the budget
    starts a new chunk and is split at word boundaries into pieces of similar
    size; its last piece may take the sentences that follow. A single word
    longer than the budget is kept whole (and so exceeds it): cutting inside a
    word would make the model mispronounce both halves.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
    chunks: list[str] = []
    current = ""
    for sentence in split_sentences(text):
        size = utf8_len(sentence)
        if size > max_bytes:
            if current:
                chunks.append(current)
            *full, current = _split_words(sentence.split(" "), max_bytes)
            chunks.extend(full)
        elif not current:
            current = sentence
        elif utf8_len(current) + 1 + size <= max_bytes:
            current = f"{current} {sentence}"
        else:
            chunks.append(current)
            current = sentence
    if current:
        chunks.append(current)
    return chunks


def estimate_duration_frames(
    ref_frames: int,
    ref_text_bytes: int,
    gen_text_bytes: int,
    speed: float = 1.0,
) -> int:
    """Total mel frames (reference included) to generate ``gen_text_bytes`` of text.

    Speaks at the reference's frames-per-byte rate divided by ``speed``; texts
    under ``SHORT_TEXT_BYTES`` use ``SHORT_TEXT_SPEED`` instead of ``speed``.
    """
    if ref_frames < 0:
        raise ValueError(f"ref_frames must not be negative, got {ref_frames!r}")
    if ref_text_bytes <= 0:
        raise ValueError(f"ref_text_bytes must be positive, got {ref_text_bytes!r}")
    if gen_text_bytes < 0:
        raise ValueError(f"gen_text_bytes must not be negative, got {gen_text_bytes!r}")
    if not (speed > 0 and math.isfinite(speed)):
        raise ValueError(f"speed must be positive, got {speed!r}")
    if gen_text_bytes < SHORT_TEXT_BYTES:
        speed = SHORT_TEXT_SPEED
    # Same operation order as the reference pipeline, so int() truncates alike.
    return ref_frames + int(ref_frames / ref_text_bytes * gen_text_bytes / speed)


def _greedy(words: list[str], sizes: list[int], limit: int) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for word, size in zip(words, sizes, strict=True):
        if current and used + 1 + size > limit:
            pieces.append(" ".join(current))
            current, used = [], 0
        used = size if not current else used + 1 + size
        current.append(word)
    if current:
        pieces.append(" ".join(current))
    return pieces


def _split_words(words: list[str], max_bytes: int) -> list[str]:
    """Split a sentence into as few pieces as the budget allows, evened out.

    Plain greedy packing can leave a one-word tail, which the model speaks
    badly (and the short-text rule then slows down); with the piece count
    fixed, the smallest limit that still needs no more pieces is found by
    bisection, since greedy piece count only shrinks as the limit grows.
    """
    sizes = [utf8_len(w) for w in words]
    count = len(_greedy(words, sizes, max_bytes))
    # ``count`` pieces of at most L bytes hold at most count * L bytes of words
    # and joins, minus the joins that fall between pieces.
    total = sum(sizes) + len(sizes) - count
    hi = max_bytes
    lo = min(hi, max(math.ceil(total / count), min(max(sizes), max_bytes)))
    while lo < hi:
        mid = (lo + hi) // 2
        if len(_greedy(words, sizes, mid)) <= count:
            hi = mid
        else:
            lo = mid + 1
    return _greedy(words, sizes, lo)
