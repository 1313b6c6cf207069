"""The TextFrontend facade the service uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.text import (
    TextFrontend,
    TextFrontendError,
    VinormError,
    VinormNotInstalledError,
    VinormRunner,
)
from tests.app.text.conftest import NEWS


def test_skip_normalization_only_nfc_whitespace_lower(frontend: TextFrontend) -> None:
    text = "  Giá   iPhone 15 là $999,\tTIE\u0302\u0301NG Việt!  "
    assert frontend.normalize(text, skip_normalization=True) == "giá iphone 15 là $999, tiếng việt!"
    # The lexicon is part of normalization: skipped too.
    assert frontend.normalize("AI", skip_normalization=True, extra_lexicon={"AI": "ây ai"}) == "ai"


def test_skip_normalization_does_not_run_the_engine(tmp_path: Path) -> None:
    class Exploding(VinormRunner):
        def normalize_many(self, texts):  # type: ignore[override]
            raise AssertionError("engine used")

    frontend = TextFrontend(tmp_path / "none.tsv", runner=Exploding())
    assert frontend.normalize("Số 5", skip_normalization=True) == "số 5"


def test_normalize_many_matches_normalize_and_uses_one_engine_call(tmp_path: Path) -> None:
    runner = VinormRunner()
    frontend = TextFrontend(runner=runner, cache_size=0)
    batch = frontend.normalize_many(NEWS)
    assert runner.calls == 1
    assert batch == [frontend.normalize(t) for t in NEWS]


def test_repeated_sentences_are_served_from_the_cache() -> None:
    runner = VinormRunner()
    frontend = TextFrontend(runner=runner)
    first = frontend.normalize("Giọng đọc mẫu số 3, ghi âm năm 2024.")
    calls = runner.calls
    assert frontend.normalize("Giọng đọc mẫu số 3, ghi âm năm 2024.") == first
    assert runner.calls == calls
    # A text sharing a sentence only sends the new one.
    frontend.normalize("Giọng đọc mẫu số 3, ghi âm năm 2025.")
    assert runner.calls == calls + 1


def test_empty_and_unspeakable_text_gives_empty_string(frontend: TextFrontend) -> None:
    assert frontend.normalize("") == ""
    assert frontend.normalize(" 😀 \u200b ... ") == ""


def test_usable_where_the_service_expects_a_plain_normalize(frontend: TextFrontend) -> None:
    # app.services.text_frontend.TextFrontend is a Protocol with normalize(text) -> str.
    assert frontend.normalize("Ngày 2/9.") == "ngày hai tháng chín."


def test_check_runs_the_engine(frontend: TextFrontend) -> None:
    frontend.check()


def test_errors_carry_their_http_mapping() -> None:
    assert issubclass(VinormNotInstalledError, VinormError)
    assert issubclass(VinormError, TextFrontendError)
    assert (VinormError.status_code, VinormNotInstalledError.code) == (503, "normalizer_unavailable")
    err = VinormError("boom")
    assert err.message == "boom" and str(err) == "boom"


def test_broken_lexicon_file_fails_at_construction(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(TextFrontendError, match="lexicon.tsv:1"):
        TextFrontend(path)
