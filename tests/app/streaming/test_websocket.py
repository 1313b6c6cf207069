"""The WebSocket endpoint /ws/tts with the ``websockets`` client, against a real
server process (demo model)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.app.service_process import LONG_TEXT, ServiceProcess, wait_until
from tests.app.streaming.conftest import API_KEY, AUTH, MEDIUM_TEXT

SHORT_TEXT = "xin chào các bạn, hôm nay trời đẹp."


def _url(server: ServiceProcess, query: str = f"?api_key={API_KEY}") -> str:
    return f"ws://127.0.0.1:{server.port}/ws/tts{query}"


async def _answer(ws: Any) -> tuple[list[dict], list[bytes]]:
    """Events and binary frames of one request, up to its done or error event."""
    events: list[dict] = []
    frames: list[bytes] = []
    while True:
        message = await asyncio.wait_for(ws.recv(), 60)
        if isinstance(message, bytes):
            frames.append(message)
            continue
        event = json.loads(message)
        events.append(event)
        if event["type"] in ("done", "error"):
            return events, frames


def _check_done(events: list[dict], frames: list[bytes], request_id: str, rate: int = 24000) -> dict:
    started, done = events[0], events[-1]
    assert started["type"] == "started" and done["type"] == "done", events
    assert {e["type"] for e in events[1:-1]} <= {"progress"}
    assert all(e["request_id"] == request_id and e["job_id"] == started["job_id"] for e in events)
    assert started["sample_rate"] == rate and started["encoding"] == "pcm_s16le" and started["channels"] == 1
    total = sum(len(frame) for frame in frames)
    assert frames and all(len(frame) % 2 == 0 for frame in frames)
    assert total == done["bytes"] == 2 * done["samples"]
    assert done["sample_rate"] == rate and abs(done["samples"] / rate - done["duration"]) < 1e-3
    return done


async def _refused(url: str, **kwargs: Any) -> tuple[int | None, str | None]:
    async with websockets.connect(url, **kwargs) as ws:
        with pytest.raises(websockets.ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 10)
    closing = info.value.rcvd
    return (closing.code, closing.reason) if closing is not None else (None, None)


async def test_the_api_key_is_checked_before_anything_else(streaming_server: ServiceProcess) -> None:
    assert await _refused(_url(streaming_server, "")) == (1008, "missing or wrong API key")
    assert (await _refused(_url(streaming_server, "?api_key=wrong")))[0] == 1008
    assert (await _refused(_url(streaming_server, ""), additional_headers={"X-API-Key": "wrong"}))[0] == 1008
    for headers in ({"Authorization": f"Bearer {API_KEY}"}, {"X-API-Key": API_KEY}):
        async with websockets.connect(_url(streaming_server, ""), additional_headers=headers) as ws:
            await ws.send(json.dumps({"text": SHORT_TEXT, "request_id": "auth", "nfe_step": 2}))
            events, frames = await _answer(ws)
            _check_done(events, frames, "auth")


async def test_one_request_streams_events_and_pcm_frames_in_order(streaming_server: ServiceProcess) -> None:
    async with websockets.connect(_url(streaming_server)) as ws:
        await ws.send(json.dumps({"text": LONG_TEXT, "request_id": "long-1", "seed": 4}))
        events, frames = await _answer(ws)
    done = _check_done(events, frames, "long-1")
    assert done["chunks"] >= 3 and done["download_url"].endswith(".pcm")
    assert any(e["type"] == "progress" and 0 < e["percent"] < 100 for e in events)
    with httpx.Client(base_url=streaming_server.url, headers=AUTH) as client:
        status = client.get(f"/tts/status/{done['job_id']}").json()
        stored = client.get(done["download_url"]).content
    assert status["status"] == "completed" and status["mode"] == "stream"
    assert stored == b"".join(frames)


async def test_bad_messages_get_errors_and_the_connection_stays_usable(streaming_server: ServiceProcess) -> None:
    async with websockets.connect(_url(streaming_server)) as ws:
        await ws.send("{not json")
        assert json.loads(await ws.recv()) == {
            "type": "error",
            "code": "invalid_json",
            "message": "the message is not valid JSON",
        }
        await ws.send(json.dumps({"text": SHORT_TEXT, "speed": 9, "request_id": "fast"}))
        error = json.loads(await ws.recv())
        assert error["code"] == "validation_error" and error["request_id"] == "fast" and "speed" in error["message"]
        await ws.send(b"\x00\x01")
        assert json.loads(await ws.recv())["code"] == "invalid_message"
        await ws.send(json.dumps({"text": SHORT_TEXT, "voice": "nobody", "request_id": "who"}))
        error = json.loads(await ws.recv())
        assert error["code"] == "voice_not_found" and error["request_id"] == "who"
        await ws.send(json.dumps([1, 2]))
        assert json.loads(await ws.recv())["code"] == "invalid_json"
        # Two requests sent at once on the same connection: answered one after the other.
        await ws.send(json.dumps({"text": SHORT_TEXT, "request_id": "first"}))
        await ws.send(json.dumps({"text": MEDIUM_TEXT, "request_id": "second", "sample_rate": 16000}))
        first = _check_done(*await _answer(ws), "first")
        second = _check_done(*await _answer(ws), "second", rate=16000)
    assert first["job_id"] != second["job_id"]


async def test_three_clients_at_once(streaming_server: ServiceProcess) -> None:
    async def client(n: int) -> dict:
        async with websockets.connect(_url(streaming_server)) as ws:
            await ws.send(json.dumps({"text": f"{MEDIUM_TEXT} số {n}.", "request_id": f"c{n}"}))
            return _check_done(*await _answer(ws), f"c{n}")

    results = await asyncio.gather(*(client(n) for n in range(3)))
    assert len({done["job_id"] for done in results}) == 3


async def test_cancel_message_and_disconnect_cancel_jobs(streaming_server: ServiceProcess) -> None:
    async with websockets.connect(_url(streaming_server)) as ws:
        await ws.send(json.dumps({"text": LONG_TEXT * 3, "request_id": "stop-me"}))
        started = json.loads(await ws.recv())
        await ws.send(json.dumps({"type": "cancel", "request_id": "stop-me"}))
        events, _ = await _answer(ws)
        assert events[-1]["type"] == "error" and events[-1]["code"] == "job_cancelled"
        await ws.send(json.dumps({"text": SHORT_TEXT, "request_id": "next"}))
        _check_done(*await _answer(ws), "next")

        await ws.send(json.dumps({"text": LONG_TEXT * 3, "request_id": "abandoned"}))
        abandoned = json.loads(await ws.recv())
        assert abandoned["type"] == "started"
    with httpx.Client(base_url=streaming_server.url, headers=AUTH) as client:
        assert client.get(f"/tts/status/{started['job_id']}").json()["status"] == "cancelled"
        wait_until(
            lambda: client.get(f"/tts/status/{abandoned['job_id']}").json()["status"] == "cancelled",
            timeout=30,
            what="the job of the closed connection to be cancelled",
        )
