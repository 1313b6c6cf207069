"""The text front-end: the step that turns request text into model text.

Today it does Unicode NFC, lowercasing and whitespace clean-up; chunking is
the engine's own ``plan()``. Vietnamese normalization (Vinorm: numbers, dates,
abbreviations) and reference transcription plug in here later by providing
another ``TextFrontend`` to the job pipeline (``SynthesisPlanner``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Protocol

_WHITESPACE = re.compile(r"\s+")


class TextFrontend(Protocol):
    def normalize(self, text: str) -> str:
        """Model-ready text; may return an empty string (the caller rejects it)."""
        ...


class BasicTextFrontend:
    def normalize(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        # Control characters other than whitespace carry no speech and confuse the tokenizer.
        text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C")
        return _WHITESPACE.sub(" ", text).strip().lower()
