"""The voice library: list, details, listen, upload, delete (docs/voices.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile, status
from fastapi.responses import FileResponse

from app.models.errors import error_responses
from app.models.voices import VoiceDeleted, VoiceDetail, VoicesResponse
from app.services.voice_service import VoiceService

router = APIRouter(tags=["voices"])


def _service(request: Request) -> VoiceService:
    return request.app.state.voice_service


VoiceName = Annotated[
    str,
    Path(description='voice name: "main", "main.wav" and "sample/main.wav" are the same voice', examples=["main"]),
]


@router.get(
    "/voices",
    response_model=VoicesResponse,
    summary="The voice samples",
    responses=error_responses(401),
)
async def list_voices(request: Request) -> VoicesResponse:
    """Every voice of `VOICES_DIR` with its duration, sample rate and transcript; `transcribed` says
    whether the transcript was made by the transcriber (PhoWhisper) rather than written by a person."""
    return await _service(request).list()


@router.get(
    "/voices/{name}",
    response_model=VoiceDetail,
    summary="One voice",
    responses=error_responses(400, 401, 404),
)
async def get_voice(name: VoiceName, request: Request) -> VoiceDetail:
    return await _service(request).describe(name)


@router.get(
    "/voices/{name}/audio",
    summary="Listen to a voice sample",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/wav": {}, "audio/flac": {}, "audio/mpeg": {}, "audio/ogg": {}}},
        **error_responses(400, 401, 404),
    },
)
async def voice_audio(name: VoiceName, request: Request) -> FileResponse:
    voice = await _service(request).audio(name)
    return FileResponse(voice.audio_path, media_type=voice.media_type)


@router.post(
    "/voices",
    response_model=VoiceDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Add a voice (multipart upload)",
    responses=error_responses(400, 401, 409, 413, 422, 503),
)
async def create_voice(
    request: Request,
    name: Annotated[
        str,
        Form(
            description="the new voice's name: 1-64 ASCII letters, digits, `_ . -`, no extension",
            examples=["my_voice"],
        ),
    ],
    audio: Annotated[
        UploadFile, File(description="the clip: WAV, FLAC, MP3 or OGG, 1-30 s of clean speech, one speaker")
    ],
    transcript: Annotated[
        str | None,
        Form(
            description="exactly what the clip says; without it the clip is transcribed (AUTO_TRANSCRIBE)",
            examples=["hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé."],
        ),
    ] = None,
    overwrite: Annotated[bool, Form(description="replace a voice of the same name")] = False,
) -> VoiceDetail:
    """Checked before anything is written: decodable audio (422 `audio_unreadable`), 1-30 s
    (`audio_too_short`, `audio_too_long`), not silent (`audio_silent`), at most
    `VOICE_MAX_UPLOAD_BYTES` (413), a valid name (400 `invalid_name`); 409 `voice_exists` unless
    `overwrite=true`. Stored as `NAME.wav` (mono 16-bit PCM at the clip's own rate) and `NAME.txt`.

        curl -F name=my_voice -F audio=@clip.mp3 -F 'transcript=xin chào các bạn' localhost:8000/voices
    """
    data = await audio.read()
    return await _service(request).create(name, data, transcript, overwrite=overwrite)


@router.delete(
    "/voices/{name}",
    response_model=VoiceDeleted,
    summary="Delete a voice",
    responses=error_responses(400, 401, 403, 404, 503),
)
async def delete_voice(name: VoiceName, request: Request) -> VoiceDeleted:
    """Removes the clip and its transcript. The default voice answers 403 `voice_protected` unless
    `ALLOW_DELETE_DEFAULT_VOICE=true`. Jobs already planned with the voice still complete."""
    return await _service(request).delete(name)
