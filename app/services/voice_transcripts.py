"""Transcripts for voices that have none: PhoWhisper, run on the GPU thread.

A voice without ``NAME.txt`` (and a request without ``ref_text``) is
transcribed from the reference audio the engine will really use (the clip
trimmed and cut to ~12 s, 24 kHz), on the scheduler's single GPU executor so
the transcriber and the TTS model never run at once; the transcriber loads
there on first use. The result is saved as ``NAME.txt`` (and marked as the
transcriber's) and reused. ``AUTO_TRANSCRIBE=false`` turns this off: such a
voice then needs ``ref_text``.

The transcriber is any object with ``transcribe(wav, sample_rate) -> str``:
``app.services.transcriber.Transcriber`` by default, or what the factory named
by ``TRANSCRIBER_FACTORY`` (``module:attr``, called with the settings) returns
(tests inject a fake this way).

Blocking: call from a worker thread (or from the GPU thread itself).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, Protocol, TypeVar

import numpy as np

from app.core.errors import InvalidReferenceAudioError, ServiceError, VoiceTranscriptMissingError
from app.services.text.errors import TextFrontendError
from app.services.transcriber import EmptyTranscriptError, TranscriberError
from app.services.voice_audio import REFERENCE_SAMPLE_RATE, reference_audio
from app.services.voice_library import Voice

logger = logging.getLogger("app.transcription")

T = TypeVar("T")


class SpeechToText(Protocol):
    def transcribe(self, wav: np.ndarray, sample_rate: int) -> str: ...


class GpuThread:
    """Runs work on the scheduler's GPU executor and waits for it; work submitted
    from that very thread (the warm-up plans there) runs inline instead of
    deadlocking on itself."""

    def __init__(self) -> None:
        self._executor: Executor | None = None
        self._thread_id: int | None = None

    def attach(self, executor: Executor) -> None:
        """``executor`` must have exactly one worker thread (the scheduler's does)."""
        self._thread_id = executor.submit(threading.get_ident).result(timeout=30)
        self._executor = executor

    def run(self, fn: Callable[[], T]) -> T:
        executor = self._executor
        if executor is None or threading.get_ident() == self._thread_id:
            return fn()
        return executor.submit(fn).result()


def load_factory(spec: str) -> Callable[[Any], SpeechToText]:
    """``"package.module:attr"`` -> the callable it names (a bad spec fails at start-up)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"TRANSCRIBER_FACTORY must look like 'module:attr', got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"TRANSCRIBER_FACTORY {spec!r} cannot be loaded: {exc}") from exc
    if not callable(factory):
        raise ValueError(f"TRANSCRIBER_FACTORY {spec!r} is not callable")
    return factory


class VoiceTranscripts:
    def __init__(self, factory: Callable[[], SpeechToText], *, enabled: bool = True, model: str = "") -> None:
        self.enabled = enabled
        self.model = model
        self._factory = factory
        self._transcriber: SpeechToText | None = None
        self._create_lock = threading.Lock()
        self.gpu = GpuThread()
        # Transcripts that could not be saved (read-only folder), per clip version.
        self._unsaved: dict[tuple[str, int, int], str] = {}

    @classmethod
    def from_settings(cls, settings: Any, device: Callable[[], str | None] = lambda: None) -> VoiceTranscripts:
        """``device``: the model's device, asked when the transcriber is first made."""
        if settings.transcriber_factory:
            custom = load_factory(settings.transcriber_factory)
            return cls(lambda: custom(settings), enabled=settings.auto_transcribe, model=settings.transcriber_factory)

        def phowhisper() -> SpeechToText:
            from app.services.transcriber import Transcriber

            return Transcriber(settings.transcriber_model, settings.transcriber_device or device())

        return cls(phowhisper, enabled=settings.auto_transcribe, model=settings.transcriber_model)

    def attach_gpu_executor(self, executor: Executor) -> None:
        self.gpu.attach(executor)

    @property
    def loaded(self) -> bool:
        transcriber = self._transcriber
        return transcriber is not None and bool(getattr(transcriber, "loaded", True))

    def _get(self) -> SpeechToText:
        if self._transcriber is None:
            with self._create_lock:
                if self._transcriber is None:
                    self._transcriber = self._factory()
        return self._transcriber

    # --- library voices ---
    def for_voice(self, voice: Voice) -> str:
        """``NAME.txt`` when present, else the clip transcribed (on the GPU thread) and saved."""
        existing = voice.read_transcript()
        if existing is not None:
            return existing
        if not self.enabled:
            raise VoiceTranscriptMissingError(
                f"voice {voice.name!r} has no transcript: add {voice.transcript_path.name} beside the clip "
                "or send ref_text (automatic transcription is off: AUTO_TRANSCRIBE=false)"
            )
        stat = voice.audio_path.stat()
        key = (str(voice.audio_path), stat.st_mtime_ns, stat.st_size)
        if key in self._unsaved:
            return self._unsaved[key]
        wav = self._reference_audio(voice)

        def work() -> str:
            from app.services.transcriber import transcript_for

            return transcript_for(voice.audio_path, self._get(), audio=(wav, REFERENCE_SAMPLE_RATE))  # type: ignore[arg-type]

        text = self._transcribe(voice.name, work)
        if voice.read_transcript() == text:
            voice.mark_transcribed(text)
        else:
            self._unsaved[key] = text
        logger.info("voice.transcribed", extra={"voice": voice.name, "chars": len(text)})
        return text

    # --- uploads ---
    def for_clip(self, name: str, reference_wav: np.ndarray) -> str:
        """Transcript of a clip not stored yet (24 kHz reference audio); nothing is saved."""
        if not self.enabled:
            raise VoiceTranscriptMissingError(
                f"voice {name!r}: send a transcript (automatic transcription is off: AUTO_TRANSCRIBE=false)"
            )

        def work() -> str:
            return self._get().transcribe(reference_wav, REFERENCE_SAMPLE_RATE)

        text = " ".join(self._transcribe(name, work).split())
        if not text:
            raise EmptyTranscriptError(f"voice {name!r}: no speech recognised in the clip; send its transcript")
        return text

    # --- helpers ---
    @staticmethod
    def _reference_audio(voice: Voice) -> np.ndarray:
        from f5_tts.errors import InvalidReferenceAudioError as EngineAudioError

        try:
            return reference_audio(voice.audio_path)
        except EngineAudioError as exc:
            raise InvalidReferenceAudioError(f"voice {voice.name!r}: the clip is unusable: {exc}") from exc

    def _transcribe(self, name: str, work: Callable[[], str]) -> str:
        try:
            text = self.gpu.run(work)
        except TextFrontendError as exc:  # the transcriber's own errors: say which voice
            raise type(exc)(f"voice {name!r}: {exc.message}") from exc
        except ServiceError:
            raise
        except Exception as exc:
            logger.exception("voice.transcription_failed", extra={"voice": name})
            raise TranscriberError(f"voice {name!r}: transcription failed: {type(exc).__name__}: {exc}") from exc
        return text
