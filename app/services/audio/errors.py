"""Errors for output options a caller chose badly.

They subclass ``ValueError`` (so plain Python callers can catch the usual
thing) and share ``AudioOptionError`` so the API maps the whole family to one
4xx response. Each carries the rejected value and the allowed values, so the
message the client sees says what to send instead.
"""

from __future__ import annotations

from collections.abc import Iterable


class AudioOptionError(ValueError):
    """An output option (format, sample rate) that this service does not offer."""

    def __init__(self, message: str, *, value: object, allowed: Iterable[object]) -> None:
        super().__init__(message)
        self.message = message
        self.value = value
        self.allowed = tuple(allowed)


class UnsupportedFormatError(AudioOptionError):
    """An unknown format name, or a format that cannot be streamed."""


class UnsupportedSampleRateError(AudioOptionError):
    """A sample rate outside ``SUPPORTED_SAMPLE_RATES``."""
