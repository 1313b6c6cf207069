"""GET/POST/DELETE /voices over real HTTP: listing, details, audio, uploads, deletion, auth."""

from __future__ import annotations

import httpx
import pytest
import soundfile as sf

from tests.app.service_process import TEST_NFE_STEP, ServiceProcess
from tests.app.voices.clips import encode, speech, speech_wav
from tests.app.voices.conftest import API_KEY, assert_error, upload


def test_list_keeps_the_seed_shape_and_adds_transcribed(client: httpx.Client) -> None:
    body = client.get("/voices").json()
    assert set(body) == {"voices", "samples", "default", "count"}
    assert body["default"] == "main" and body["count"] == len(body["voices"]) == len(body["samples"])
    main = next(v for v in body["voices"] if v["name"] == "main")
    assert set(main) == {"name", "filename", "has_transcript", "transcript", "transcribed", "duration", "sample_rate"}
    assert main["filename"] == "main.wav" and main["has_transcript"] and main["transcribed"] is False
    assert main["transcript"].startswith("xin chào") and main["sample_rate"] == 24000 and 5 < main["duration"] < 6


@pytest.mark.parametrize("name", ["main", "main.wav", "sample%2Fmain.wav"])
def test_one_voice_by_any_of_its_names(client: httpx.Client, name: str) -> None:
    response = client.get(f"/voices/{name}")
    if "%2F" in name:  # a slash is no path segment of the route: not this endpoint
        assert_error(response, 404, "not_found")
        return
    body = response.json()
    assert response.status_code == 200, body
    assert body["name"] == "main" and body["is_default"] is True and body["media_type"] == "audio/wav"
    assert body["audio_url"] == "/voices/main/audio" and body["size_bytes"] > 100_000


def test_upload_listen_use_and_delete(client: httpx.Client, voices_server: ServiceProcess) -> None:
    clip = speech_wav(4.0, rate=16_000)
    created = upload(client, "nu_moi", clip, "  Hôm nay trời đẹp,\n chúng ta cùng nhau đi dạo quanh hồ nhé. ")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "nu_moi" and body["filename"] == "nu_moi.wav" and body["is_default"] is False
    assert body["transcript"] == "Hôm nay trời đẹp, chúng ta cùng nhau đi dạo quanh hồ nhé."
    assert body["transcribed"] is False and body["sample_rate"] == 16000 and body["duration"] == pytest.approx(4.0)
    stored = voices_server.voices_dir / "nu_moi.wav"
    info = sf.info(stored)
    assert (info.format, info.subtype, info.channels) == ("WAV", "PCM_16", 1)
    assert (voices_server.voices_dir / "nu_moi.txt").read_text(encoding="utf-8").strip() == body["transcript"]

    assert any(v["name"] == "nu_moi" for v in client.get("/voices").json()["voices"])
    assert client.get("/voices/nu_moi").json() == body
    audio = client.get("/voices/nu_moi.wav/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == stored.read_bytes()

    spoken = client.post("/tts", json={"text": "xin chào", "ref_name": "sample/nu_moi.wav", "nfe_step": TEST_NFE_STEP})
    assert spoken.status_code == 200, spoken.text

    deleted = client.delete("/voices/nu_moi")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"name": "nu_moi", "deleted": True, "files": ["nu_moi.wav", "nu_moi.txt"]}
    assert not stored.exists() and not (voices_server.voices_dir / "nu_moi.txt").exists()
    # Deleted, then used: 404 everywhere.
    assert_error(client.post("/tts", json={"text": "xin chào", "ref_name": "nu_moi"}), 404, "voice_not_found")
    assert_error(client.post("/normalize", json={"text": "xin chào", "ref_name": "nu_moi"}), 404, "voice_not_found")
    assert_error(client.get("/voices/nu_moi"), 404, "voice_not_found")
    assert_error(client.get("/voices/nu_moi/audio"), 404, "voice_not_found")
    assert_error(client.delete("/voices/nu_moi"), 404, "voice_not_found")
    assert all(v["name"] != "nu_moi" for v in client.get("/voices").json()["voices"])


@pytest.mark.parametrize(
    ("fmt", "subtype", "filename"), [("FLAC", None, "a.flac"), ("OGG", "VORBIS", "a.ogg"), ("MP3", None, "a.mp3")]
)
def test_flac_ogg_and_mp3_uploads_are_stored_as_wav(
    client: httpx.Client, voices_server: ServiceProcess, fmt: str, subtype: str | None, filename: str
) -> None:
    name = f"fmt_{fmt.lower()}"
    response = upload(
        client, name, encode(speech(3.0, 44_100), 44_100, fmt, subtype), "xin chào các bạn.", filename=filename
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == f"{name}.wav" and response.json()["sample_rate"] == 44100
    assert sf.info(voices_server.voices_dir / f"{name}.wav").format == "WAV"
    assert client.delete(f"/voices/{name}").status_code == 200


def test_voices_on_disk_in_other_formats_are_served_with_their_type(
    client: httpx.Client, voices_server: ServiceProcess
) -> None:
    (voices_server.voices_dir / "disk_ogg.ogg").write_bytes(encode(speech(3.0), 24_000, "OGG", "VORBIS"))
    (voices_server.voices_dir / "disk_ogg.txt").write_text("xin chào các bạn.", encoding="utf-8")
    try:
        listed = {v["name"]: v for v in client.get("/voices").json()["voices"]}
        assert listed["disk_ogg"]["filename"] == "disk_ogg.ogg"
        audio = client.get("/voices/disk_ogg.ogg/audio")
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/ogg"
        spoken = client.post("/tts", json={"text": "xin chào", "ref_name": "disk_ogg", "nfe_step": TEST_NFE_STEP})
        assert spoken.status_code == 200, spoken.text
    finally:
        assert client.delete("/voices/disk_ogg").json()["files"] == ["disk_ogg.ogg", "disk_ogg.txt"]


def test_a_duplicate_is_refused_unless_overwrite(client: httpx.Client, voices_server: ServiceProcess) -> None:
    assert upload(client, "dup", speech_wav(3.0), "xin chào.").status_code == 201
    assert_error(upload(client, "dup", speech_wav(5.0), "khác."), 409, "voice_exists")
    assert_error(upload(client, "dup", speech_wav(5.0), "khác.", overwrite=False), 409, "voice_exists")
    assert client.get("/voices/dup").json()["transcript"] == "xin chào."
    replaced = upload(client, "dup", speech_wav(5.0), "giọng mới.", overwrite=True)
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["transcript"] == "giọng mới." and replaced.json()["duration"] == pytest.approx(5.0)
    # A clip on disk in another format counts as the same voice, and overwriting replaces it.
    (voices_server.voices_dir / "dup2.flac").write_bytes(encode(speech(3.0), 24_000, "FLAC"))
    assert_error(upload(client, "dup2", speech_wav(3.0), "xin chào."), 409, "voice_exists")
    assert upload(client, "dup2", speech_wav(3.0), "xin chào.", overwrite=True).status_code == 201
    assert not (voices_server.voices_dir / "dup2.flac").exists()
    for name in ("dup", "dup2"):
        assert client.delete(f"/voices/{name}").status_code == 200


def test_the_default_voice_is_protected(client: httpx.Client, voices_server: ServiceProcess) -> None:
    error = assert_error(client.delete("/voices/main.wav"), 403, "voice_protected")
    assert "ALLOW_DELETE_DEFAULT_VOICE" in error["message"]
    assert (voices_server.voices_dir / "main.wav").exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/voices"),
        ("GET", "/voices/main"),
        ("GET", "/voices/main/audio"),
        ("POST", "/voices"),
        ("DELETE", "/voices/giong_nam"),
        ("POST", "/normalize"),
    ],
)
def test_voice_endpoints_need_the_key(voices_server: ServiceProcess, method: str, path: str) -> None:
    extra = {"files": {"audio": ("a.wav", speech_wav(2.0))}, "data": {"name": "x"}} if path == "/voices" else {}
    with voices_server.client() as anonymous:
        for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
            assert_error(anonymous.request(method, path, headers=headers, **extra), 401, "unauthorized")
    assert (voices_server.voices_dir / "giong_nam.wav").exists()
    assert not (voices_server.voices_dir / "x.wav").exists()
    with voices_server.client(headers={"X-API-Key": API_KEY}) as keyed:
        assert keyed.get("/voices/giong_nam").status_code == 200


def test_openapi_documents_the_new_endpoints_with_examples(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, method, code in [
        ("/voices", "get", "200"),
        ("/voices/{name}", "get", "200"),
        ("/voices/{name}", "delete", "200"),
        ("/voices", "post", "201"),
        ("/normalize", "post", "200"),
    ]:
        operation = spec["paths"][path][method]
        assert operation["summary"], (path, method)
        ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert schemas[ref]["examples"], (path, method)
        for status in ("401",):
            assert status in operation["responses"], (path, method)
    upload_form = spec["paths"]["/voices"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_form
    form_schema = schemas[upload_form["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]]
    assert {"name", "audio"} <= set(form_schema["required"]) and form_schema["properties"]["name"]["examples"]
    assert schemas["NormalizeRequest"]["examples"]
    tts_examples = schemas["TTSRequest"]["examples"]
    assert any("ref_audio_base64" in example for example in tts_examples)
    assert any("extra_lexicon" in example for example in tts_examples)
    assert "ref_audio_base64" in schemas["TTSRequest"]["properties"]
