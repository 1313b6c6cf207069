"""The ``f5-tts-vi`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.app.service_process import REPO_ROOT, free_port, service_env


def _run(args: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO_ROOT,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_lists_serve_and_the_engine_commands() -> None:
    result = _run(["--help"])
    assert result.returncode == 0, result.stderr
    for command in ("serve", "synth", "convert-checkpoint"):
        assert command in result.stdout
    serve_help = _run(["serve", "--help"])
    assert "--demo" in serve_help.stdout and "--port" in serve_help.stdout and "--host" in serve_help.stdout


def test_serve_without_reachable_weights_exits_with_instructions(tmp_path: Path) -> None:
    # An empty hub cache and no network (HF_HUB_OFFLINE) is what a machine that
    # cannot reach the hub sees on first start, without waiting for timeouts.
    env = service_env(tmp_path)
    result = _run(["serve", "--host", "127.0.0.1", "--port", str(free_port())], env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr
    assert "The model could not be loaded" in message
    assert "hf://hynt/F5-TTS-Vietnamese-ViVoice/model_last.pt" in message
    assert "MODEL_CHECKPOINT=" in message and "f5-tts-vi serve --demo" in message
    assert "Traceback" not in message


def test_serve_with_a_bad_setting_says_which(tmp_path: Path) -> None:
    env = service_env(tmp_path, MAX_BATCH_ITEMS="zero")
    result = _run(["serve", "--demo", "--port", str(free_port())], env=env)
    assert result.returncode == 2
    assert "invalid configuration" in result.stderr and "max_batch_items" in result.stderr
    assert "Traceback" not in result.stderr
