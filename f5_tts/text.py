"""Text to token ids exactly as the published models saw text in training.

Training text went through a segmentation step (jieba, then a rule that puts a space before every
multi-character pure-ASCII segment). It splits Vietnamese words around accented letters:
"trường" became "trườ ng". The model learned those ids, so inference must reproduce them.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import rjieba
import torch

from f5_tts.errors import InvalidTextError, VocabSizeError

# Upstream's pre-segmentation substitutions: ';' -> ',' and curly quotes -> straight ones.
_PRE_SEGMENT = str.maketrans({";": ",", "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
# A space is not inserted before an ASCII segment when the text so far ends in one of these.
_NO_SPACE_AFTER = " :'\""


class Vocab:
    """Token -> id map read from a vocab file: one token per line, line 0 a space."""

    def __init__(self, tokens: Sequence[str]):
        if not tokens:
            raise VocabSizeError("vocab is empty")
        self.tokens = list(tokens)
        self.index = {tok: i for i, tok in enumerate(self.tokens)}
        # The Vietnamese model was trained on lower-cased text; a vocab without capitals says so.
        self.case_sensitive = any(tok.isupper() for tok in self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Vocab:
        raw = Path(path).read_text(encoding="utf-8")
        # Only the line break is stripped: line 0 is a space and must stay one.
        tokens = raw.split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        tokens = [t[:-1] if t.endswith("\r") else t for t in tokens]
        return cls(tokens)

    def ids(self, pieces: Iterable[str]) -> list[int]:
        return [self.index.get(p, 0) for p in pieces]  # unknown -> 0, as in training

    def knows_any(self, text: str) -> bool:
        return any(ch in self.index and ch != " " for ch in text)


def segment(text: str) -> list[str]:
    """Reproduce the training-time segmentation: a list of single characters and inserted spaces."""
    out: list[str] = []
    for seg in rjieba.cut(text.translate(_PRE_SEGMENT)):
        if seg.isascii() and len(seg) > 1 and out and out[-1] not in _NO_SPACE_AFTER:
            out.append(" ")
        out.extend(seg)
    return out


def normalize_for_model(text: str, *, lowercase: bool) -> str:
    """NFC (the vocab holds precomposed letters), '_' -> space, whitespace collapsed, optional lower."""
    text = unicodedata.normalize("NFC", text).replace("_", " ")
    text = " ".join(text.split())
    return text.lower() if lowercase else text


def prepare_reference_text(text: str) -> str:
    """End the reference transcript the way training-era inference did before concatenating."""
    text = text.strip()
    if not text.endswith((".", "!", "?", "…", "。")):
        text += "."
    text += " "
    # Reference transcripts ending in a one-byte character got one more space.
    if len(text[-1].encode("utf-8")) == 1:
        text += " "
    return text


def tokenize(texts: Sequence[str], vocab: Vocab) -> torch.Tensor:
    """LongTensor [b, nt] of ids, padded with -1 (the model maps -1 to the filler token)."""
    rows = [vocab.ids(segment(unicodedata.normalize("NFC", t))) for t in texts]
    width = max((len(r) for r in rows), default=0)
    out = torch.full((len(rows), width), -1, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


def check_text(text: str, vocab: Vocab, what: str = "text") -> None:
    if not text or not text.strip():
        raise InvalidTextError(f"{what} is empty")
    if not vocab.knows_any(text):
        raise InvalidTextError(f"{what} has no character the model knows: {text[:40]!r}")
