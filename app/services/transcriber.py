"""Reference transcription with PhoWhisper (Whisper fine-tuned for Vietnamese).

A voice without a transcript gets one from ``Transcriber.transcribe``; the
result is saved beside the clip as ``NAME.txt`` and reused (``transcript_for``).
The model loads lazily on first use (thread-safe), through transformers'
``WhisperForConditionalGeneration`` and ``WhisperProcessor``; a model id
(``vinai/PhoWhisper-small``) or a local folder both work. Blocking: run it on
the GPU executor.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from app.services.text.errors import TextFrontendError

__all__ = [
    "DEFAULT_MODEL_ID",
    "EmptyTranscriptError",
    "Transcriber",
    "TranscriberError",
    "transcript_for",
    "transcript_path",
]

logger = logging.getLogger("app.transcriber")

DEFAULT_MODEL_ID = "vinai/PhoWhisper-small"
WHISPER_SAMPLE_RATE = 16_000
WINDOW_SECONDS = 30  # Whisper's input window
_LANGUAGE_TOKEN = re.compile(r"<\|[a-z]{2,3}\|>")


class TranscriberError(TextFrontendError):
    """The transcription model could not be loaded or run."""

    status_code = 503
    code = "transcriber_unavailable"


class EmptyTranscriptError(TranscriberError):
    """The clip yielded no words (silence, noise, or not speech)."""

    status_code = 422
    code = "empty_transcript"


def _default_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    return "cpu"


def _to_mono_float(wav: np.ndarray) -> np.ndarray:
    data = np.asarray(wav)
    if data.ndim == 2:
        # (samples, channels) as soundfile gives it, or (channels, samples).
        data = data.mean(axis=1) if data.shape[0] >= data.shape[1] else data.mean(axis=0)
    elif data.ndim != 1:
        raise ValueError(f"audio must be 1-D or 2-D, got shape {data.shape}")
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max)
    return np.ascontiguousarray(data, dtype=np.float32)


def resample_to_16k(wav: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz (band-limited resampling)."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    mono = _to_mono_float(wav)
    if sample_rate == WHISPER_SAMPLE_RATE or mono.size == 0:
        return mono
    import torch
    import torchaudio.functional as F

    out = F.resample(torch.from_numpy(mono), int(sample_rate), WHISPER_SAMPLE_RATE)
    return out.numpy().astype(np.float32, copy=False)


def _clean_transcript(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).lower()


class Transcriber:
    """PhoWhisper speech-to-text, Vietnamese, ``transcribe`` task.

    ``model_id``: a hub id or a local folder holding the model and processor
    files. ``device``: ``cuda``/``cpu``/...; ``None`` picks CUDA when present.
    ``dtype``: fp16 on CUDA and fp32 elsewhere unless given.
    """

    def __init__(
        self,
        model_id: str = DEFAULT_MODEL_ID,
        device: str | None = None,
        *,
        dtype: Any = None,
        language: str = "vi",
        max_new_tokens: int = 128,
        num_beams: int = 1,
    ) -> None:
        self.model_id = str(model_id)
        self._device = device
        self._dtype = dtype
        self.language = language
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self.model: Any = None
        self.processor: Any = None

    @property
    def loaded(self) -> bool:
        return self.model is not None

    @property
    def device(self) -> str:
        return self._device or _default_device()

    def load(self) -> None:
        """Load the model and processor now (else on the first ``transcribe``)."""
        if self.model is not None:
            return
        with self._load_lock:
            if self.model is not None:
                return
            try:
                import torch
                from transformers import WhisperForConditionalGeneration, WhisperProcessor

                device = self.device
                dtype = self._dtype or (torch.float16 if str(device).startswith("cuda") else torch.float32)
                processor = WhisperProcessor.from_pretrained(self.model_id)
                model = WhisperForConditionalGeneration.from_pretrained(self.model_id)
                model.to(device=device, dtype=dtype).eval()
                self._complete_generation_config(model, processor)
            except Exception as exc:
                raise TranscriberError(f"cannot load transcription model {self.model_id!r}: {exc}") from exc
            logger.info("transcriber loaded: %s on %s", self.model_id, device)
            self.processor = processor
            self._device = str(device)
            self.model = model  # last: `loaded` is true only when all is ready

    @staticmethod
    def _complete_generation_config(model: Any, processor: Any) -> None:
        """Older fine-tunes ship a generation config without the language/task
        tables ``generate(language=, task=)`` needs: rebuild them from the tokenizer."""
        config = model.generation_config
        tokenizer = processor.tokenizer

        def token_id(token: str) -> int | None:
            tid = tokenizer.convert_tokens_to_ids(token)
            return None if tid is None or tid == tokenizer.unk_token_id else int(tid)

        if not getattr(config, "lang_to_id", None):
            config.lang_to_id = {
                token: int(tid) for token, tid in tokenizer.get_vocab().items() if _LANGUAGE_TOKEN.fullmatch(token)
            }
        if not getattr(config, "task_to_id", None):
            config.task_to_id = {
                task: tid for task in ("transcribe", "translate") if (tid := token_id(f"<|{task}|>")) is not None
            }
        if getattr(config, "no_timestamps_token_id", None) is None:
            tid = token_id("<|notimestamps|>")
            if tid is not None:
                config.no_timestamps_token_id = tid
        if getattr(config, "decoder_start_token_id", None) is None:
            config.decoder_start_token_id = model.config.decoder_start_token_id
        config.is_multilingual = True
        config.forced_decoder_ids = None

    def transcribe(self, wav: np.ndarray, sample_rate: int) -> str:
        """Lower-case NFC transcript of ``wav`` (any rate, mono or multi-channel)."""
        audio = resample_to_16k(wav, sample_rate)
        if audio.size == 0:
            return ""
        self.load()
        import torch

        step = WINDOW_SECONDS * WHISPER_SAMPLE_RATE
        windows = [audio[i : i + step] for i in range(0, audio.size, step)]
        with self._run_lock:
            features = self.processor(windows, sampling_rate=WHISPER_SAMPLE_RATE, return_tensors="pt")
            inputs = features.input_features.to(self.model.device, dtype=self.model.dtype)
            prompt = 4  # <|startoftranscript|> <|vi|> <|transcribe|> <|notimestamps|>
            limit = int(getattr(self.model.config, "max_target_positions", 448)) - prompt
            try:
                with torch.inference_mode():
                    ids = self.model.generate(
                        inputs,
                        language=self.language,
                        task="transcribe",
                        max_new_tokens=max(1, min(self.max_new_tokens, limit)),
                        num_beams=self.num_beams,
                        do_sample=False,
                    )
            except Exception as exc:
                raise TranscriberError(f"transcription failed: {exc}") from exc
            texts = self.processor.batch_decode(ids, skip_special_tokens=True)
        return _clean_transcript(" ".join(texts))

    def unload(self) -> None:
        """Drop the model (it loads again on the next use)."""
        with self._load_lock:
            self.model = None
            self.processor = None


# --- transcripts beside the clip -----------------------------------------------------

_path_locks: dict[str, threading.Lock] = {}
_path_locks_guard = threading.Lock()


def transcript_path(audio_path: str | os.PathLike[str]) -> Path:
    return Path(audio_path).with_suffix(".txt")


def _lock_for(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _path_locks_guard:
        return _path_locks.setdefault(key, threading.Lock())


def _read_audio(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=False)
    return data, int(rate)


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".txt.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def transcript_for(
    audio_path: str | os.PathLike[str],
    transcriber: Transcriber,
    *,
    audio: tuple[np.ndarray, int] | None = None,
) -> str:
    """The clip's transcript: ``NAME.txt`` beside it if present and not blank,
    else transcribed and saved there atomically (a read-only folder only logs).

    ``audio`` (samples, rate): transcribe this instead of reading the file, for
    instance the clipped reference the engine will really use. Concurrent calls
    for one clip transcribe it once. Raises ``EmptyTranscriptError`` when no
    words come out (nothing is saved then).
    """
    clip = Path(audio_path)
    txt = transcript_path(clip)
    with _lock_for(clip):
        try:
            existing = txt.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            existing = ""
        if existing:
            return existing
        wav, rate = audio if audio is not None else _read_audio(clip)
        text = transcriber.transcribe(wav, rate)
        if not text:
            raise EmptyTranscriptError(f"no speech recognised in {clip.name}")
        try:
            _write_atomically(txt, text)
        except OSError as exc:
            logger.warning("could not save the transcript %s: %s", txt, exc)
        return text
