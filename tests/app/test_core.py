"""Settings, API key checks, errors, the text front-end and logging."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.errors import (
    InvalidTextError,
    JobCancelledError,
    JobTimeoutError,
    SynthesisFailedError,
    UnauthorizedError,
    error_from_code,
)
from app.core.logging import JsonFormatter
from app.core.security import check_api_key
from app.services.text_frontend import BasicTextFrontend


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None)
    assert settings.port == 8000 and settings.host == "0.0.0.0"
    assert settings.model_checkpoint == "hf://hynt/F5-TTS-Vietnamese-ViVoice/model_last.pt"
    assert settings.model_vocab == "hf://hynt/F5-TTS-Vietnamese-ViVoice/config.json"
    assert settings.model_vocoder == "charactr/vocos-mel-24khz" and settings.model_arch == "F5TTS_Base"
    assert settings.voices_dir == tmp_path / "voices" and settings.output_dir == tmp_path / "outputs"
    assert settings.database_path == tmp_path / "data" / "jobs.sqlite3"
    assert settings.api_key is None and settings.demo is False
    assert settings.job_timeout_seconds == 3600 and settings.confirmed_retention_seconds == 600
    assert settings.output_ttl_seconds == 86_400 and settings.webhook_allow_per_request is False


def test_settings_read_the_environment_and_the_old_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REF_VOICE_DIR", str(tmp_path / "sample"))
    monkeypatch.setenv("OUTPUT_AUDIO_DIR", str(tmp_path / "output"))
    monkeypatch.setenv("NEXTJS_WEBHOOK_URL", "http://frontend/api/runpod-webhook")
    monkeypatch.setenv("F5TTS_DEMO", "1")
    monkeypatch.setenv("PORT", "7860")
    monkeypatch.setenv("API_KEY", "")
    monkeypatch.setenv("MAX_BATCH_ITEMS", "4")
    settings = Settings(_env_file=None)
    assert settings.voices_dir == tmp_path / "sample" and settings.output_dir == tmp_path / "output"
    assert settings.webhook_url == "http://frontend/api/runpod-webhook"
    assert settings.demo is True and settings.port == 7860 and settings.max_batch_items == 4
    assert settings.api_key is None  # empty means no key, not an empty key


def test_settings_refuse_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BATCH_ITEMS", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


def test_api_key_check() -> None:
    check_api_key(None, None, None)  # no key configured: open
    check_api_key("k", "k", None)
    check_api_key("k", None, "k")
    check_api_key("k", "wrong", "k")
    for bearer, header in ((None, None), ("wrong", None), (None, "K"), ("k ", None), ("", "")):
        with pytest.raises(UnauthorizedError):
            check_api_key("k", bearer, header)
    check_api_key("khóa-bí-mật", "khóa-bí-mật", None)  # non-ASCII keys compare as UTF-8


def test_stored_error_codes_come_back_as_the_same_errors() -> None:
    assert isinstance(error_from_code("invalid_text", "m"), InvalidTextError)
    assert isinstance(error_from_code("job_cancelled", "m"), JobCancelledError)
    assert isinstance(error_from_code("job_timeout", "m"), JobTimeoutError)
    assert error_from_code("job_timeout", "m").status_code == 504
    unknown = error_from_code("something_new", "m")
    assert isinstance(unknown, SynthesisFailedError) and unknown.message == "m"


def test_text_frontend() -> None:
    frontend = BasicTextFrontend()
    # Decomposed "Việt" (NFD) becomes the composed form.
    assert frontend.normalize("  Xin   CHÀO\n\tVie\u0323\u0302t Nam\u200b ") == "xin chào việt nam"
    assert frontend.normalize("\x00\x07 \n") == ""


def test_json_log_lines_carry_the_extra_fields() -> None:
    record = logging.LogRecord("app.jobs", logging.INFO, __file__, 1, "job.completed", None, None)
    record.job_id = "j1"
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "job.completed" and line["job_id"] == "j1" and line["level"] == "info"
