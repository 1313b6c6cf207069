"""The voice library as the API sees it: listing, details, uploads, deletion.

Everything that touches files, decodes audio or transcribes runs in worker
threads (transcription itself hops onto the GPU thread), never on the event
loop. See docs/voices.md.
"""

from __future__ import annotations

import asyncio
import unicodedata
from urllib.parse import quote

from app.core.config import Settings
from app.core.errors import InvalidRequestError, VoiceExistsError
from app.models.voices import VoiceDeleted, VoiceDetail, VoiceItem, VoicesResponse
from app.services.planner import SynthesisPlanner
from app.services.voice_audio import ClipLimits, check_clip
from app.services.voice_library import MAX_TRANSCRIPT_CHARS, Voice, VoiceInfo, VoiceLibrary, voice_exists_message
from app.services.voice_transcripts import VoiceTranscripts


def clip_limits(settings: Settings) -> ClipLimits:
    return ClipLimits(
        min_seconds=settings.voice_min_seconds,
        max_seconds=settings.voice_max_seconds,
        max_bytes=settings.voice_max_upload_bytes,
    )


def _item(info: VoiceInfo) -> VoiceItem:
    return VoiceItem(
        name=info.name,
        filename=info.filename,
        has_transcript=info.transcript is not None,
        transcript=info.transcript,
        transcribed=info.transcribed,
        duration=round(info.duration_seconds, 3) if info.duration_seconds is not None else None,
        sample_rate=info.sample_rate,
    )


class VoiceService:
    def __init__(
        self,
        settings: Settings,
        library: VoiceLibrary,
        planner: SynthesisPlanner,
        transcripts: VoiceTranscripts,
    ) -> None:
        self.settings = settings
        self.library = library
        self.planner = planner
        self.transcripts = transcripts
        self.limits = clip_limits(settings)

    def _detail(self, info: VoiceInfo) -> VoiceDetail:
        return VoiceDetail(
            **_item(info).model_dump(),
            is_default=info.name == self.library.canonical_name(None),
            size_bytes=info.size_bytes,
            media_type=info.media_type,
            audio_url=f"/voices/{quote(info.name)}/audio",
        )

    async def list(self) -> VoicesResponse:
        items = [_item(info) for info in await asyncio.to_thread(self.library.list)]
        return VoicesResponse(
            voices=items,
            samples=[item.filename for item in items],
            default=self.library.default_voice,
            count=len(items),
        )

    async def describe(self, name: str) -> VoiceDetail:
        def work() -> VoiceInfo:
            return self.library.info(self.library.get(name))

        return self._detail(await asyncio.to_thread(work))

    async def audio(self, name: str) -> Voice:
        return await asyncio.to_thread(self.library.get, name)

    async def create(self, name: str, data: bytes, transcript: str | None, *, overwrite: bool) -> VoiceDetail:
        """Check the clip; transcribe it when no transcript is given; store it as ``NAME.wav``.
        A voice is only created whole: nothing is written when a check or the transcription fails."""
        name = self.library.new_voice_name(name)
        if transcript is not None:
            transcript = " ".join(unicodedata.normalize("NFC", transcript).split())
            if not transcript:
                transcript = None
            elif len(transcript) > MAX_TRANSCRIPT_CHARS:
                raise InvalidRequestError(f"the transcript has {len(transcript)} characters; at most 2000")

        def work() -> VoiceInfo:
            if not overwrite and self.library.exists(name):  # before the costly checks; add() checks again
                raise VoiceExistsError(voice_exists_message(name))
            clip = check_clip(data, self.limits, what=f"the audio of voice {name!r}")
            text, transcribed = transcript, False
            if text is None:
                text, transcribed = self.transcripts.for_clip(name, clip.reference_wav), True
            voice = self.library.add(name, clip.to_wav_bytes(), text, transcribed=transcribed, overwrite=overwrite)
            self.planner.forget_voice(voice)
            return self.library.info(voice)

        return self._detail(await asyncio.to_thread(work))

    async def delete(self, name: str) -> VoiceDeleted:
        def work() -> VoiceDeleted:
            voice, removed = self.library.delete(name)
            self.planner.forget_voice(voice)
            return VoiceDeleted(name=voice.name, deleted=True, files=removed)

        return await asyncio.to_thread(work)
