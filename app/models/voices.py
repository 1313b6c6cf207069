"""Schemas of the voice library endpoints (``/voices``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_MAIN_EXAMPLE = {
    "name": "main",
    "filename": "main.wav",
    "has_transcript": True,
    "transcript": "xin chào, đây là giọng đọc mẫu của hệ thống chuyển văn bản thành giọng nói tiếng việt.",
    "transcribed": False,
    "duration": 5.2,
    "sample_rate": 24000,
}


class VoiceItem(BaseModel):
    name: str
    filename: str
    has_transcript: bool
    transcript: str | None
    transcribed: bool = Field(False, description="the transcript was made by the transcriber (PhoWhisper)")
    duration: float | None = Field(description="seconds")
    sample_rate: int | None


class VoicesResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"voices": [_MAIN_EXAMPLE], "samples": ["main.wav"], "default": "main", "count": 1}]
        }
    )

    voices: list[VoiceItem]
    samples: list[str] = Field(description="file names, as the old API listed them")
    default: str
    count: int


class VoiceDetail(VoiceItem):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_MAIN_EXAMPLE,
                    "is_default": True,
                    "size_bytes": 249644,
                    "media_type": "audio/wav",
                    "audio_url": "/voices/main/audio",
                }
            ]
        }
    )

    is_default: bool
    size_bytes: int
    media_type: str
    audio_url: str


class VoiceDeleted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "my_voice", "deleted": True, "files": ["my_voice.wav", "my_voice.txt"]}]
        }
    )

    name: str
    deleted: bool
    files: list[str] = Field(description="files removed from VOICES_DIR")
