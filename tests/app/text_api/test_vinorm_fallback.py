"""A server where the Vinorm engine cannot run starts anyway, with rules-only normalization."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.service_process import TEST_NFE_STEP, ServiceProcess, service_env


@pytest.fixture(scope="module")
def no_vinorm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = tmp_path_factory.mktemp("no-vinorm")
    server = ServiceProcess(root, service_env(root, VINORM_DIR=str(root / "not-installed"))).start()
    try:
        yield server
    finally:
        server.stop()


def test_the_service_starts_says_so_and_still_normalizes(no_vinorm: ServiceProcess) -> None:
    with no_vinorm.client() as client:
        text = client.get("/status").json()["text"]
        normalized = client.post("/normalize", json={"text": "Giá iPhone 5tr, 12 người."}).json()
        spoken = client.post("/tts", json={"text": "Ngày 2/9 có 12 người.", "nfe_step": TEST_NFE_STEP})
    assert text["normalizer"] == "rules_only" and text["vinorm_active"] is False
    assert "normalizer_unavailable" in text["vinorm_error"] and text["normalization_default"] is True
    # Rules and lexicon still apply; digits Vinorm would have read as a number are read one by one.
    assert normalized["text"] == "giá ai phôn năm triệu, một hai người." and normalized["normalizer"] == "rules_only"
    assert spoken.status_code == 200, spoken.text
    log = no_vinorm.log_text()
    assert "normalizer.vinorm_unavailable" in log and "rules-only normalization" in log
    assert "engine.warmup_failed" not in log
