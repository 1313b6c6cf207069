"""Voices without a transcript: transcribed on the GPU thread by the injected fake, saved, reused."""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.app.service_process import SHIPPED_VOICES, TEST_NFE_STEP, ServiceProcess
from tests.app.voices.clips import speech_wav
from tests.app.voices.conftest import assert_error, upload
from tests.app.voices.fake_transcriber import FAKE_TRANSCRIPT, FakeControl

TTS = {"text": "xin chào các bạn", "nfe_step": TEST_NFE_STEP}


def _clip_without_transcript(server: ServiceProcess, name: str) -> None:
    shutil.copy(SHIPPED_VOICES / "giong_nam.wav", server.voices_dir / f"{name}.wav")


def test_a_voice_without_transcript_is_transcribed_once_on_the_gpu_thread(
    client: httpx.Client, voices_server: ServiceProcess, fake_control: FakeControl
) -> None:
    _clip_without_transcript(voices_server, "auto_nam")
    listed = client.get("/voices/auto_nam").json()
    assert listed["has_transcript"] is False and listed["transcribed"] is False  # listing never transcribes
    calls = len(fake_control.calls())

    first = client.post("/tts", json={**TTS, "ref_name": "auto_nam"})
    assert first.status_code == 200, first.text
    new_calls = fake_control.calls()[calls:]
    assert len(new_calls) == 1
    thread, rate, seconds = new_calls[0]
    # On the model's thread, from the 24 kHz reference the engine really uses (trimmed, <= ~12 s).
    assert thread.startswith("gpu") and rate == 24_000 and 3.0 < seconds < 12.5
    txt = voices_server.voices_dir / "auto_nam.txt"
    assert txt.read_text(encoding="utf-8").strip() == FAKE_TRANSCRIPT
    detail = client.get("/voices/auto_nam").json()
    assert detail["transcript"] == FAKE_TRANSCRIPT and detail["transcribed"] is True

    # Reused: no second transcription, for jobs and for /normalize alike.
    assert client.post("/tts", json={**TTS, "ref_name": "auto_nam.wav", "async": True}).status_code == 200
    normalized = client.post("/normalize", json={"text": "xin chào", "ref_name": "auto_nam"}).json()
    assert normalized["ref_text"].strip() == FAKE_TRANSCRIPT
    assert len(fake_control.calls()) == calls + 1

    # A person edits the transcript: it is theirs now, and the next job reads it.
    txt.write_text("hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé.\n", encoding="utf-8")
    assert client.get("/voices/auto_nam").json()["transcribed"] is False
    normalized = client.post("/normalize", json={"text": "xin chào", "ref_name": "auto_nam"}).json()
    assert normalized["ref_text"].startswith("hôm nay trời đẹp")
    assert client.delete("/voices/auto_nam").json()["files"] == ["auto_nam.wav", "auto_nam.txt"]
    assert not (voices_server.voices_dir / ".auto_nam.transcribed").exists()


def test_an_upload_without_transcript_is_transcribed(
    client: httpx.Client, voices_server: ServiceProcess, fake_control: FakeControl
) -> None:
    calls = len(fake_control.calls())
    response = upload(client, "up_auto", speech_wav(4.0))
    assert response.status_code == 201, response.text
    assert response.json()["transcript"] == FAKE_TRANSCRIPT and response.json()["transcribed"] is True
    assert fake_control.calls()[calls][0].startswith("gpu")
    listed = {v["name"]: v for v in client.get("/voices").json()["voices"]}
    assert listed["up_auto"]["transcribed"] is True
    # An upload with a transcript is not marked as transcribed, even when it replaces one that was.
    replaced = upload(client, "up_auto", speech_wav(4.0), "xin chào các bạn.", overwrite=True)
    assert replaced.json()["transcribed"] is False and len(fake_control.calls()) == calls + 1
    assert client.delete("/voices/up_auto").status_code == 200


@pytest.mark.parametrize(
    ("mode", "status", "code"), [("fail", 503, "transcriber_unavailable"), ("empty", 422, "empty_transcript")]
)
def test_a_failed_transcription_is_a_clear_error_naming_the_voice(
    client: httpx.Client, voices_server: ServiceProcess, fake_control: FakeControl, mode: str, status: int, code: str
) -> None:
    fake_control.set_mode(mode)
    name = f"tx_{mode}"
    before = {path.name for path in voices_server.voices_dir.iterdir()}
    error = assert_error(upload(client, name, speech_wav(3.0)), status, code)
    assert repr(name) in error["message"]
    assert {path.name for path in voices_server.voices_dir.iterdir()} == before  # nothing half-created

    _clip_without_transcript(voices_server, name)
    try:
        for body in ({**TTS, "ref_name": name}, {**TTS, "ref_name": name, "async": True}):
            error = assert_error(client.post("/tts", json=body), status, code)
            assert repr(name) in error["message"]
        assert_error(client.post("/normalize", json={"text": "xin chào", "ref_name": name}), status, code)
        assert not (voices_server.voices_dir / f"{name}.txt").exists()
        # ref_text needs no transcription at all.
        assert client.post("/tts", json={**TTS, "ref_name": name, "ref_text": "xin chào."}).status_code == 200
        fake_control.set_mode("ok")
        assert client.post("/tts", json={**TTS, "ref_name": name}).status_code == 200
        assert (voices_server.voices_dir / f"{name}.txt").exists()
    finally:
        client.delete(f"/voices/{name}")
    assert client.get("/health").status_code == 200


def test_status_reports_the_transcriber(client: httpx.Client) -> None:
    text = client.get("/status").json()["text"]
    assert text["auto_transcribe"] is True
    assert text["transcriber_model"] == "tests.app.voices.fake_transcriber:make"
    assert text["normalizer"] == "vinorm" and text["vinorm_active"] is True
