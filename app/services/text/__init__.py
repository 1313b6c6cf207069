"""The Vietnamese text front-end: request text -> the text the model sees.

    frontend = TextFrontend(lexicon_path="app/data/lexicon.tsv")
    text = frontend.normalize("Ngày 2/9, giá iPhone tăng 5%.")
    # 'ngày hai tháng chín, giá ai phôn tăng năm phần trăm.'
    pieces = frontend.chunks(text, max_bytes)        # model-ready chunks
    prepared = frontend.prepare(raw_text, max_bytes)  # both at once

Blocking (runs the Vinorm engine in a subprocess): call it from an executor,
not the event loop. Thread-safe: one instance serves all requests.
See docs/text-frontend.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.services.text.chunker import ChunkPolicy, chunk_text, utf8_len
from app.services.text.errors import (
    InvalidLexiconError,
    LexiconFileError,
    TextFrontendError,
    VinormError,
    VinormFailedError,
    VinormNotInstalledError,
    VinormTimeoutError,
)
from app.services.text.lexicon import DEFAULT_LEXICON_PATH, Lexicon, LexiconFile
from app.services.text.normalizer import Normalizer, basic_normalize
from app.services.text.vinorm import VinormRunner

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "ChunkPolicy",
    "InvalidLexiconError",
    "Lexicon",
    "LexiconFile",
    "LexiconFileError",
    "PreparedText",
    "TextFrontend",
    "TextFrontendError",
    "VinormError",
    "VinormFailedError",
    "VinormNotInstalledError",
    "VinormRunner",
    "VinormTimeoutError",
    "utf8_len",
]


@dataclass(frozen=True)
class PreparedText:
    """The text exactly as the model will see it, whole and in chunks."""

    text: str
    chunks: list[str]


class TextFrontend:
    """Normalization (Vinorm + our rules + lexicon) and chunking, for the service.

    ``lexicon_path``: the user-editable lexicon TSV (default ``app/data/lexicon.tsv``),
    re-read when it changes. ``runner``: a ``VinormRunner`` to share or fake;
    otherwise one is made from ``vinorm_dir`` (default: the installed package)
    and ``vinorm_timeout``. Nothing runs until the first call; ``check()``
    runs the engine once (for start-up health).
    """

    def __init__(
        self,
        lexicon_path: str | os.PathLike[str] | None = None,
        *,
        runner: VinormRunner | None = None,
        vinorm_dir: str | os.PathLike[str] | None = None,
        vinorm_timeout: float = 30.0,
        cache_size: int = 8192,
        chunk_policy: ChunkPolicy | None = None,
    ) -> None:
        self.lexicon = LexiconFile(lexicon_path)
        self.runner = runner if runner is not None else VinormRunner(vinorm_dir, timeout=vinorm_timeout)
        self.normalizer = Normalizer(self.runner, cache_size=cache_size)
        self.chunk_policy = chunk_policy or ChunkPolicy()

    def normalize(
        self,
        text: str,
        *,
        extra_lexicon: Mapping[str, str] | None = None,
        skip_normalization: bool = False,
    ) -> str:
        """Model text: verbalized, lexicon applied, punctuation kept, lower case, NFC.

        ``extra_lexicon`` entries (``{"term": "reading"}``) override the file's.
        ``skip_normalization``: only NFC, collapsed whitespace and lower case.
        May return ``""`` (nothing speakable); the caller decides what that means.
        """
        return self.normalize_many([text], extra_lexicon=extra_lexicon, skip_normalization=skip_normalization)[0]

    def normalize_many(
        self,
        texts: Sequence[str],
        *,
        extra_lexicon: Mapping[str, str] | None = None,
        skip_normalization: bool = False,
    ) -> list[str]:
        """Like ``normalize`` for many texts, with a single Vinorm run."""
        if skip_normalization:
            return [basic_normalize(t) for t in texts]
        return self.normalizer.normalize_many(texts, self.lexicon.with_extra(extra_lexicon))

    def chunks(self, text: str, max_bytes: int) -> list[str]:
        """Split *model* text (the output of ``normalize``) into chunks of at most ``max_bytes``."""
        return chunk_text(text, max_bytes, self.chunk_policy)

    def prepare(
        self,
        text: str,
        max_bytes: int,
        *,
        extra_lexicon: Mapping[str, str] | None = None,
        skip_normalization: bool = False,
    ) -> PreparedText:
        normalized = self.normalize(text, extra_lexicon=extra_lexicon, skip_normalization=skip_normalization)
        return PreparedText(normalized, self.chunks(normalized, max_bytes))

    def check(self) -> None:
        """Run the engine once; raises a ``VinormError`` if it cannot run."""
        self.runner.normalize_many(["1"])
