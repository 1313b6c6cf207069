"""Exceptions raised by the ``f5_tts`` engine.

Everything derives from :class:`F5TTSError` so callers can catch the engine's
failures in one place. The input errors also derive from :class:`ValueError`
because they are caused by what the caller passed in, not by the engine.
Messages of the input errors are written for end users: they say what is wrong
and what the limit is.
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "F5TTSError",
    "InvalidReferenceAudioError",
    "InvalidTextError",
    "NotAudioError",
    "ReferenceSilentError",
    "ReferenceTooLongError",
    "ReferenceTooShortError",
    "VocabSizeError",
]


class F5TTSError(Exception):
    """Base class of every error the f5_tts engine raises on purpose."""


class CheckpointError(F5TTSError):
    """Raised at load time when a checkpoint is missing, unreadable or does not fit the architecture."""


class VocabSizeError(CheckpointError):
    """Raised at load time when the vocab file's size disagrees with the checkpoint's text embedding."""


class InvalidTextError(F5TTSError, ValueError):
    """Raised when a text is empty or holds no character the vocab knows."""


class InvalidReferenceAudioError(F5TTSError, ValueError):
    """Raised when a reference clip cannot be used to clone a voice."""


class NotAudioError(InvalidReferenceAudioError):
    """Raised when the reference cannot be decoded as audio or holds invalid samples."""


class ReferenceTooShortError(InvalidReferenceAudioError):
    """Raised when the reference holds too little sound once edge silence is trimmed."""


class ReferenceSilentError(InvalidReferenceAudioError):
    """Raised when the reference is silent or too quiet to hold a voice."""


class ReferenceTooLongError(InvalidReferenceAudioError):
    """Raised when the uploaded reference is longer than the engine accepts to process."""
