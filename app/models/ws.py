"""Messages of the WebSocket endpoint ``/ws/tts`` (docs/streaming.md has the protocol)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.models.tts import MAX_SEED

REQUEST_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"


class WSSynthesize(BaseModel):
    """``{"text", "voice"?, "speed"?, "seed"?, "nfe_step"?, "sample_rate"?, "request_id"?}``:
    speak ``text``; the audio comes back as binary PCM16 LE frames between the
    ``started`` and ``done`` events of this request."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["synthesize"] = "synthesize"
    request_id: str | None = Field(None, pattern=REQUEST_ID_PATTERN, description="echoed in every event")
    text: str = Field(min_length=1)
    voice: str | None = Field(None, max_length=200, description="voice name (default DEFAULT_VOICE)")
    ref_name: str | None = Field(None, max_length=200, description="same as voice (the /tts name)")
    ref_text: str | None = Field(None, max_length=2000)
    speed: float | None = Field(None, ge=0.5, le=2.0)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    nfe_step: int | None = Field(None, ge=1, le=128)
    cfg_strength: float | None = Field(None, ge=0.0, le=10.0)
    sample_rate: Literal[16000, 22050, 24000, 44100, 48000] | None = None


class WSCancel(BaseModel):
    """``{"type": "cancel", "request_id"?}``: cancel that request (queued or running);
    without ``request_id``, the one running now."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["cancel"]
    request_id: str | None = Field(None, pattern=REQUEST_ID_PATTERN)
