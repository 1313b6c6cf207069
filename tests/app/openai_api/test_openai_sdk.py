"""The official ``openai`` SDK, unchanged, against a real server process
(demo model, API key on): every response format, streaming, SSE, errors."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator

import httpx
import numpy as np
import openai
import pytest
import soundfile as sf
from openai import OpenAI

from tests.app.service_process import ServiceProcess, service_env

API_KEY = "sk-local-9e41"
SHORT_TEXT = "xin chào các bạn, hôm nay trời đẹp."
# Over STREAM_FIRST_CHUNK_BYTES: streamed as a short first chunk and the rest.
TWO_CHUNK_TEXT = "xin chào các bạn, hôm nay trời rất đẹp. chúng ta cùng nhau đi dạo quanh hồ gươm và ngắm hàng cây."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("openai")
    process = ServiceProcess(root, service_env(root, API_KEY=API_KEY)).start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def client(server: ServiceProcess) -> Iterator[OpenAI]:
    sdk = OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0, timeout=60)
    try:
        yield sdk
    finally:
        sdk.close()


def _duration(server: ServiceProcess, job_id: str) -> float:
    with server.client(headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        status = http.get(f"/tts/status/{job_id}").json()
    assert status["status"] == "completed", status
    return status["result"]["duration"]


def test_models_and_voices(client: OpenAI, server: ServiceProcess) -> None:
    assert [model.id for model in client.models.list()] == ["f5-tts-vi"]
    assert client.models.retrieve("tts-1").id == "tts-1"
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-5")
    assert info.value.body["code"] == "model_not_found"
    voices = httpx.get(f"{server.url}/v1/audio/voices", headers={"Authorization": f"Bearer {API_KEY}"}).json()
    assert voices["object"] == "list" and voices["default"] == "main"
    by_id = {voice["id"]: voice for voice in voices["data"]}
    assert "main" in voices["voices"] and by_id["main"]["default"] is True and by_id["main"]["object"] == "voice"
    assert sorted(voices["voices"]) == sorted(by_id)
    assert "alloy" in voices["openai_voices"]


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("wav", "audio/wav"), ("flac", "audio/flac"), ("pcm", "audio/pcm")],
)
def test_every_response_format_decodes_at_24_khz(
    client: OpenAI, server: ServiceProcess, fmt: str, media_type: str
) -> None:
    raw = client.audio.speech.with_raw_response.create(
        model="tts-1",
        voice="alloy",  # OpenAI's names use the default voice
        input=SHORT_TEXT,
        response_format=fmt,  # type: ignore[arg-type]
        instructions="speak cheerfully",  # accepted, ignored
        extra_body={"seed": 7},
    )
    assert raw.headers["content-type"] == media_type and raw.headers["x-sample-rate"] == "24000"
    data = raw.parse().content
    duration = _duration(server, raw.headers["x-job-id"])
    if fmt == "pcm":
        assert abs(len(data) / 2 / 24000 - duration) < 1e-3  # the status rounds to ms
        return
    audio, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert rate == 24000
    assert abs(len(audio) / rate - duration) <= (0.15 if fmt == "mp3" else 0.002)


def test_own_options_as_extra_fields(client: OpenAI, server: ServiceProcess) -> None:
    whole = client.audio.speech.with_raw_response.create(
        model="f5-tts-vi",
        voice={"id": "main"},
        input=SHORT_TEXT,
        response_format="wav",
        extra_body={"stream": False, "sample_rate": 16000, "nfe_step": 2, "seed": 1, "ref_text": None},
    )
    data = whole.parse().content
    # Not streamed: a complete file with exact sizes and a Content-Length.
    assert int(whole.headers["content-length"]) == len(data)
    with wave.open(io.BytesIO(data)) as reader:
        assert reader.getframerate() == 16000
        assert reader.getnframes() == (len(data) - 44) // 2
    assert abs(reader.getnframes() / 16000 - _duration(server, whole.headers["x-job-id"])) < 1e-3


def test_speed_is_clamped_to_the_models_range(client: OpenAI) -> None:
    def pcm(speed: float) -> bytes:
        return client.audio.speech.create(
            model="tts-1", voice="main", input=SHORT_TEXT, response_format="pcm", speed=speed, extra_body={"seed": 2}
        ).content

    fastest = pcm(4.0)
    assert fastest == pcm(2.0)  # 4.0 is this model's 2.0
    assert len(fastest) < len(pcm(1.0))


def test_streaming_response_arrives_in_pieces_and_decodes(client: OpenAI, server: ServiceProcess) -> None:
    pieces: list[bytes] = []
    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="main", input=TWO_CHUNK_TEXT, extra_body={"seed": 3}
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        assert "content-length" not in response.headers
        job_id = response.headers["x-job-id"]
        for piece in response.iter_bytes():
            pieces.append(piece)
    assert len(pieces) > 1
    audio, rate = sf.read(io.BytesIO(b"".join(pieces)), dtype="float32")
    assert rate == 24000 and abs(len(audio) / rate - _duration(server, job_id)) <= 0.15


def test_sse_events_carry_base64_audio_deltas(client: OpenAI, server: ServiceProcess) -> None:
    events = []
    with client.audio.speech.with_streaming_response.create(
        model="f5-tts-vi", voice="main", input=SHORT_TEXT, response_format="pcm", stream_format="sse"
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        job_id = response.headers["x-job-id"]
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    deltas = [event for event in events if event["type"] == "speech.audio.delta"]
    done = events[-1]
    assert deltas and events[: len(deltas)] == deltas and done["type"] == "speech.audio.done"
    audio = b"".join(base64.b64decode(event["audio"]) for event in deltas)
    assert abs(len(audio) / 2 / 24000 - _duration(server, job_id)) < 1e-3
    usage = done["usage"]
    assert (
        usage["input_tokens"] == len(SHORT_TEXT)
        and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    )
    samples = np.frombuffer(audio, dtype="<i2")
    assert np.abs(samples).max() > 0


@pytest.mark.parametrize(
    ("change", "status", "param", "code"),
    [
        ({"response_format": "aac"}, 400, "response_format", "unsupported_format"),
        ({"model": "gpt-9"}, 404, "model", "model_not_found"),
        ({"voice": "nobody"}, 400, "voice", "voice_not_found"),
        ({"speed": 5.0}, 400, "speed", "invalid_value"),
        ({"input": ""}, 400, "input", "invalid_value"),
        ({"response_format": "flac", "stream_format": "sse"}, 400, "response_format", "unsupported_format"),
    ],
)
def test_errors_come_in_openais_shape(client: OpenAI, change: dict, status: int, param: str, code: str) -> None:
    request = {"model": "tts-1", "voice": "alloy", "input": SHORT_TEXT, **change}
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.speech.create(**request)
    assert info.value.status_code == status
    assert info.value.body["param"] == param and info.value.body["code"] == code
    assert info.value.body["type"] == "invalid_request_error" and info.value.body["message"]


def test_a_wrong_api_key_is_refused(server: ServiceProcess) -> None:
    wrong = OpenAI(base_url=f"{server.url}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        wrong.audio.speech.create(model="tts-1", voice="alloy", input=SHORT_TEXT)
    assert info.value.body["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    wrong.close()
    malformed = httpx.post(
        f"{server.url}/v1/audio/speech",
        content=b"{",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_json"
