"""Clients for the service's REST API (docs/service.md): ``TTSClient`` (sync)
and ``AsyncTTSClient`` (asyncio). Same methods, same results.

    with TTSClient("http://127.0.0.1:8000", api_key="...") as tts:
        wav = tts.synthesize("Xin chào", ref_name="main")           # sync POST /tts
        job = tts.submit("Xin chào", job_id="j1")                     # async POST /tts
        final = tts.wait(job["job_id"], on_progress=print)
        audio = tts.download("j1")
        tts.confirm_download("j1")
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from app.client._common import (
    DEFAULT_TIMEOUT,
    FINISHED_STATES,
    Call,
    auth_headers,
    decode,
    job_id_of,
    state_of,
    tts_body,
)
from app.client.errors import JobFailedError, JobTimeoutError

ProgressCallback = Callable[[dict[str, Any]], Any]


def _output_name(job_id_or_filename: str) -> str:
    return job_id_or_filename if "." in job_id_or_filename else f"{job_id_or_filename}.wav"


class _RestCalls:
    """The REST API as request descriptions; the two clients send them."""

    @staticmethod
    def health() -> Call:
        return Call("GET", "/health")

    @staticmethod
    def ping() -> Call:
        return Call("GET", "/ping")

    @staticmethod
    def server_status() -> Call:
        return Call("GET", "/status")

    @staticmethod
    def voices() -> Call:
        return Call("GET", "/voices")

    @staticmethod
    def tts(body: dict[str, Any]) -> Call:
        return Call("POST", "/tts", json=body, raw=not body.get("async"))

    @staticmethod
    def job_status(job_id: str) -> Call:
        return Call("GET", f"/tts/status/{job_id}")

    @staticmethod
    def progress(job_id: str) -> Call:
        return Call("GET", f"/tts/progress/{job_id}")

    @staticmethod
    def kill(job_id: str) -> Call:
        return Call("POST", f"/tts/kill/{job_id}")

    @staticmethod
    def output(job_id_or_filename: str) -> Call:
        return Call("GET", f"/output/{_output_name(job_id_or_filename)}", raw=True)

    @staticmethod
    def confirm_download(job_id: str) -> Call:
        return Call("POST", f"/confirm-download/{job_id}")

    @staticmethod
    def check_download(job_id: str) -> Call:
        return Call("GET", f"/check-download/{job_id}")


def _finished(job_id: str, record: dict[str, Any], raise_on_failure: bool) -> dict[str, Any] | None:
    state = state_of(record)
    if state not in FINISHED_STATES:
        return None
    if state != "completed" and raise_on_failure:
        raise JobFailedError(job_id, state, record.get("error"))
    return record


class TTSClient:
    """Synchronous client (httpx.Client)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self._owns_client = client is None
        self._http = client or httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=auth_headers(api_key),
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
        )

    def __enter__(self) -> TTSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def _send(self, call: Call, timeout: float | None = None) -> Any:
        kwargs = call.request_kwargs()
        if timeout is not None:
            kwargs["timeout"] = timeout
        return decode(call, self._http.request(call.method, call.path, **kwargs))

    # --- server ---
    def health(self) -> dict[str, Any]:
        return self._send(_RestCalls.health())

    def ping(self) -> dict[str, Any]:
        return self._send(_RestCalls.ping())

    def server_status(self) -> dict[str, Any]:
        return self._send(_RestCalls.server_status())

    def voices(self) -> Any:
        return self._send(_RestCalls.voices())

    # --- jobs ---
    def synthesize(
        self,
        text: str,
        *,
        ref_name: str | None = None,
        speed: float | None = None,
        job_id: str | None = None,
        timeout: float | None = 600.0,
        **options: Any,
    ) -> bytes:
        """Sync POST /tts: waits for the audio and returns the WAV bytes."""
        body = tts_body(text, ref_name=ref_name, speed=speed, job_id=job_id, is_async=False, options=options)
        return self._send(_RestCalls.tts(body), timeout=timeout)

    def submit(
        self,
        text: str,
        *,
        ref_name: str | None = None,
        speed: float | None = None,
        job_id: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Async POST /tts: queues the job, answers ``{"request_id","job_id","status","queue_position"}``."""
        body = tts_body(text, ref_name=ref_name, speed=speed, job_id=job_id, is_async=True, options=options)
        return self._send(_RestCalls.tts(body))

    def job_status(self, job_id: str) -> dict[str, Any]:
        return self._send(_RestCalls.job_status(job_id))

    def progress(self, job_id: str) -> dict[str, Any]:
        return self._send(_RestCalls.progress(job_id))

    def kill(self, job_id: str) -> dict[str, Any]:
        return self._send(_RestCalls.kill(job_id))

    def wait(
        self,
        job_id: str,
        *,
        poll_interval: float = 0.5,
        timeout: float = 900.0,
        on_progress: ProgressCallback | None = None,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Poll until the job ends; returns its final status record.
        ``on_progress`` gets each progress answer."""
        deadline = time.monotonic() + timeout
        while True:
            # With a callback, poll the (cheaper) progress and read the status once it ends.
            progress = self.progress(job_id) if on_progress is not None else None
            if progress is not None and on_progress is not None:
                on_progress(progress)
            if progress is None or state_of(progress) in FINISHED_STATES:
                done = _finished(job_id, self.job_status(job_id), raise_on_failure)
                if done is not None:
                    return done
            if time.monotonic() >= deadline:
                raise JobTimeoutError(job_id, timeout)
            time.sleep(poll_interval)

    # --- audio and confirmation ---
    def download(self, job_id_or_filename: str, dest: str | Path | None = None) -> bytes:
        audio = self._send(_RestCalls.output(job_id_or_filename))
        if dest is not None:
            Path(dest).write_bytes(audio)
        return audio

    def confirm_download(self, job_id: str) -> dict[str, Any]:
        return self._send(_RestCalls.confirm_download(job_id))

    def check_download(self, job_id: str) -> dict[str, Any]:
        return self._send(_RestCalls.check_download(job_id))

    def synthesize_async(self, text: str, **kwargs: Any) -> bytes:
        """The whole async flow: submit, wait, download, confirm."""
        wait_kwargs = {k: kwargs.pop(k) for k in ("poll_interval", "timeout", "on_progress") if k in kwargs}
        job_id = job_id_of(self.submit(text, **kwargs))
        self.wait(job_id, **wait_kwargs)
        audio = self.download(job_id)
        self.confirm_download(job_id)
        return audio


class AsyncTTSClient:
    """Asynchronous client (httpx.AsyncClient); the same methods as TTSClient, awaitable."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._owns_client = client is None
        self._http = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=auth_headers(api_key),
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncTTSClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._http.aclose()

    async def _send(self, call: Call, timeout: float | None = None) -> Any:
        kwargs = call.request_kwargs()
        if timeout is not None:
            kwargs["timeout"] = timeout
        return decode(call, await self._http.request(call.method, call.path, **kwargs))

    async def health(self) -> dict[str, Any]:
        return await self._send(_RestCalls.health())

    async def ping(self) -> dict[str, Any]:
        return await self._send(_RestCalls.ping())

    async def server_status(self) -> dict[str, Any]:
        return await self._send(_RestCalls.server_status())

    async def voices(self) -> Any:
        return await self._send(_RestCalls.voices())

    async def synthesize(
        self,
        text: str,
        *,
        ref_name: str | None = None,
        speed: float | None = None,
        job_id: str | None = None,
        timeout: float | None = 600.0,
        **options: Any,
    ) -> bytes:
        body = tts_body(text, ref_name=ref_name, speed=speed, job_id=job_id, is_async=False, options=options)
        return await self._send(_RestCalls.tts(body), timeout=timeout)

    async def submit(
        self,
        text: str,
        *,
        ref_name: str | None = None,
        speed: float | None = None,
        job_id: str | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        body = tts_body(text, ref_name=ref_name, speed=speed, job_id=job_id, is_async=True, options=options)
        return await self._send(_RestCalls.tts(body))

    async def job_status(self, job_id: str) -> dict[str, Any]:
        return await self._send(_RestCalls.job_status(job_id))

    async def progress(self, job_id: str) -> dict[str, Any]:
        return await self._send(_RestCalls.progress(job_id))

    async def kill(self, job_id: str) -> dict[str, Any]:
        return await self._send(_RestCalls.kill(job_id))

    async def wait(
        self,
        job_id: str,
        *,
        poll_interval: float = 0.5,
        timeout: float = 900.0,
        on_progress: Callable[[dict[str, Any]], Awaitable[Any] | Any] | None = None,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            progress = await self.progress(job_id) if on_progress is not None else None
            if progress is not None and on_progress is not None:
                result = on_progress(progress)
                if asyncio.iscoroutine(result):
                    await result
            if progress is None or state_of(progress) in FINISHED_STATES:
                done = _finished(job_id, await self.job_status(job_id), raise_on_failure)
                if done is not None:
                    return done
            if time.monotonic() >= deadline:
                raise JobTimeoutError(job_id, timeout)
            await asyncio.sleep(poll_interval)

    async def download(self, job_id_or_filename: str, dest: str | Path | None = None) -> bytes:
        audio = await self._send(_RestCalls.output(job_id_or_filename))
        if dest is not None:
            await asyncio.to_thread(Path(dest).write_bytes, audio)
        return audio

    async def confirm_download(self, job_id: str) -> dict[str, Any]:
        return await self._send(_RestCalls.confirm_download(job_id))

    async def check_download(self, job_id: str) -> dict[str, Any]:
        return await self._send(_RestCalls.check_download(job_id))

    async def synthesize_async(self, text: str, **kwargs: Any) -> bytes:
        wait_kwargs = {k: kwargs.pop(k) for k in ("poll_interval", "timeout", "on_progress") if k in kwargs}
        job_id = job_id_of(await self.submit(text, **kwargs))
        await self.wait(job_id, **wait_kwargs)
        audio = await self.download(job_id)
        await self.confirm_download(job_id)
        return audio
