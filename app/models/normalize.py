"""Schemas of the text front-end: ``POST /normalize`` and the text block of ``/status``."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_EXTRA_LEXICON_ENTRIES = 100

ExtraLexicon = Annotated[
    dict[str, str],
    Field(
        max_length=MAX_EXTRA_LEXICON_ENTRIES,
        description="pronunciations for this request only, {term: reading} (reading in Vietnamese syllables); "
        "they override the lexicon file's entry for the same term; at most 100 entries",
        examples=[{"F5-TTS": "ép năm tê tê ét", "ViVoice": "vi voi"}],
    ),
]


class NormalizeRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "Ngày 2/9/2024, giá iPhone tăng 5%."},
                {
                    "text": "Hệ thống F5-TTS đọc 1.234 câu.",
                    "ref_name": "main",
                    "speed": 0.9,
                    "extra_lexicon": {"F5-TTS": "ép năm tê tê ét"},
                },
                {"text": "Giữ nguyên 2/9", "normalize": False},
            ]
        }
    )

    text: str = Field(min_length=1, description="text as a TTS request would send it (limit: MAX_TEXT_LENGTH)")
    ref_name: str | None = Field(None, max_length=200, description="voice whose reference sets the chunk budget")
    ref_text: str | None = Field(None, max_length=2000, description="transcript of the voice; default its .txt")
    speed: float | None = Field(None, ge=0.5, le=2.0, description="speaking rate (changes the chunk budget)")
    extra_lexicon: ExtraLexicon | None = None
    normalize: bool | None = Field(
        None, description="false: only NFC, whitespace and lower case; default TEXT_NORMALIZATION (true)"
    )


class NormalizedChunk(BaseModel):
    text: str = Field(description="exactly what the model reads for this chunk (after the reference transcript)")
    bytes: int = Field(description="UTF-8 bytes of the chunk")


class NormalizeResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "ngày hai tháng chín năm hai nghìn không trăm hai mươi tư, giá ai phôn tăng năm phần trăm.",
                    "chunks": [
                        {
                            "text": "ngày hai tháng chín năm hai nghìn không trăm hai mươi tư, giá ai phôn tăng "
                            "năm phần trăm.",
                            "bytes": 101,
                        }
                    ],
                    "max_bytes": 214,
                    "voice": "main",
                    "ref_text": "xin chào, đây là giọng đọc mẫu của hệ thống chuyển văn bản thành giọng nói "
                    "tiếng việt. ",
                    "normalized": True,
                    "normalizer": "vinorm",
                }
            ]
        }
    )

    text: str = Field(description="the whole text after the front-end (verbalized, lexicon, NFC, lower case)")
    chunks: list[NormalizedChunk] = Field(description="the pieces synthesized one by one, in order")
    max_bytes: int = Field(description="chunk budget in UTF-8 bytes, from the voice's reference and the speed")
    voice: str
    ref_text: str = Field(description="the voice's transcript exactly as the model reads it before each chunk")
    normalized: bool = Field(description="whether Vietnamese normalization ran (false: normalize=false)")
    normalizer: str = Field(description="vinorm, rules_only (Vinorm cannot run here) or unchecked")


class TextStatus(BaseModel):
    """The text front-end and transcription block of ``/status``."""

    normalization_default: bool = Field(description="TEXT_NORMALIZATION")
    normalizer: str = Field(description="vinorm, rules_only (Vinorm could not run at start-up) or unchecked")
    vinorm_active: bool | None = Field(description="null until the start-up check ran")
    vinorm_error: str | None = None
    lexicon_path: str
    auto_transcribe: bool
    transcriber_model: str
    transcriber_loaded: bool
