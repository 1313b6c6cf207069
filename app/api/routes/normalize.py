"""``POST /normalize``: the text exactly as the model will read it (debugging)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.models.errors import error_responses
from app.models.normalize import NormalizeRequest, NormalizeResponse

router = APIRouter(tags=["text"])


@router.post(
    "/normalize",
    response_model=NormalizeResponse,
    summary="Show the text as the model will read it, chunk by chunk",
    responses=error_responses(400, 401, 404, 413, 422, 503),
)
async def normalize(body: NormalizeRequest, request: Request) -> NormalizeResponse:
    """Runs the same steps as a TTS request with these fields: Vietnamese normalization (Vinorm,
    our rules, the lexicon and `extra_lexicon`; only NFC, whitespace and lower case with
    `"normalize": false`), then chunking at the budget the voice's reference leaves
    (`max_bytes`, which depends on `speed`). `chunks[].text` is exactly what each model call
    reads after the reference transcript `ref_text`. Needs the model loaded (503 before)."""
    return await request.app.state.text_preview.normalize(body)
