"""Errors of the text front-end and the transcriber: service errors like any other, so the
one ``ServiceError`` handler answers them with their status and code (see docs/text-frontend.md).
"""

from __future__ import annotations

from app.core.errors import ServiceError

__all__ = [
    "InvalidLexiconError",
    "LexiconFileError",
    "TextFrontendError",
    "VinormError",
    "VinormFailedError",
    "VinormNotInstalledError",
    "VinormTimeoutError",
]


class TextFrontendError(ServiceError):
    status_code = 500
    code = "text_frontend_error"


class InvalidLexiconError(TextFrontendError, ValueError):
    """A per-request lexicon entry is unusable: the caller's mistake."""

    status_code = 400
    code = "invalid_lexicon"


class LexiconFileError(TextFrontendError):
    """The lexicon file cannot be read or parsed (names the file and line)."""

    code = "lexicon_file_invalid"


class VinormError(TextFrontendError):
    """The Vinorm engine could not normalize the text."""

    status_code = 503
    code = "normalizer_failed"


class VinormNotInstalledError(VinormError):
    """The vinorm package, its engine binary or its data files are missing."""

    code = "normalizer_unavailable"


class VinormFailedError(VinormError):
    """The engine exited with an error or produced output we cannot align."""


class VinormTimeoutError(VinormError):
    """The engine ran past its time limit (it was killed)."""

    code = "normalizer_timeout"
