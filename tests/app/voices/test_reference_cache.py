"""A voice's prepared reference follows its files: a new transcript or clip is used by the next job."""

from __future__ import annotations

import os

import httpx

from tests.app.service_process import TEST_NFE_STEP, ServiceProcess
from tests.app.voices.clips import speech_wav
from tests.app.voices.conftest import upload

SHORT = "xin chào."
LONG = "hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé, rồi về nhà ăn cơm."


def _plan(client: httpx.Client, **extra: object) -> dict:
    response = client.post("/normalize", json={"text": "một hai ba bốn năm", "ref_name": "cache_voice", **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_the_next_job_uses_the_new_transcript_and_clip(client: httpx.Client, voices_server: ServiceProcess) -> None:
    assert upload(client, "cache_voice", speech_wav(4.0), SHORT).status_code == 201
    try:
        first = _plan(client)
        assert first["ref_text"].startswith("xin chào.")
        job = client.post("/tts", json={"text": "một hai ba", "ref_name": "cache_voice", "nfe_step": TEST_NFE_STEP})
        assert job.status_code == 200

        # Edit the transcript on disk: the next plan (and job) uses it, no restart.
        txt = voices_server.voices_dir / "cache_voice.txt"
        txt.write_text(LONG + "\n", encoding="utf-8")
        second = _plan(client)
        assert second["ref_text"].startswith("hôm nay trời đẹp")
        # More reference text for the same clip: more bytes per second, a larger budget per chunk.
        assert second["max_bytes"] > first["max_bytes"]
        job = client.post(
            "/tts", json={"text": "một hai ba", "ref_name": "cache_voice", "nfe_step": TEST_NFE_STEP, "async": True}
        )
        assert job.status_code == 200 and job.json()["status"] in ("queued", "processing", "completed")

        # Replace the clip on disk (same name, longer audio, same mtime second or not): a new reference.
        wav = voices_server.voices_dir / "cache_voice.wav"
        stat = wav.stat()
        wav.write_bytes(speech_wav(8.0))
        os.utime(wav, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        third = _plan(client)
        assert third["ref_text"] == second["ref_text"]
        assert third["max_bytes"] < second["max_bytes"]  # the same text over a longer clip: fewer bytes/s

        # The speed changes the budget, not the reference.
        assert _plan(client, speed=2.0)["max_bytes"] > third["max_bytes"]
    finally:
        client.delete("/voices/cache_voice")
