"""Clients for a RunPod serverless endpoint running our worker (docs/runpod.md):
``RunPodTTSClient`` (sync) and ``AsyncRunPodTTSClient`` (asyncio).

``base_url`` is ``https://api.runpod.ai/v2/<ENDPOINT_ID>`` in production, or the
SDK's local test server (``python -m app.serverless --rp_serve_api``), e.g.
``http://127.0.0.1:8010``. The flow: ``run`` -> ``wait`` (``/status``) ->
``fetch_audio`` (``audio_base64``, else ``audio_url``, else ``download_url``) ->
``confirm`` (POST ``confirmation_url``, so the worker may stop early).

Two keys: ``api_key`` for RunPod, ``service_api_key`` for the worker's own
service (the ``API_KEY`` of the container), sent to ``download_url`` and
``confirmation_url`` only. Presigned ``audio_url`` links get no header at all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from app.client._common import DEFAULT_TIMEOUT, RUNPOD_FINISHED, auth_headers, b64decode_audio, error_from_response
from app.client.errors import JobFailedError, JobTimeoutError, NoAudioError

StatusCallback = Callable[[dict[str, Any]], Any]
# The local test server runs the whole job inside the /status call.
_STATUS_TIMEOUT = httpx.Timeout(900.0, connect=10.0)


def tts_input(
    text: str,
    *,
    ref_name: str | None = None,
    speed: float | None = None,
    job_id: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The handler's input (app/serverless/schemas.py)."""
    payload: dict[str, Any] = {"text": text}
    if ref_name is not None:
        payload["ref_name"] = ref_name
    if speed is not None:
        payload["speed"] = speed
    if job_id is not None:
        payload["job_id"] = job_id
    payload.update({key: value for key, value in options.items() if value is not None})
    return payload


def _check(response: httpx.Response) -> Any:
    if not response.is_success:
        raise error_from_response(response)
    return response.json() if response.content else {}


def _final(status: dict[str, Any], raise_on_failure: bool) -> dict[str, Any] | None:
    state = str(status.get("status", "")).upper()
    if state not in RUNPOD_FINISHED:
        return None
    if state != "COMPLETED" and raise_on_failure:
        raise JobFailedError(str(status.get("id", "?")), state, status.get("error"))
    return status


def _audio_source(output: dict[str, Any]) -> tuple[str, str]:
    """('base64', data) | ('presigned', url) | ('worker', url)."""
    if output.get("audio_base64"):
        return "base64", output["audio_base64"]
    if output.get("audio_url"):
        return "presigned", output["audio_url"]
    if output.get("download_url"):
        return "worker", output["download_url"]
    raise NoAudioError(f"no audio in output: keys {sorted(output)}")


class RunPodTTSClient:
    """Synchronous RunPod client."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        service_api_key: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=auth_headers(api_key), timeout=self._timeout, transport=transport
        )
        # Worker URLs and presigned links: never RunPod's key.
        self._plain = httpx.Client(timeout=self._timeout, transport=transport, follow_redirects=True)
        self._service_headers = auth_headers(service_api_key)
        self._status_method = "GET"

    def __enter__(self) -> RunPodTTSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._plain.close()

    def run(self, payload: dict[str, Any], *, webhook: str | None = None) -> dict[str, Any]:
        """POST /run: ``{"id", "status"}`` at once."""
        body: dict[str, Any] = {"input": payload}
        if webhook:
            body["webhook"] = webhook
        return _check(self._http.post("/run", json=body))

    def runsync(self, payload: dict[str, Any], *, timeout: float | None = 600.0) -> dict[str, Any]:
        """POST /runsync: the finished job, or (RunPod, long jobs) one still IN_PROGRESS."""
        return _check(self._http.post("/runsync", json={"input": payload}, timeout=timeout))

    def status(self, job_id: str) -> dict[str, Any]:
        """/status/<id>. RunPod answers GET; the SDK's local test server only POST
        (and runs the job inside that call): a 405 switches methods once."""
        method = self._status_method
        response = self._http.request(method, f"/status/{job_id}", timeout=_STATUS_TIMEOUT)
        if response.status_code == 405:
            self._status_method = other = "POST" if method == "GET" else "GET"
            response = self._http.request(other, f"/status/{job_id}", timeout=_STATUS_TIMEOUT)
        return _check(response)

    def cancel(self, job_id: str) -> dict[str, Any]:
        return _check(self._http.post(f"/cancel/{job_id}"))

    def wait(
        self,
        job_id: str,
        *,
        poll_interval: float = 1.0,
        timeout: float = 900.0,
        on_status: StatusCallback | None = None,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Poll /status until COMPLETED (returned) or FAILED/CANCELLED/TIMED_OUT (raised).
        While IN_PROGRESS, ``output`` holds the worker's progress report."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(job_id)
            if on_status is not None:
                on_status(status)
            done = _final(status, raise_on_failure)
            if done is not None:
                return done
            if time.monotonic() >= deadline:
                raise JobTimeoutError(job_id, timeout)
            time.sleep(poll_interval)

    def fetch_audio(self, output: dict[str, Any]) -> bytes:
        kind, where = _audio_source(output)
        if kind == "base64":
            return b64decode_audio(where)
        headers = self._service_headers if kind == "worker" else None
        response = self._plain.get(where, headers=headers)
        if not response.is_success:
            raise error_from_response(response)
        return response.content

    def confirm(self, output: dict[str, Any]) -> dict[str, Any] | None:
        """POST confirmation_url (no body). None when the output has none."""
        url = output.get("confirmation_url")
        if not url:
            return None
        return _check(self._plain.post(url, headers=self._service_headers))

    def synthesize(
        self,
        text: str,
        *,
        poll_interval: float = 1.0,
        timeout: float = 900.0,
        on_status: StatusCallback | None = None,
        **input_fields: Any,
    ) -> tuple[bytes, dict[str, Any]]:
        """run -> wait -> fetch -> confirm. Returns (wav bytes, output)."""
        submitted = self.run(tts_input(text, **input_fields))
        final = self.wait(submitted["id"], poll_interval=poll_interval, timeout=timeout, on_status=on_status)
        output = final.get("output") or {}
        audio = self.fetch_audio(output)
        self.confirm(output)
        return audio, output


class AsyncRunPodTTSClient:
    """Asynchronous RunPod client; the same methods as RunPodTTSClient, awaitable."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        service_api_key: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=auth_headers(api_key), timeout=self._timeout, transport=transport
        )
        self._plain = httpx.AsyncClient(timeout=self._timeout, transport=transport, follow_redirects=True)
        self._service_headers = auth_headers(service_api_key)
        self._status_method = "GET"

    async def __aenter__(self) -> AsyncRunPodTTSClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._plain.aclose()

    async def run(self, payload: dict[str, Any], *, webhook: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"input": payload}
        if webhook:
            body["webhook"] = webhook
        return _check(await self._http.post("/run", json=body))

    async def runsync(self, payload: dict[str, Any], *, timeout: float | None = 600.0) -> dict[str, Any]:
        return _check(await self._http.post("/runsync", json={"input": payload}, timeout=timeout))

    async def status(self, job_id: str) -> dict[str, Any]:
        method = self._status_method
        response = await self._http.request(method, f"/status/{job_id}", timeout=_STATUS_TIMEOUT)
        if response.status_code == 405:
            self._status_method = other = "POST" if method == "GET" else "GET"
            response = await self._http.request(other, f"/status/{job_id}", timeout=_STATUS_TIMEOUT)
        return _check(response)

    async def cancel(self, job_id: str) -> dict[str, Any]:
        return _check(await self._http.post(f"/cancel/{job_id}"))

    async def wait(
        self,
        job_id: str,
        *,
        poll_interval: float = 1.0,
        timeout: float = 900.0,
        on_status: StatusCallback | None = None,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status(job_id)
            if on_status is not None:
                result = on_status(status)
                if asyncio.iscoroutine(result):
                    await result
            done = _final(status, raise_on_failure)
            if done is not None:
                return done
            if time.monotonic() >= deadline:
                raise JobTimeoutError(job_id, timeout)
            await asyncio.sleep(poll_interval)

    async def fetch_audio(self, output: dict[str, Any]) -> bytes:
        kind, where = _audio_source(output)
        if kind == "base64":
            return b64decode_audio(where)
        headers = self._service_headers if kind == "worker" else None
        response = await self._plain.get(where, headers=headers)
        if not response.is_success:
            raise error_from_response(response)
        return response.content

    async def confirm(self, output: dict[str, Any]) -> dict[str, Any] | None:
        url = output.get("confirmation_url")
        if not url:
            return None
        return _check(await self._plain.post(url, headers=self._service_headers))

    async def synthesize(
        self,
        text: str,
        *,
        poll_interval: float = 1.0,
        timeout: float = 900.0,
        on_status: StatusCallback | None = None,
        **input_fields: Any,
    ) -> tuple[bytes, dict[str, Any]]:
        submitted = await self.run(tts_input(text, **input_fields))
        final = await self.wait(submitted["id"], poll_interval=poll_interval, timeout=timeout, on_status=on_status)
        output = final.get("output") or {}
        audio = await self.fetch_audio(output)
        await self.confirm(output)
        return audio, output
