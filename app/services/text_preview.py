"""``POST /normalize``: the text exactly as the model will read it, chunk by chunk.

The same planner a job uses (voice, transcript, reference, front-end,
chunker, ``engine.plan``) with the request's options, so what it shows is what
a TTS request with these fields would synthesize. Runs in a worker thread
(Vinorm is a subprocess), not on the job preparation thread, so debugging
requests never delay jobs.
"""

from __future__ import annotations

import asyncio

from app.core.config import Settings
from app.core.errors import ServiceUnavailableError, TextTooLongError
from app.models.jobs import JobParams
from app.models.normalize import NormalizedChunk, NormalizeRequest, NormalizeResponse
from app.services.engine import EngineService
from app.services.planner import SynthesisPlanner
from app.services.text import utf8_len
from app.services.text_frontend import ServiceTextFrontend


class TextPreview:
    def __init__(
        self, settings: Settings, engine: EngineService, planner: SynthesisPlanner, frontend: ServiceTextFrontend
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.planner = planner
        self.frontend = frontend

    async def normalize(self, request: NormalizeRequest) -> NormalizeResponse:
        s = self.settings
        if len(request.text) > s.max_text_length:
            raise TextTooLongError(f"text has {len(request.text)} characters; the limit is {s.max_text_length}")
        if not self.engine.ready:
            # The chunk budget comes from the voice's prepared reference, which needs the model.
            raise ServiceUnavailableError(f"the model is {self.engine.state.value}; /normalize needs it to be ready")
        params = JobParams(
            text=request.text,
            voice=self.planner.voice_name(request.ref_name),
            ref_text=request.ref_text,
            speed=request.speed if request.speed is not None else s.default_speed,
            seed=0,
            nfe_step=s.default_nfe_step,
            cfg_strength=s.default_cfg_strength,
            normalize=request.normalize if request.normalize is not None else s.text_normalization,
            extra_lexicon=request.extra_lexicon,
        )
        planned = await asyncio.to_thread(self.planner.build, params)
        return NormalizeResponse(
            text=planned.text,
            chunks=[NormalizedChunk(text=chunk.text, bytes=utf8_len(chunk.text)) for chunk in planned.chunks],
            max_bytes=planned.max_bytes,
            voice=planned.voice,
            ref_text=planned.reference.text,
            normalized=params.normalize,
            normalizer=self.frontend.mode,
        )
