"""One-off cloning: a reference clip inside the TTS request (JSON ``ref_audio_base64``)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.app.service_process import TEST_NFE_STEP, ServiceProcess, read_wav, wait_until
from tests.app.voices.clips import silence_wav, speech_wav
from tests.app.voices.conftest import assert_error
from tests.app.voices.fake_transcriber import FakeControl

REF_TEXT = "hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé."


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kept(server: ServiceProcess) -> set[str]:
    folder = server.data_dir / "references"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def test_an_inline_clip_clones_without_touching_the_library(
    client: httpx.Client, voices_server: ServiceProcess, tmp_path
) -> None:
    library = {path.name for path in voices_server.voices_dir.iterdir()}
    clip = speech_wav(4.0, rate=22_050)
    body = {"text": "xin chào các bạn", "ref_audio_base64": _b64(clip), "ref_text": REF_TEXT, "nfe_step": TEST_NFE_STEP}
    response = client.post("/tts", json=body)
    assert response.status_code == 200, response.text
    audio, rate = read_wav(response.content, tmp_path)
    assert rate == 24_000 and len(audio) > 2_400
    assert {path.name for path in voices_server.voices_dir.iterdir()} == library  # never in VOICES_DIR
    kept = _kept(voices_server)
    assert len([name for name in kept if name.endswith(".wav")]) >= 1

    # The same clip again (as a data: URL, async): checked and kept once, the job completes.
    again = client.post("/tts", json={**body, "ref_audio_base64": "data:audio/wav;base64," + _b64(clip), "async": True})
    assert again.status_code == 200, again.text
    job_id = again.json()["job_id"]
    status = wait_until(
        lambda: (s := client.get(f"/tts/status/{job_id}").json())["status"] in ("completed", "failed") and s,
        timeout=60,
        what="the inline job",
    )
    assert status["status"] == "completed", status
    assert _kept(voices_server) == kept


def test_without_ref_text_the_inline_clip_is_transcribed(
    client: httpx.Client, voices_server: ServiceProcess, fake_control: FakeControl
) -> None:
    calls = len(fake_control.calls())
    clip = speech_wav(3.5)
    body = {"text": "xin chào", "ref_audio_base64": _b64(clip), "nfe_step": TEST_NFE_STEP}
    assert client.post("/tts", json=body).status_code == 200
    assert client.post("/tts", json=body).status_code == 200
    assert len(fake_control.calls()) == calls + 1  # its transcript is kept beside the clip and reused
    assert fake_control.calls()[calls][0].startswith("gpu")


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"ref_audio_base64": "not base64 at all!!"}, 422, "audio_unreadable"),
        ({"ref_audio_base64": ""}, 422, "audio_unreadable"),
        ({"ref_audio_base64": _b64(b"this is not audio" * 100)}, 422, "audio_unreadable"),
        ({"ref_audio_base64": _b64(speech_wav(0.4))}, 422, "audio_too_short"),
        ({"ref_audio_base64": _b64(silence_wav(3.0))}, 422, "audio_silent"),
        ({"ref_audio_base64": _b64(speech_wav(31.0, rate=8_000))}, 422, "audio_too_long"),
        ({"ref_audio_base64": _b64(speech_wav(3.0)), "ref_name": "main"}, 400, "invalid_request"),
        ({"ref_audio_base64": 12}, 422, "validation_error"),
    ],
    ids=["not-base64", "empty", "not-audio", "too-short", "silent", "too-long", "with-ref_name", "not-a-string"],
)
def test_bad_inline_clips_are_refused(
    client: httpx.Client, voices_server: ServiceProcess, extra: dict, status: int, code: str
) -> None:
    kept = _kept(voices_server)
    for mode in (False, True):
        body = {"text": "xin chào", "ref_text": REF_TEXT, "async": mode, **extra}
        assert_error(client.post("/tts", json=body), status, code)
    assert _kept(voices_server) == kept


def test_an_inline_clip_over_the_body_limit_is_refused(client: httpx.Client) -> None:
    # base64 of a 20 s 48 kHz clip is over MAX_BODY_BYTES (1 MiB): refused before parsing.
    body = {"text": "xin chào", "ref_text": REF_TEXT, "ref_audio_base64": _b64(speech_wav(20.0, rate=48_000))}
    assert_error(client.post("/tts", json=body), 413, "payload_too_large")
