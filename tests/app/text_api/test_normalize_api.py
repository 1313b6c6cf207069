"""POST /normalize: the text exactly as the model reads it; and normalization in real jobs."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.services.text import TextFrontend
from tests.app.service_process import LONG_TEXT, TEST_NFE_STEP, ServiceProcess, wait_until


def _normalize(client: httpx.Client, **body: object) -> dict:
    response = client.post("/normalize", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_shape_and_what_the_model_reads(service: ServiceProcess) -> None:
    with service.client() as client:
        body = _normalize(client, text="Ngày 2/9, giá iPhone tăng 5%. Tôi có 123 con gà!")
    assert set(body) == {"text", "chunks", "max_bytes", "voice", "ref_text", "normalized", "normalizer"}
    assert body["text"] == ("ngày hai tháng chín, giá ai phôn tăng năm phần trăm. tôi có một trăm hai mươi ba con gà!")
    assert body["voice"] == "main" and body["normalized"] is True and body["normalizer"] == "vinorm"
    assert body["ref_text"].startswith("xin chào, đây là giọng đọc mẫu")
    assert [chunk["text"] for chunk in body["chunks"]] == [body["text"]]
    assert body["chunks"][0]["bytes"] == len(body["text"].encode("utf-8")) <= body["max_bytes"]


def test_lexicon_extra_lexicon_and_normalize_false(service: ServiceProcess) -> None:
    text = "Zalo và AI của NASA, ngày 2/9."
    with service.client() as client:
        default = _normalize(client, text=text)
        extra = _normalize(client, text=text, extra_lexicon={"Zalo": "da lô", "NASA": "nát xa"})
        raw = _normalize(client, text=text, normalize=False)
        bad = client.post("/normalize", json={"text": text, "extra_lexicon": {"!!": "chấm than"}})
        too_many = client.post("/normalize", json={"text": text, "extra_lexicon": {f"t{i}": "a" for i in range(101)}})
    assert "ây ai" in default["text"] and "na sa" in default["text"]  # the shipped lexicon
    assert "ngày hai tháng chín." in default["text"]
    assert extra["text"].startswith("da lô và ây ai của nát xa")  # per request, overriding the file's entry
    assert raw["text"] == "zalo và ai của nasa, ngày 2/9." and raw["normalized"] is False
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_lexicon"
    assert too_many.status_code == 422 and too_many.json()["error"]["code"] == "validation_error"


def test_long_text_is_chunked_at_the_voices_budget(service: ServiceProcess) -> None:
    with service.client() as client:
        slow = _normalize(client, text=LONG_TEXT, ref_name="giong_nam.wav", speed=0.6)
        fast = _normalize(client, text=LONG_TEXT, ref_name="sample/giong_nam", speed=1.8)
    assert slow["voice"] == fast["voice"] == "giong_nam" and slow["ref_text"] == fast["ref_text"]
    assert fast["max_bytes"] > slow["max_bytes"]
    assert len(slow["chunks"]) >= len(fast["chunks"]) >= 2
    for body in (slow, fast):
        assert " ".join(chunk["text"] for chunk in body["chunks"]) == body["text"]
        assert all(chunk["bytes"] <= body["max_bytes"] for chunk in body["chunks"])
        # Chunks end at the writer's punctuation, never in the middle of a clause.
        assert all(chunk["text"][-1] in ".,!?;:" for chunk in body["chunks"])


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 422, "validation_error"),
        ({"text": "😀 ... \u200b"}, 422, "invalid_text"),
        ({"text": "a" * 50_001}, 422, "text_too_long"),
        ({"text": "xin chào", "ref_name": "nobody"}, 404, "voice_not_found"),
        ({"text": "xin chào", "ref_name": "../etc/passwd"}, 400, "invalid_name"),
        ({"text": "xin chào", "ref_name": "no_transcript"}, 422, "voice_transcript_missing"),
        ({"text": "xin chào", "speed": 3}, 422, "validation_error"),
        ({"text": "xin chào", "extra_lexicon": ["a"]}, 422, "validation_error"),
    ],
)
def test_bad_normalize_requests(service: ServiceProcess, body: dict, status: int, code: str) -> None:
    with service.client() as client:
        response = client.post("/normalize", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_twenty_concurrent_normalizations_each_get_their_own_text(service: ServiceProcess) -> None:
    texts = [f"Lô hàng số {i} gồm {i * 1234} sản phẩm, giao ngày {i % 28 + 1}/{i % 12 + 1}." for i in range(20)]
    expected = TextFrontend().normalize_many(texts)

    async def run() -> list[dict]:
        async with service.async_client() as client:
            responses = await asyncio.gather(*(client.post("/normalize", json={"text": t}) for t in texts))
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
        return [r.json() for r in responses]

    bodies = asyncio.run(run())
    assert [body["text"] for body in bodies] == expected
    assert len(set(expected)) == 20 and "một nghìn hai trăm ba mươi tư" in expected[1]


def _completed(client: httpx.Client, job_id: str) -> dict:
    def done() -> dict | None:
        body = client.get(f"/tts/status/{job_id}").json()
        assert body["status"] not in ("failed", "cancelled"), body
        return body if body["status"] == "completed" else None

    return wait_until(done, timeout=60, interval=0.1, what=f"job {job_id}")


def test_a_job_with_and_without_normalization(service: ServiceProcess) -> None:
    text = "Ngày 12/3/2024 có 1.234.567 người tham gia."
    common = {"text": text, "seed": 5, "nfe_step": TEST_NFE_STEP, "async": True}
    with service.client() as client:
        on = client.post("/tts", json={**common, "job_id": "norm-on"}).json()
        off = client.post("/tts", json={**common, "job_id": "norm-off", "normalize": False}).json()
        planned_on = _normalize(client, text=text)
        planned_off = _normalize(client, text=text, normalize=False)
        on_done, off_done = _completed(client, on["job_id"]), _completed(client, off["job_id"])
        on_progress = client.get("/tts/progress/norm-on").json()
        invalid = client.post("/tts", json={**common, "extra_lexicon": {"": "rỗng"}})
    assert planned_off["text"] == "ngày 12/3/2024 có 1.234.567 người tham gia."
    assert "một triệu hai trăm ba mươi tư nghìn" in planned_on["text"]
    # The model read different text: the verbalized one is longer, and so is its audio
    # (durations come from the chunks' UTF-8 byte counts).
    assert planned_on["chunks"][0]["bytes"] > 2 * planned_off["chunks"][0]["bytes"]
    assert on_done["result"]["duration"] > 1.5 * off_done["result"]["duration"]
    assert on_progress["chunks_total"] == len(planned_on["chunks"])
    assert invalid.status_code == 400 and invalid.json()["error"]["code"] == "invalid_lexicon"
