"""Schemas of the OpenAI-compatible endpoints (``/v1``): the speech request as the
official SDK sends it, plus this service's own options as extra fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models.tts import MAX_SEED

# The id this service lists, and OpenAI's speech model names accepted as aliases of it.
MODEL_ID = "f5-tts-vi"
MODEL_ALIASES: tuple[str, ...] = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
ACCEPTED_MODELS: tuple[str, ...] = (MODEL_ID, *MODEL_ALIASES)

# OpenAI's built-in voice names: they map to this server's default voice
# (unless a voice sample of that very name exists).
OPENAI_VOICES: tuple[str, ...] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)

# OpenAI's speed range; ours (0.5-2.0) is narrower: values are clamped into it.
OPENAI_MIN_SPEED = 0.25
OPENAI_MAX_SPEED = 4.0


class VoiceId(BaseModel):
    """OpenAI's custom-voice object: ``{"id": "<voice name>"}``."""

    id: str = Field(min_length=1, max_length=200)


class SpeechRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"model": "f5-tts-vi", "input": "Xin chào, đây là bản thử.", "voice": "main"},
                {
                    "model": "tts-1",
                    "input": "Xin chào thế giới.",
                    "voice": "alloy",
                    "response_format": "wav",
                    "speed": 1.0,
                    "seed": 42,
                    "nfe_step": 16,
                },
                {"model": "f5-tts-vi", "input": "Xin chào.", "voice": "main", "stream_format": "sse"},
            ]
        },
    )

    model: str = Field(description='"f5-tts-vi"; "tts-1", "tts-1-hd" and "gpt-4o-mini-tts" are aliases')
    input: str = Field(min_length=1, description="the text to speak (limit: MAX_TEXT_LENGTH characters)")
    voice: str | VoiceId = Field(
        description='a voice sample of this server (GET /v1/audio/voices) or {"id": name}; '
        "OpenAI's names (alloy, nova, ...) use the default voice"
    )
    instructions: str | None = Field(None, description="accepted for compatibility and ignored")
    response_format: str = Field("mp3", description="mp3 (default), opus, wav, flac, pcm; aac is not offered")
    speed: float | None = Field(
        None,
        ge=OPENAI_MIN_SPEED,
        le=OPENAI_MAX_SPEED,
        description="0.25-4.0 as OpenAI; clamped to this model's 0.5-2.0; default DEFAULT_SPEED (0.9)",
    )
    stream_format: Literal["audio", "sse"] = Field(
        "audio", description='"audio": the bytes; "sse": server-sent events with base64 audio deltas'
    )
    # --- this service's own options (send them with the SDK's extra_body) ---
    stream: bool | None = Field(
        None,
        description="stream the audio while it is synthesized (the default, as OpenAI does, except flac); "
        "false: one complete file with exact headers",
    )
    sample_rate: Literal[16000, 22050, 24000, 44100, 48000] | None = Field(
        None, description="output sample rate; default 24000"
    )
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    nfe_step: int | None = Field(None, ge=1, le=128)
    cfg_strength: float | None = Field(None, ge=0.0, le=10.0)
    ref_text: str | None = Field(None, max_length=2000, description="transcript of the voice sample")

    @property
    def voice_name(self) -> str:
        return self.voice.id if isinstance(self.voice, VoiceId) else self.voice


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class VoiceObject(BaseModel):
    id: str
    object: Literal["voice"] = "voice"
    name: str
    default: bool = False
    transcript: str | None = None
    duration: float | None = None


class VoiceList(BaseModel):
    object: Literal["list"] = "list"
    data: list[VoiceObject]
    voices: list[str] = Field(description="the names alone, for clients that expect a plain list")
    default: str
    openai_voices: list[str] = Field(description="OpenAI voice names accepted; they use the default voice")


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIError(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "message": "unsupported audio format 'aac'; use one of: mp3, opus, wav, flac, pcm",
                        "type": "invalid_request_error",
                        "param": "response_format",
                        "code": "unsupported_format",
                    }
                }
            ]
        }
    )

    error: OpenAIErrorDetail


def openai_error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": OpenAIError, "description": "OpenAI-shaped error"} for code in codes}
