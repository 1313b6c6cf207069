"""From a job's parameters to the engine's chunk list: voice -> transcript ->
prepared reference (cached) -> text front-end -> ``engine.plan``.

Blocking (reads audio, computes a mel): called in the preparation executor.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import InvalidTextError
from app.models.jobs import JobParams
from app.services.engine import EngineService
from app.services.text_frontend import TextFrontend
from app.services.voice_library import ReferenceCache, VoiceLibrary


class SynthesisPlanner:
    def __init__(self, engine: EngineService, voices: VoiceLibrary, frontend: TextFrontend) -> None:
        self.engine = engine
        self.voices = voices
        self.frontend = frontend
        self.references = ReferenceCache(engine.prepare_reference)

    def reference_for(self, voice_name: str, ref_text: str | None) -> Any:
        voice = self.voices.get(voice_name)
        transcript = self.frontend.normalize(self.voices.transcript_for(voice, ref_text))
        return self.references.get(voice, transcript)

    def model_text(self, text: str) -> str:
        normalized = self.frontend.normalize(text)
        if not normalized:
            raise InvalidTextError("the text is empty after normalization")
        return normalized

    def plan(self, params: JobParams) -> list[Any]:
        reference = self.reference_for(params.voice, params.ref_text)
        chunks = self.engine.plan(
            reference,
            self.model_text(params.text),
            speed=params.speed,
            seed=params.seed,
            nfe_step=params.nfe_step,
            cfg_strength=params.cfg_strength,
        )
        if not chunks:
            raise InvalidTextError("the text has nothing to synthesize")
        return chunks
