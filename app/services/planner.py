"""From a job's parameters to the engine's chunk list:

    voice (library or inline clip) -> transcript (ref_text, NAME.txt, or
    PhoWhisper on the GPU thread) -> prepared reference (cached per clip and
    transcript version) -> text front-end (Vinorm + rules + lexicon, unless the
    job says normalize=false) -> Vietnamese chunker at the reference's byte
    budget -> ``engine.plan`` per chunk (one ChunkJob each, seeds seed + i).

``build`` returns all of it (``POST /normalize`` shows it); ``plan`` only the
chunks. Blocking (Vinorm subprocess, audio, mel): called in an executor.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.errors import (
    AudioUnreadableError,
    InvalidRequestError,
    InvalidTextError,
    VoiceTranscriptMissingError,
)
from app.models.jobs import JobParams
from app.services.engine import EngineService
from app.services.text_frontend import TextFrontend
from app.services.voice_library import InlineReferences, ReferenceCache, Voice, VoiceLibrary
from app.services.voice_transcripts import VoiceTranscripts

INLINE_VOICE = "(inline)"  # JobParams.voice of a job with its own reference clip


_DATA_URL_PREFIX = re.compile(r"^data:[\w/+.-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)


def decode_base64_audio(encoded: str) -> bytes:
    """``ref_audio_base64`` -> bytes; a ``data:audio/wav;base64,`` prefix and line breaks are fine."""
    text = _DATA_URL_PREFIX.sub("", encoded.strip(), count=1)
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AudioUnreadableError(f"ref_audio_base64 is not valid base64: {exc}") from exc
    if not data:
        raise AudioUnreadableError("ref_audio_base64 is empty")
    return data


@dataclass(frozen=True, eq=False)
class PlannedText:
    voice: str
    reference: Any  # the engine's Reference (its .text: the transcript as the model reads it)
    text: str  # the whole text after the front-end
    max_bytes: int  # byte budget per chunk, from the reference
    chunks: list[Any]  # the engine's ChunkJobs; .text is exactly what the model reads


class SynthesisPlanner:
    def __init__(
        self,
        engine: EngineService,
        voices: VoiceLibrary,
        frontend: TextFrontend,
        transcripts: VoiceTranscripts | None = None,
        inline: InlineReferences | None = None,
    ) -> None:
        self.engine = engine
        self.voices = voices
        self.frontend = frontend
        self.transcripts = transcripts
        self.inline = inline
        self.references = ReferenceCache(engine.prepare_reference)

    # --- voices and transcripts ---
    def voice_name(self, ref_name: str | None, *, inline: bool = False) -> str:
        """The voice a request names (cheap: a name check and a stat), ``INLINE_VOICE`` for its own clip."""
        if inline:
            if ref_name is not None:
                raise InvalidRequestError("send either ref_name or ref_audio_base64, not both")
            if self.inline is None:
                raise InvalidRequestError("inline reference clips are not enabled on this server")
            return INLINE_VOICE
        return self.voices.get(ref_name).name

    def with_inline_reference(self, params: JobParams, encoded: str) -> JobParams:
        """Decode, check and keep the request's own clip; the job then refers to it by id."""
        if self.inline is None:
            raise InvalidRequestError("inline reference clips are not enabled on this server")
        data = decode_base64_audio(encoded)
        return params.model_copy(update={"ref_audio": self.inline.store(data)})

    def voice_for(self, params: JobParams) -> Voice:
        if params.ref_audio is not None:
            if self.inline is None:
                raise InvalidRequestError("inline reference clips are not enabled on this server")
            return self.inline.get(params.ref_audio)
        return self.voices.get(params.voice)

    def transcript(self, voice: Voice, ref_text: str | None) -> str:
        """``ref_text`` > ``NAME.txt`` > the clip transcribed (saved as ``NAME.txt``)."""
        if ref_text is not None and ref_text.strip():
            return ref_text.strip()
        if self.transcripts is None:
            return self.voices.transcript_for(voice, None)  # raises when missing
        return self.transcripts.for_voice(voice)

    def transcript_available(self, voice: Voice, ref_text: str | None) -> None:
        """Raises unless a transcript exists or will be made when planned (nothing is transcribed here)."""
        if ref_text is not None and ref_text.strip():
            return
        if self.transcripts is None:
            self.voices.transcript_for(voice, None)  # the clear 422 when NAME.txt is missing
        elif not self.transcripts.enabled:
            self.transcripts.for_voice(voice)  # NAME.txt, or the clear 422 (AUTO_TRANSCRIBE=false)

    def reference(self, voice: Voice, ref_text: str | None) -> Any:
        transcript = self.frontend.normalize(self.transcript(voice, ref_text))
        if not transcript:
            raise VoiceTranscriptMissingError(f"the transcript of voice {voice.name!r} is empty after normalization")
        return self.references.get(voice, transcript)

    def reference_for(self, voice_name: str, ref_text: str | None) -> Any:
        return self.reference(self.voices.get(voice_name), ref_text)

    def forget_voice(self, voice: Voice) -> None:
        self.references.invalidate(voice.audio_path)

    # --- text ---
    def model_text(self, text: str, *, extra_lexicon: Mapping[str, str] | None = None, normalize: bool = True) -> str:
        normalized = self.frontend.normalize(text, extra_lexicon=extra_lexicon, skip_normalization=not normalize)
        if not normalized:
            raise InvalidTextError("the text is empty after normalization")
        return normalized

    def _params_text(self, params: JobParams) -> str:
        return self.model_text(params.text, extra_lexicon=params.extra_lexicon, normalize=params.normalize)

    # --- planning ---
    def build(self, params: JobParams) -> PlannedText:
        from f5_tts.chunking import max_chunk_bytes

        voice = self.voice_for(params)
        reference = self.reference(voice, params.ref_text)
        text = self._params_text(params)
        budget = max_chunk_bytes(reference.text_bytes, reference.seconds, params.speed)
        pieces = self.frontend.chunks(text, budget)
        chunks: list[Any] = []
        for piece in pieces:
            # Each piece fits the budget, so the engine keeps it whole; should it
            # ever split one, the seeds still run seed, seed + 1, ... over all chunks.
            chunks += self.engine.plan(
                reference,
                piece,
                speed=params.speed,
                seed=params.seed + len(chunks),
                nfe_step=params.nfe_step,
                cfg_strength=params.cfg_strength,
            )
        if not chunks:
            raise InvalidTextError("the text has nothing to synthesize")
        return PlannedText(voice=voice.name, reference=reference, text=text, max_bytes=budget, chunks=chunks)

    def plan(self, params: JobParams) -> list[Any]:
        return self.build(params).chunks

    def check(self, params: JobParams) -> None:
        """What can be checked before the model is loaded: the voice, its transcript, the text."""
        self.transcript_available(self.voice_for(params), params.ref_text)
        self._params_text(params)
