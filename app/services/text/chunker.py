"""Chunking long Vietnamese text for the model.

The model speaks a chunk at a time (reference + chunk must fit ~22 s), and the
Vietnamese model reads best in pieces of about a sentence of up to ~20 words.
What users of the model recommend, and what this does:

- split at sentence ends (``. ! ? ...``);
- merge a sentence under 4 words with a neighbour (and, more generally, pack
  consecutive sentences while a chunk stays near the 20-word target);
- break a sentence much longer than ~20 words at ``; :`` or commas, choosing
  the commas that give even pieces;
- respect the byte budget (UTF-8 bytes; the engine gives it:
  ``f5_tts.chunking.max_chunk_bytes``); only where no punctuation helps, break
  between words, preferably before a conjunction;
- never inside a word, and never inside a verbalized number: a run of number
  words (``một trăm hai mươi ba``) is only broken when it alone exceeds the
  budget, and then after a scale word (``triệu``, ``nghìn``) first.

All of this is one minimum-cost segmentation (dynamic programming) over the
candidate break points: each chunk costs 1 (a chunk re-runs the reference), a
chunk over the word target costs quadratically more, a chunk under the minimum
costs a lot, and each break costs by kind (sentence end 0, ``;``/``:`` 0.5,
comma 1, between words 30, inside a number 10^4 to 10^6), and a chunk that
runs past a sentence end only to stop mid-sentence costs 2. A chunk over the byte
budget is not allowed, except a single word longer than the budget.

The input is model text (normalized); the chunks, joined with single spaces,
give back that text with its whitespace collapsed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["NUMBER_WORDS", "ChunkPolicy", "chunk_text", "utf8_len"]

NUMBER_WORDS = frozenset(
    {
        *("không", "một", "mốt", "hai", "ba", "bốn", "tư", "năm", "lăm", "nhăm", "sáu", "bảy", "tám"),
        *("chín", "mười", "mươi", "trăm", "nghìn", "ngàn", "triệu", "tỷ", "tỉ", "linh", "lẻ", "phẩy"),
    }
)
_SCALE_WORDS = frozenset({"trăm", "nghìn", "ngàn", "triệu", "tỷ", "tỉ"})
_NUMBER_PREFIXES = {"phần": "trăm", "âm": None}  # "phần trăm" and "âm" (negative) join a number
_CONJUNCTIONS = frozenset(
    {
        *("và", "nhưng", "hoặc", "hay", "mà", "thì", "nên", "vì", "để", "khi"),
        *("nếu", "rằng", "song", "còn", "rồi", "cùng", "nhằm", "theo", "trong", "với"),
    }
)
_TRAILING_PUNCT = re.compile(r"[.!?;:,]+$")
_WORDLIKE = re.compile(r"[^\W_]")

# Break kinds and their costs.
_SENTENCE, _STRONG, _COMMA, _WORD, _BEFORE_CONJ, _NUMBER_SCALE, _NUMBER = range(7)


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


@dataclass(frozen=True)
class ChunkPolicy:
    target_words: int = 20
    min_words: int = 4
    # A piece between punctuation longer than this may also break between words.
    long_piece_words: int = 40
    chunk_cost: float = 1.0
    long_weight: float = 0.05
    short_weight: float = 10.0
    # A chunk that runs past a sentence end and stops mid-sentence ("... năm trước. theo báo cáo,").
    straddle_cost: float = 2.0
    break_costs: tuple[float, ...] = (0.0, 0.5, 1.0, 30.0, 20.0, 1e4, 1e6)

    def __post_init__(self) -> None:
        if self.target_words < 1 or self.min_words < 0 or self.long_piece_words < 1:
            raise ValueError("target_words, long_piece_words must be >= 1 and min_words >= 0")


DEFAULT_POLICY = ChunkPolicy()


def _core(token: str) -> str:
    return _TRAILING_PUNCT.sub("", token)


def _is_number(tokens: list[str], cores: list[str], i: int) -> bool:
    core = cores[i]
    if core in NUMBER_WORDS:
        return True
    if core in _NUMBER_PREFIXES and i + 1 < len(tokens) and core == tokens[i]:
        follow = _NUMBER_PREFIXES[core]
        nxt = cores[i + 1]
        return nxt == follow if follow else nxt in NUMBER_WORDS
    return False


def _break_kinds(tokens: list[str]) -> list[int]:
    """Kind of the break after each token (the last entry is unused)."""
    cores = [_core(t) for t in tokens]
    numbers = [_is_number(tokens, cores, i) for i in range(len(tokens))]
    kinds = []
    for i, token in enumerate(tokens):
        punct = token[len(cores[i]) :]
        if any(ch in ".!?" for ch in punct):
            kinds.append(_SENTENCE)
        elif any(ch in ";:" for ch in punct):
            kinds.append(_STRONG)
        elif "," in punct:
            kinds.append(_COMMA)
        elif i + 1 < len(tokens) and numbers[i] and numbers[i + 1]:
            kinds.append(_NUMBER_SCALE if cores[i] in _SCALE_WORDS else _NUMBER)
        elif i + 1 < len(tokens) and cores[i + 1] in _CONJUNCTIONS:
            kinds.append(_BEFORE_CONJ)
        else:
            kinds.append(_WORD)
    return kinds


def chunk_text(text: str, max_bytes: int, policy: ChunkPolicy = DEFAULT_POLICY) -> list[str]:
    """Split model text into chunks (see the module doc); ``[]`` for blank text."""
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
    tokens = text.split()
    if not tokens:
        return []
    kinds = _break_kinds(tokens)
    sizes = [utf8_len(t) for t in tokens]
    wordy = [1 if _WORDLIKE.search(t) else 0 for t in tokens]

    # Pieces between punctuation; a long one may break between its words too.
    cuts: list[int] = []  # token indices after which a break may happen
    start = 0
    for i in range(len(tokens)):
        end_of_piece = i == len(tokens) - 1 or kinds[i] in (_SENTENCE, _STRONG, _COMMA)
        if not end_of_piece:
            continue
        piece_bytes = sum(sizes[start : i + 1]) + (i - start)
        if piece_bytes > max_bytes or sum(wordy[start : i + 1]) > policy.long_piece_words:
            cuts.extend(range(start, i))
        if i < len(tokens) - 1:
            cuts.append(i)
        start = i + 1

    # Units between candidate breaks.
    bounds = [*cuts, len(tokens) - 1]
    unit_start = [0, *(c + 1 for c in cuts)]
    unit_bytes = [sum(sizes[a : b + 1]) + (b - a) for a, b in zip(unit_start, bounds)]
    unit_words = [sum(wordy[a : b + 1]) for a, b in zip(unit_start, bounds)]
    unit_break = [policy.break_costs[kinds[b]] for b in bounds]
    n = len(bounds)
    sentence_end = [kinds[b] == _SENTENCE or k == n - 1 for k, b in enumerate(bounds)]

    def cost(words: int) -> float:
        c = policy.chunk_cost
        if words > policy.target_words:
            c += policy.long_weight * (words - policy.target_words) ** 2
        elif words < policy.min_words:
            c += policy.short_weight * (policy.min_words - words)
        return c

    prune = 4 * policy.target_words + policy.long_piece_words  # far costlier than any split
    best = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for j in range(n):  # chunk ends with unit j
        size = -1
        words = 0
        tail = unit_break[j] if j < n - 1 else 0.0
        straddles = False
        for i in range(j, -1, -1):  # chunk starts with unit i
            size += unit_bytes[i] + 1
            words += unit_words[i]
            if i != j and (size > max_bytes or words > prune):
                break
            if i != j and sentence_end[i] and not sentence_end[j]:
                straddles = True
            total = best[i] + cost(words) + tail + (policy.straddle_cost if straddles else 0.0)
            if total < best[j + 1]:
                best[j + 1] = total
                back[j + 1] = i
    chunks = []
    j = n
    while j > 0:
        i = back[j]
        chunks.append(" ".join(tokens[unit_start[i] : bounds[j - 1] + 1]))
        j = i
    chunks.reverse()
    return chunks
