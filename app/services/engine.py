"""The model engine as the service sees it: loading, state, device facts, and
the translation of engine errors into service errors.

This is the only module of ``app`` that imports ``f5_tts`` or ``torch``.
Everything here that computes (load, prepare, plan, synthesize, join) is
blocking and must run in an executor thread, never on the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import (
    InvalidReferenceAudioError,
    InvalidTextError,
    ServiceError,
    SynthesisFailedError,
)

logger = logging.getLogger("app.engine")

ProgressCallback = Callable[[int, int], None]
CancelledCallback = Callable[[], Sequence[int]]


class EngineState(str, Enum):
    loading = "loading"
    ready = "ready"
    failed = "failed"


LOAD_FAILURE_HELP = """\
The model could not be loaded: {error}

The service downloads the Vietnamese model from the Hugging Face hub on first
start (checkpoint {checkpoint}, vocab {vocab}, vocoder {vocoder}). If this
machine cannot reach the hub, provide the weights yourself:
  1. on a machine with access:  huggingface-cli download hynt/F5-TTS-Vietnamese-ViVoice
                                huggingface-cli download charactr/vocos-mel-24khz
     then copy the files (or the hub cache, ~/.cache/huggingface) here;
  2. point the service at them:  MODEL_CHECKPOINT=/path/model_last.pt
                                 MODEL_VOCAB=/path/config.json (or vocab.txt)
                                 MODEL_VOCODER=/path/to/vocos-folder
Or try the service without weights on the tiny random demo model:
  f5-tts-vi serve --demo      (or: make demo, or F5TTS_DEMO=1)"""


class EngineService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.state = EngineState.loading
        self.error: str | None = None
        self.load_seconds: float | None = None
        self._engine: Any = None

    # --- loading ---
    def load(self) -> None:
        """Build the engine (blocking; downloads weights when needed)."""
        started = time.perf_counter()
        try:
            import f5_tts

            s = self.settings
            if s.demo:
                # The demo model stays on the CPU (deterministic, no GPU needed) unless DEVICE says otherwise.
                self._engine = f5_tts.F5TTS.demo(seed=0, device=s.device or "cpu")
            else:
                self._engine = f5_tts.F5TTS(
                    ckpt=s.model_checkpoint,
                    vocab=s.model_vocab,
                    vocoder=s.model_vocoder,
                    arch=s.model_arch,
                    device=s.device,
                    dtype=s.dtype,
                )
        except Exception as exc:
            self.state = EngineState.failed
            self.error = self.load_failure_message(exc)
            raise
        self.load_seconds = time.perf_counter() - started
        logger.info(
            "engine.loaded",
            extra={
                "seconds": round(self.load_seconds, 2),
                "arch": self.arch_name,
                "device": self.device,
                "demo": self.settings.demo,
            },
        )

    def load_failure_message(self, exc: BaseException) -> str:
        s = self.settings
        if s.demo:
            return f"The demo model could not be built: {type(exc).__name__}: {exc}"
        return LOAD_FAILURE_HELP.format(
            error=f"{type(exc).__name__}: {exc}",
            checkpoint=s.model_checkpoint,
            vocab=s.model_vocab,
            vocoder=s.model_vocoder,
        )

    def mark_ready(self) -> None:
        self.state = EngineState.ready

    @property
    def ready(self) -> bool:
        return self.state is EngineState.ready

    @property
    def engine(self) -> Any:
        if self._engine is None:
            raise RuntimeError("the engine is not loaded")
        return self._engine

    # --- facts ---
    @property
    def sample_rate(self) -> int:
        return int(self.engine.sample_rate) if self._engine is not None else 24_000

    @property
    def device(self) -> str | None:
        return str(self._engine.device) if self._engine is not None else None

    @property
    def arch_name(self) -> str | None:
        return str(self._engine.arch_name) if self._engine is not None else None

    @property
    def dtype(self) -> str | None:
        return str(self._engine.dtype).removeprefix("torch.") if self._engine is not None else None

    def device_info(self) -> dict[str, Any]:
        """Device and GPU memory figures (cheap: no synchronisation with running kernels)."""
        info: dict[str, Any] = {"device": self.device, "dtype": self.dtype, "gpu": None}
        device = self.device
        if device is None or not device.startswith("cuda"):
            return info
        import torch

        index = torch.device(device).index or 0
        free, total = torch.cuda.mem_get_info(index)
        info["gpu"] = {
            "name": torch.cuda.get_device_name(index),
            "memory_total_mb": round(total / 2**20),
            "memory_free_mb": round(free / 2**20),
            "memory_allocated_mb": round(torch.cuda.memory_allocated(index) / 2**20),
            "memory_reserved_mb": round(torch.cuda.memory_reserved(index) / 2**20),
        }
        return info

    # --- work (blocking) ---
    def prepare_reference(self, audio_path: Path, ref_text: str) -> Any:
        try:
            return self.engine.prepare_reference(str(audio_path), ref_text)
        except Exception as exc:
            raise translate_engine_error(exc) from exc

    def plan(self, reference: Any, text: str, **options: Any) -> list[Any]:
        try:
            return list(self.engine.plan(reference, text, **options))
        except Exception as exc:
            raise translate_engine_error(exc) from exc

    def synthesize(
        self, chunks: Sequence[Any], progress: ProgressCallback | None, cancelled: CancelledCallback | None
    ) -> list[Any]:
        return list(self.engine.synthesize(list(chunks), progress=progress, cancelled=cancelled))

    def join(self, waves: Sequence[Any]) -> Any:
        return self.engine.join(list(waves))

    def release_memory(self) -> None:
        if self._engine is not None:
            self._engine.release_memory()


def translate_engine_error(exc: BaseException) -> ServiceError:
    """Engine exception -> the service error a client sees (4xx for bad input)."""
    if isinstance(exc, ServiceError):
        return exc
    from f5_tts import errors as engine_errors

    message = str(exc) or type(exc).__name__
    if isinstance(exc, engine_errors.InvalidTextError):
        return InvalidTextError(message)
    if isinstance(exc, engine_errors.InvalidReferenceAudioError):
        return InvalidReferenceAudioError(f"the voice's reference audio is unusable: {message}")
    return SynthesisFailedError(f"synthesis failed: {type(exc).__name__}: {message}")
