"""Output formats on /tts and downloads, and HTTP streaming (/tts/stream),
against a real server process (demo model)."""

from __future__ import annotations

import io
import re
import time
import uuid

import httpx
import numpy as np
import soundfile as sf

from tests.app.service_process import LONG_TEXT, ServiceProcess, wait_until
from tests.app.streaming.conftest import AUTH, MEDIUM_TEXT

SHORT_TEXT = "xin chào các bạn, hôm nay trời đẹp."


def _client(server: ServiceProcess) -> httpx.Client:
    return server.client(headers=AUTH)


def _decode(data: bytes, fmt: str, rate: int) -> np.ndarray:
    if fmt == "pcm":
        assert len(data) % 2 == 0
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768
    audio, file_rate = sf.read(io.BytesIO(data), dtype="float32")
    assert file_rate == rate
    return audio


def _status(client: httpx.Client, job_id: str) -> dict:
    return client.get(f"/tts/status/{job_id}").json()


def _finished(client: httpx.Client, job_id: str) -> dict:
    return wait_until(
        lambda: (body := _status(client, job_id))["status"] in ("completed", "failed", "cancelled") and body,
        timeout=120,
        what=f"job {job_id} to finish",
    )


def _batches_with_several_jobs(client: httpx.Client) -> float:
    text = client.get("/metrics").text
    single = float(re.search(r'^tts_batch_jobs_bucket\{le="1.0"\} (\S+)$', text, re.M).group(1))
    total = float(re.search(r"^tts_batch_jobs_count (\S+)$", text, re.M).group(1))
    return total - single


# --- formats on /tts and downloads ---------------------------------------------------------


def test_tts_answers_every_format_at_the_requested_rate(streaming_server: ServiceProcess) -> None:
    cases = [
        ("wav", None, 24000),
        ("flac", 16000, 16000),
        ("mp3", 22050, 22050),
        ("opus", 44100, 48000),
        ("pcm", 48000, 48000),
    ]
    media = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "opus": "audio/ogg", "pcm": "audio/pcm"}
    with _client(streaming_server) as client:
        for fmt, requested, rate in cases:
            body = {"text": SHORT_TEXT, "format": fmt, "seed": 3}
            if requested is not None:
                body["sample_rate"] = requested
            response = client.post("/tts", json=body)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == media[fmt]
            assert response.headers["x-sample-rate"] == str(rate)
            audio = _decode(response.content, fmt, rate)
            duration = float(response.headers["x-audio-duration"])
            slack = 0.11 if fmt == "mp3" else 0.002  # mp3: whole frames
            assert duration > 0.5 and abs(len(audio) / rate - duration) <= slack, fmt
            result = _status(client, response.headers["x-job-id"])["result"]
            assert result["format"] == fmt and result["sample_rate"] == rate
            assert result["filename"].endswith(f".{fmt}")


def test_async_job_is_stored_in_its_format_and_downloadable_in_any_other(streaming_server: ServiceProcess) -> None:
    job_id = f"fmt-{uuid.uuid4().hex[:10]}"
    with _client(streaming_server) as client:
        accepted = client.post("/tts", json={"text": SHORT_TEXT, "format": "mp3", "job_id": job_id, "async": True})
        assert accepted.json()["download_url"] == f"/output/{job_id}.mp3"
        result = _finished(client, job_id)["result"]
        assert result["format"] == "mp3" and result["sample_rate"] == 24000
        stored = client.get(f"/output/{job_id}.mp3")
        assert stored.headers["content-type"] == "audio/mpeg" and stored.headers["x-sample-rate"] == "24000"
        assert "bytes" in stored.headers.get("accept-ranges", "")  # the stored file itself
        duration = result["duration"]
        for fmt, query, rate in [("wav", "", 24000), ("flac", "?sample_rate=16000", 16000), ("opus", "", 24000)]:
            converted = client.get(f"/output/{job_id}.{fmt}{query}")
            assert converted.status_code == 200, converted.text
            assert converted.headers["x-sample-rate"] == str(rate)
            audio = _decode(converted.content, fmt, rate)
            assert abs(len(audio) / rate - duration) < 0.01
        pcm = client.get(f"/output/{job_id}.pcm?sample_rate=48000")
        assert abs(len(pcm.content) / 2 / 48000 - duration) < 0.01
        bad_rate = client.get(f"/output/{job_id}.wav?sample_rate=8000")
        assert bad_rate.status_code == 400
        assert bad_rate.json()["error"]["code"] == "unsupported_sample_rate"
        assert bad_rate.json()["error"]["allowed"] == [16000, 22050, 24000, 44100, 48000]
        assert client.get(f"/output/{job_id}.aac").status_code == 404


def test_bad_formats_and_rates_are_refused_with_the_allowed_values(streaming_server: ServiceProcess) -> None:
    with _client(streaming_server) as client:
        bad_format = client.post("/tts", json={"text": SHORT_TEXT, "format": "aac"})
        assert bad_format.status_code == 422 and "'mp3'" in bad_format.json()["error"]["message"]
        bad_rate = client.post("/tts", json={"text": SHORT_TEXT, "sample_rate": 8000})
        assert bad_rate.status_code == 422 and "44100" in bad_rate.json()["error"]["message"]
        flac_stream = client.post("/tts/stream", json={"text": SHORT_TEXT, "format": "flac"})
        assert flac_stream.status_code == 400
        error = flac_stream.json()["error"]
        assert error["code"] == "unsupported_format" and error["allowed"] == ["wav", "mp3", "opus", "pcm"]
        assert client.post("/tts/stream", json={"text": ""}).status_code == 422
        assert client.post("/tts/stream", json={"text": SHORT_TEXT, "ref_name": "nobody"}).status_code == 404
        assert httpx.post(f"{streaming_server.url}/tts/stream", json={"text": SHORT_TEXT}).status_code == 401


# --- streaming -------------------------------------------------------------------------------------


def test_stream_sends_audio_while_later_chunks_are_still_synthesized(streaming_server: ServiceProcess) -> None:
    with _client(streaming_server) as client:
        started = time.perf_counter()
        arrivals: list[float] = []
        data = b""
        with client.stream("POST", "/tts/stream", json={"text": LONG_TEXT, "format": "pcm", "seed": 11}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "audio/pcm" and "content-length" not in response.headers
            assert response.headers["x-sample-rate"] == "24000"
            job_id = response.headers["x-job-id"]
            progress_at_first_audio = None
            for piece in response.iter_raw():
                data += piece
                arrivals.append(time.perf_counter() - started)
                if progress_at_first_audio is None:
                    progress_at_first_audio = client.get(f"/tts/progress/{job_id}").json()
        total = time.perf_counter() - started
        # The first audio came while the job was still being synthesized...
        assert progress_at_first_audio["status"] == "processing"
        assert progress_at_first_audio["progress"] < 100
        assert progress_at_first_audio["chunks_done"] < progress_at_first_audio["chunks_total"]
        # ...and the rest kept coming over the job's lifetime.
        assert arrivals[0] < 0.6 * total and len(arrivals) > 3
        # The stream is a recorded job: completed when the response ends, same audio as its file.
        status = _status(client, job_id)
        assert status["status"] == "completed" and status["mode"] == "stream"
        assert abs(len(data) / 2 / 24000 - status["result"]["duration"]) < 1e-3
        stored = client.get(f"/output/{job_id}.pcm").content
        assert stored == data


def test_streamed_wav_mp3_and_opus_are_valid_files(streaming_server: ServiceProcess) -> None:
    with _client(streaming_server) as client:
        for fmt, rate in [("wav", 16000), ("mp3", 24000), ("opus", 48000)]:
            body = {"text": MEDIUM_TEXT, "format": fmt, "sample_rate": rate, "seed": 5}
            with client.stream("POST", "/tts/stream", json=body) as response:
                assert response.status_code == 200
                data = b"".join(response.iter_raw())
                job_id = response.headers["x-job-id"]
            if fmt == "wav":
                assert data[4:8] == b"\xff\xff\xff\xff"  # header valid for an unknown length
            audio = _decode(data, fmt, rate)
            duration = _status(client, job_id)["result"]["duration"]
            slack = 0.15 if fmt == "mp3" else 0.002  # mp3 streams keep LAME's delay and padding
            assert abs(len(audio) / rate - duration) <= slack, fmt


def test_a_client_that_disconnects_cancels_its_job(streaming_server: ServiceProcess) -> None:
    with _client(streaming_server) as client:
        with client.stream("POST", "/tts/stream", json={"text": LONG_TEXT * 3, "format": "pcm"}) as response:
            job_id = response.headers["x-job-id"]
            next(response.iter_raw())  # the first audio, then hang up
        status = wait_until(
            lambda: (body := _status(client, job_id))["status"] != "processing" and body,
            timeout=30,
            what="the abandoned job to end",
        )
        assert status["status"] == "cancelled"
        # The scheduler moves on: the next request is served at once.
        after = client.post("/tts", json={"text": SHORT_TEXT})
        assert after.status_code == 200
        assert client.get("/health").json()["stats"]["queue_size"] == 0


def test_streams_share_forward_passes_with_other_jobs(streaming_server: ServiceProcess) -> None:
    with _client(streaming_server) as client:
        before = _batches_with_several_jobs(client)
        background = client.post("/tts", json={"text": LONG_TEXT, "async": True}).json()["job_id"]
        wait_until(
            lambda: client.get(f"/tts/progress/{background}").json()["status"] == "processing",
            what="the long job to start",
        )
        with client.stream("POST", "/tts/stream", json={"text": MEDIUM_TEXT, "format": "pcm"}) as response:
            data = b"".join(response.iter_raw())
        assert len(data) > 0
        assert _finished(client, background)["status"] == "completed"
        assert _batches_with_several_jobs(client) > before


def test_a_known_job_id_is_streamed_again_without_synthesis(streaming_server: ServiceProcess) -> None:
    job_id = f"again-{uuid.uuid4().hex[:10]}"
    body = {"text": SHORT_TEXT, "format": "pcm", "job_id": job_id}
    with _client(streaming_server) as client:
        first = client.post("/tts/stream", json=body)
        assert first.headers["x-duplicate"] == "false"
        batches = client.get("/status").json()["batching"]["batches_run"]
        second = client.post("/tts/stream", json=body)
        assert second.headers["x-duplicate"] == "true" and second.headers["x-job-id"] == job_id
        assert second.content == first.content
        assert client.get("/status").json()["batching"]["batches_run"] == batches
