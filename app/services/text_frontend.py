"""The text front-end as the service uses it: request text -> model text -> chunks.

``ServiceTextFrontend`` wraps the Vietnamese front-end (``app.services.text``:
Vinorm + our rules + the lexicon, then the Vietnamese chunker). At start-up
``check()`` runs the Vinorm engine once; if it cannot run here (binary or data
missing, wrong architecture, missing libraries), the service logs a warning and
goes on with **rules-only** normalization: every rule, the lexicon, NFC and
lower case still apply, but numbers, dates and abbreviations Vinorm would have
read aloud are left to our rules (digits left over are read one by one).
``/status`` says which mode is active (``text.vinorm``).

``BasicTextFrontend`` (NFC, lower case, whitespace; the same chunker) serves
unit tests and tools that need no Vinorm.

Everything here is blocking (Vinorm is a subprocess): call it from an
executor, never on the event loop.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from app.services.text import DEFAULT_LEXICON_PATH, VinormError
from app.services.text import TextFrontend as VietnameseTextFrontend
from app.services.text.chunker import chunk_text

logger = logging.getLogger("app.text_frontend")

_WHITESPACE = re.compile(r"\s+")


class TextFrontend(Protocol):
    def normalize(
        self, text: str, *, extra_lexicon: Mapping[str, str] | None = None, skip_normalization: bool = False
    ) -> str:
        """Model-ready text; may return an empty string (the caller rejects it)."""
        ...

    def chunks(self, text: str, max_bytes: int) -> list[str]:
        """Model text -> chunks of at most ``max_bytes`` UTF-8 bytes (a longer single word stands alone)."""
        ...


class BasicTextFrontend:
    """NFC, control characters removed, whitespace collapsed, lower case; no Vinorm, no lexicon."""

    def normalize(
        self, text: str, *, extra_lexicon: Mapping[str, str] | None = None, skip_normalization: bool = False
    ) -> str:
        text = unicodedata.normalize("NFC", text)
        # Control characters other than whitespace carry no speech and confuse the tokenizer.
        text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C")
        return _WHITESPACE.sub(" ", text).strip().lower()

    def chunks(self, text: str, max_bytes: int) -> list[str]:
        return chunk_text(text, max_bytes)


class RulesOnlyRunner:
    """Stands in for the Vinorm engine when it cannot run: passes segment bodies
    through, so only our rules, the lexicon and the clean-up apply."""

    calls = 0

    def normalize_many(self, texts: Sequence[str]) -> list[str]:
        return [" ".join(text.split()) for text in texts]


class ServiceTextFrontend:
    """The Vietnamese front-end with a checked Vinorm engine and a rules-only fallback.

    Thread-safe; one instance serves every request.
    """

    def __init__(
        self,
        lexicon_path: str | os.PathLike[str] | None = None,
        *,
        vinorm_dir: str | os.PathLike[str] | None = None,
        vinorm_timeout: float = 30.0,
    ) -> None:
        self.lexicon_path = Path(lexicon_path) if lexicon_path is not None else DEFAULT_LEXICON_PATH
        # Raises LexiconFileError at once when the lexicon file does not parse.
        self._full = VietnameseTextFrontend(self.lexicon_path, vinorm_dir=vinorm_dir, vinorm_timeout=vinorm_timeout)
        self._active: VietnameseTextFrontend = self._full
        self._lock = threading.Lock()
        self.vinorm_active: bool | None = None  # None until check() ran
        self.vinorm_error: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> ServiceTextFrontend:
        return cls(settings.lexicon_path, vinorm_dir=settings.vinorm_dir, vinorm_timeout=settings.vinorm_timeout)

    def check(self) -> bool:
        """Run the Vinorm engine once; on failure switch to rules-only normalization.

        Returns whether Vinorm is active. Blocking (~50 ms when it works).
        """
        try:
            self._full.check()
        except VinormError as exc:
            fallback = VietnameseTextFrontend(self.lexicon_path, runner=RulesOnlyRunner())  # type: ignore[arg-type]
            with self._lock:
                self._active = fallback
                self.vinorm_active = False
                self.vinorm_error = f"{exc.code}: {exc.message}"
            logger.warning(
                "normalizer.vinorm_unavailable",
                extra={
                    "error": self.vinorm_error,
                    "fallback": "rules-only normalization: numbers, dates and abbreviations are not verbalized "
                    "by Vinorm; fix the vinorm install (pip install vinorm) and restart",
                },
            )
            return False
        with self._lock:
            self._active = self._full
            self.vinorm_active = True
            self.vinorm_error = None
        logger.info("normalizer.vinorm_active")
        return True

    @property
    def mode(self) -> str:
        """``vinorm``, ``rules_only`` or ``unchecked``."""
        if self.vinorm_active is None:
            return "unchecked"
        return "vinorm" if self.vinorm_active else "rules_only"

    def normalize(
        self, text: str, *, extra_lexicon: Mapping[str, str] | None = None, skip_normalization: bool = False
    ) -> str:
        return self._active.normalize(text, extra_lexicon=extra_lexicon, skip_normalization=skip_normalization)

    def chunks(self, text: str, max_bytes: int) -> list[str]:
        return self._active.chunks(text, max_bytes)
