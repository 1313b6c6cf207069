"""Every bad upload and every path-like voice name: a 4xx JSON error, nothing written, server alive."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.app.service_process import SHIPPED_VOICES, ServiceProcess
from tests.app.voices.clips import encode, silence_wav, speech, speech_wav
from tests.app.voices.conftest import UPLOAD_LIMIT, assert_error, upload


def _voice_files(server: ServiceProcess) -> set[str]:
    return {path.name for path in server.voices_dir.iterdir()}


@pytest.mark.parametrize(
    ("audio", "status", "code", "message_part"),
    [
        (b"this is not audio at all " * 200, 422, "audio_unreadable", "decoded"),
        (b"", 422, "audio_unreadable", "empty"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, 422, "audio_unreadable", "decoded"),
        (speech_wav(0.5), 422, "audio_too_short", "at least 1 s"),
        (speech_wav(31.0, rate=8_000), 422, "audio_too_long", "30 s"),
        (silence_wav(3.0), 422, "audio_silent", "silent"),
        (encode(speech(3.0) * 0.00001, 24_000, subtype="FLOAT"), 422, "audio_silent", "silent"),
        # Over VOICE_MAX_UPLOAD_BYTES, under the body limit of the route: refused by the check.
        (b"\x00" * (UPLOAD_LIMIT + 1_000), 413, "payload_too_large", "VOICE_MAX_UPLOAD_BYTES"),
    ],
    ids=["not-audio", "empty", "truncated-wav", "too-short", "too-long", "silent", "near-silent", "too-big"],
)
def test_bad_audio_is_refused(
    client: httpx.Client, voices_server: ServiceProcess, audio: bytes, status: int, code: str, message_part: str
) -> None:
    before = _voice_files(voices_server)
    error = assert_error(upload(client, "bad_clip", audio, "xin chào."), status, code)
    assert message_part in error["message"] and "bad_clip" in error["message"]
    assert _voice_files(voices_server) == before


def test_a_body_over_the_upload_limit_is_refused_before_parsing(
    client: httpx.Client, voices_server: ServiceProcess
) -> None:
    before = _voice_files(voices_server)
    # The route's body limit: VOICE_MAX_UPLOAD_BYTES + 64 KiB, and never below MAX_BODY_BYTES (1 MiB).
    huge = b"\x00" * (1_048_576 + 1_000)
    assert_error(upload(client, "huge", huge, "xin chào."), 413, "payload_too_large")

    def chunked():  # no Content-Length
        for _ in range(20):
            yield b"a" * 100_000

    response = client.post("/voices", content=chunked(), headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert_error(response, 413, "payload_too_large")
    assert _voice_files(voices_server) == before
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "..",
        "a/b",
        "/etc/passwd",
        "..\\evil",
        ".hidden",
        "",
        " ",
        "x.wav",
        "x.TXT",
        "x\x00y",
        "giọng_nữ",  # non-ASCII names are refused for new voices
        "a" * 65,
        "a b",
        "x\u202egnp",  # right-to-left override
        "\uff0fetc",  # fullwidth solidus
        "a..b",
        "-start",
    ],
)
def test_bad_names_are_refused(client: httpx.Client, voices_server: ServiceProcess, name: str) -> None:
    before = _voice_files(voices_server)
    response = upload(client, name, speech_wav(2.0), "xin chào.")
    if name.strip() == "":
        assert response.status_code in (400, 422), response.text  # empty form field: a schema error or a bad name
        assert response.json()["error"]["code"] in ("invalid_name", "validation_error")
    else:
        assert_error(response, 400, "invalid_name")
    assert _voice_files(voices_server) == before


def test_missing_parts_and_bad_transcripts(client: httpx.Client, voices_server: ServiceProcess) -> None:
    before = _voice_files(voices_server)
    assert_error(client.post("/voices", data={"name": "x"}), 422, "validation_error")
    assert_error(client.post("/voices", files={"audio": ("a.wav", speech_wav(2.0))}), 422, "validation_error")
    assert_error(client.post("/voices", json={"name": "x", "audio": "abc"}), 422, "validation_error")
    assert_error(upload(client, "long_text", speech_wav(2.0), "chữ " * 600), 400, "invalid_request")
    bad_flag = client.post(
        "/voices", data={"name": "bad_flag", "overwrite": "maybe"}, files={"audio": ("a.wav", speech_wav(2.0))}
    )
    assert_error(bad_flag, 422, "validation_error")
    assert _voice_files(voices_server) == before


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/voices/%2E%2E", 400, "invalid_name"),
        ("/voices/.hidden", 400, "invalid_name"),
        ("/voices/%00", 400, "invalid_name"),
        ("/voices/main%00.wav", 400, "invalid_name"),
        ("/voices/%EF%BC%8Fetc%EF%BC%8Fpasswd", 400, "invalid_name"),
        ("/voices/main%E2%80%AE", 400, "invalid_name"),
        ("/voices/..%5Cmain", 400, "invalid_name"),
        ("/voices/%2Fetc%2Fpasswd", 404, "not_found"),
        ("/voices/..%2F..%2Fetc%2Fpasswd", 404, "not_found"),
        ("/voices/nobody", 404, "voice_not_found"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE", "GET-audio"])
def test_path_like_names_never_leave_the_folder(
    client: httpx.Client, voices_server: ServiceProcess, path: str, status: int, code: str, method: str
) -> None:
    before = _voice_files(voices_server)
    response = client.get(path + "/audio") if method == "GET-audio" else client.request(method, path)
    assert_error(response, status, code)  # not_found: a slash in the name matches no route
    assert _voice_files(voices_server) == before


def test_symlinks_out_of_the_folder_are_not_voices(
    client: httpx.Client, voices_server: ServiceProcess, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.wav"
    outside.write_bytes((SHIPPED_VOICES / "main.wav").read_bytes())
    (tmp_path / "outside.txt").write_text("bí mật.", encoding="utf-8")
    link = voices_server.voices_dir / "escape.wav"
    link.symlink_to(outside)
    text_link = voices_server.voices_dir / "giong_nam_copy.txt"
    (voices_server.voices_dir / "giong_nam_copy.wav").write_bytes((SHIPPED_VOICES / "giong_nam.wav").read_bytes())
    text_link.symlink_to(tmp_path / "outside.txt")
    try:
        for name in ("escape", "giong_nam_copy"):
            assert_error(client.get(f"/voices/{name}"), 400, "invalid_name")
            assert_error(client.get(f"/voices/{name}/audio"), 400, "invalid_name")
            assert_error(client.delete(f"/voices/{name}"), 400, "invalid_name")
            assert_error(client.post("/tts", json={"text": "xin chào", "ref_name": name}), 400, "invalid_name")
        listed = {v["name"] for v in client.get("/voices").json()["voices"]}
        assert "escape" not in listed and "giong_nam_copy" not in listed
        assert outside.exists() and (tmp_path / "outside.txt").exists()
        # Uploading over the link replaces the link itself, never the file it points to.
        assert_error(upload(client, "escape", speech_wav(2.0), "xin chào."), 409, "voice_exists")
        assert upload(client, "escape", speech_wav(2.0), "xin chào.", overwrite=True).status_code == 201
        assert not link.is_symlink() and outside.read_bytes() == (SHIPPED_VOICES / "main.wav").read_bytes()
        assert client.delete("/voices/escape").status_code == 200 and outside.exists()
    finally:
        for path in (link, text_link, voices_server.voices_dir / "giong_nam_copy.wav"):
            path.unlink(missing_ok=True)
