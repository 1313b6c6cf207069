"""f5_tts: checkpoint-faithful, batched F5-TTS inference (model, vocoder, engine).

Pure PyTorch: no web, no jobs, no settings. See docs/engine-api.md.
"""

from f5_tts.engine import F5TTS, ChunkJob, Reference, SynthesisRequest, SynthesisResult
from f5_tts.errors import (
    CheckpointError,
    F5TTSError,
    InvalidReferenceAudioError,
    InvalidTextError,
    NotAudioError,
    ReferenceSilentError,
    ReferenceTooLongError,
    ReferenceTooShortError,
    VocabSizeError,
)
from f5_tts.loading import load_model
from f5_tts.vocoder import load_vocoder

__version__ = "0.1.0"

__all__ = [
    "F5TTS",
    "CheckpointError",
    "ChunkJob",
    "F5TTSError",
    "InvalidReferenceAudioError",
    "InvalidTextError",
    "NotAudioError",
    "Reference",
    "ReferenceSilentError",
    "ReferenceTooLongError",
    "ReferenceTooShortError",
    "SynthesisRequest",
    "SynthesisResult",
    "VocabSizeError",
    "load_model",
    "load_vocoder",
]
