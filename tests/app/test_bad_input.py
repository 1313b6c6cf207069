"""Every bad input gets a 4xx JSON error and the server lives on."""

from __future__ import annotations

import pytest

from tests.app.service_process import ServiceProcess

GOOD = {"text": "xin chào"}


def _assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body["error"]) == {"code", "message"} and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"text": ""}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"text": "   \n\t  "}, 422, "invalid_text"),
        ({"text": 12345}, 422, "validation_error"),
        ({"text": None}, 422, "validation_error"),
        ({"text": "a" * 50_001}, 422, "text_too_long"),
        ({**GOOD, "speed": 5}, 422, "validation_error"),
        ({**GOOD, "speed": 0.1}, 422, "validation_error"),
        ({**GOOD, "speed": "fast"}, 422, "validation_error"),
        ({**GOOD, "nfe_step": 0}, 422, "validation_error"),
        ({**GOOD, "nfe_step": 100_000}, 422, "validation_error"),
        ({**GOOD, "cfg_strength": -1}, 422, "validation_error"),
        ({**GOOD, "seed": -5}, 422, "validation_error"),
        ({**GOOD, "seed": 2**70}, 422, "validation_error"),
        ({**GOOD, "format": "exe"}, 422, "validation_error"),
        ({**GOOD, "ref_name": "không_có_giọng_này"}, 404, "voice_not_found"),
        ({**GOOD, "ref_name": "../voices/main.wav"}, 400, "invalid_name"),
        ({**GOOD, "ref_name": "../../etc/passwd"}, 400, "invalid_name"),
        ({**GOOD, "ref_name": "/etc/passwd"}, 400, "invalid_name"),
        ({**GOOD, "ref_name": "sample/../main"}, 400, "invalid_name"),
        ({**GOOD, "ref_name": "..\\main"}, 400, "invalid_name"),
        ({**GOOD, "ref_name": ".hidden"}, 400, "invalid_name"),
        ({**GOOD, "ref_name": "x" * 300}, 422, "validation_error"),
        ({**GOOD, "ref_name": "no_transcript"}, 422, "voice_transcript_missing"),
        ({**GOOD, "ref_name": "broken"}, 422, "invalid_reference_audio"),
        ({**GOOD, "job_id": "../../etc/passwd"}, 422, "validation_error"),
        ({**GOOD, "job_id": "a/b"}, 422, "validation_error"),
        ({**GOOD, "job_id": ".hidden"}, 422, "validation_error"),
        ({**GOOD, "job_id": ""}, 422, "validation_error"),
        ({**GOOD, "webhook_url": "http://127.0.0.1:9/hook"}, 400, "webhook_not_allowed"),
    ],
)
def test_bad_tts_requests_are_refused(service: ServiceProcess, body: dict, status: int, code: str) -> None:
    with service.client() as client:
        _assert_error(client.post("/tts", json=body), status, code)
        _assert_error(client.post("/tts", json={**body, "async": True}), status, code)


def test_refused_requests_leave_no_job_behind(service: ServiceProcess) -> None:
    with service.client() as client:
        _assert_error(client.post("/tts", json={"text": "xin chào", "ref_name": "nope", "job_id": "refused-1"}), 404)
        _assert_error(client.get("/tts/status/refused-1"), 404, "job_not_found")


def test_a_voice_without_transcript_works_with_ref_text(service: ServiceProcess) -> None:
    with service.client() as client:
        response = client.post(
            "/tts",
            json={
                "text": "xin chào",
                "ref_name": "no_transcript",
                "ref_text": "hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé.",
            },
        )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b'{"text": "xin chao"', 400, "invalid_json"),
        (b"not json at all", 400, "invalid_json"),
        (b"[1, 2, 3]", 422, "validation_error"),
        (b'"just a string"', 422, "validation_error"),
        (b"", 422, "validation_error"),
        ('{"text": "\udcff"}'.encode("utf-8", "surrogatepass"), 422, "validation_error"),
    ],
)
def test_malformed_bodies_are_refused(service: ServiceProcess, content: bytes, status: int, code: str) -> None:
    with service.client() as client:
        response = client.post("/tts", content=content, headers={"Content-Type": "application/json"})
    _assert_error(response, status, code)


def test_a_body_over_the_limit_is_refused_before_parsing(service: ServiceProcess) -> None:
    huge = b'{"text": "' + b"a" * (1_048_576 + 10) + b'"}'
    with service.client() as client:
        _assert_error(
            client.post("/tts", content=huge, headers={"Content-Type": "application/json"}), 413, "payload_too_large"
        )

        def chunked():  # no Content-Length: the limit still holds
            for _ in range(20):
                yield b"a" * 100_000

        _assert_error(
            client.post("/tts", content=chunked(), headers={"Content-Type": "application/json"}),
            413,
            "payload_too_large",
        )


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/tts/status/no-such-job", 404, "job_not_found"),
        ("GET", "/tts/progress/no-such-job", 404, "job_not_found"),
        ("POST", "/tts/kill/no-such-job", 404, "job_not_found"),
        ("DELETE", "/tts/no-such-job", 404, "job_not_found"),
        ("POST", "/confirm-download/no-such-job", 404, "job_not_found"),
        ("GET", "/check-download/no-such-job", 404, "job_not_found"),
        ("GET", "/tts/status/%2E%2E", 400, "invalid_name"),
        ("GET", "/tts/status/.hidden", 400, "invalid_name"),
        ("GET", "/output/no-such-file.wav", 404, "output_not_found"),
        ("GET", "/output/%2E%2E", 400, "invalid_name"),
        ("GET", "/output/.partial-abc.wav", 400, "invalid_name"),
        ("GET", "/output/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 404, None),
        ("GET", "/output/..%2F..%2Fetc%2Fpasswd", 404, None),
        ("GET", "/output/..%5C..%5Cetc%5Cpasswd", 400, "invalid_name"),
        ("GET", "/voices/..%2F..%2Fetc%2Fpasswd/audio", 404, None),
        ("GET", "/voices/.hidden/audio", 400, "invalid_name"),
        ("GET", "/voices/nope/audio", 404, "voice_not_found"),
        ("GET", "/no/such/route", 404, "not_found"),
        ("PUT", "/tts", 405, "method_not_allowed"),
    ],
)
def test_bad_paths_and_unknown_ids_are_refused(
    service: ServiceProcess, method: str, path: str, status: int, code: str | None
) -> None:
    with service.client() as client:
        response = client.request(method, path)
    _assert_error(response, status, code)
    assert b"root:" not in response.content


def test_a_job_that_is_not_finished_has_no_download_to_confirm(service: ServiceProcess) -> None:
    with service.client() as client:
        accepted = client.post(
            "/tts", json={"text": "xin chào các bạn", "async": True, "job_id": "confirm-early", "nfe_step": 64}
        )
        assert accepted.status_code == 200
        early = client.post("/confirm-download/confirm-early")
        if client.get("/tts/status/confirm-early").json()["status"] != "completed":
            _assert_error(early, 409, "output_not_ready")
        client.post("/tts/kill/confirm-early")


def test_the_server_is_alive_after_all_of_it(service: ServiceProcess) -> None:
    with service.client() as client:
        assert client.get("/health").json()["status"] == "ok"
        assert client.post("/tts", json=GOOD).status_code == 200
    assert service.process is not None and service.process.poll() is None
