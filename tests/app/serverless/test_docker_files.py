"""The Docker files only run launcher commands the other tests run; what they
copy exists and gets past .dockerignore. (No Docker engine here: hadolint lints
the Dockerfile, see docker/README.md.)"""

from __future__ import annotations

import fnmatch
import re
import shlex

import yaml

from app.serverless.launcher import build_parser
from tests.app.serverless.procs import REPO

DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())
LAUNCHER_COMMANDS = set(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def _dockerignore_allows(path: str) -> bool:
    allowed = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*") or pattern == "**":
            allowed = negate
    return allowed


def test_dockerfile_runs_only_known_launcher_commands() -> None:
    used = re.findall(r"app\.serverless\.launcher\"?,?\s+\"?([a-z-]+)", DOCKERFILE)
    assert set(used) == {"bake-weights", "healthcheck"}
    assert set(used) <= LAUNCHER_COMMANDS
    assert 'ENTRYPOINT ["python", "-m", "app.serverless.launcher"]' in DOCKERFILE
    assert 'CMD ["worker"]' in DOCKERFILE


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    stages = re.findall(r"^FROM \S+ AS (\w+)", DOCKERFILE, flags=re.M)
    assert stages == ["builder", "weights", "runtime"]
    users = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.M)
    assert users == ["10001:10001"]
    assert "HEALTHCHECK" in DOCKERFILE and "ARG BAKE_WEIGHTS=0" in DOCKERFILE


def test_everything_the_dockerfile_copies_exists_and_is_in_the_context() -> None:
    sources = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY") and "--from=" not in line:
            parts = [p for p in shlex.split(line)[1:] if not p.startswith("--")]
            sources.extend(parts[:-1])
    assert sources == ["pyproject.toml", "README.md", "f5_tts/", "app/", "voices/"]
    for source in sources:
        assert (REPO / source).exists(), source
        assert _dockerignore_allows(source.rstrip("/")), source
    for kept_out in (".venv", "tests", "outputs", ".git", "data"):
        assert not _dockerignore_allows(kept_out), kept_out


def test_compose_commands_are_launcher_commands_with_valid_worker_flags() -> None:
    import runpod.serverless as rp

    for name, service in COMPOSE["services"].items():
        command = service["command"]
        args = build_parser().parse_args(command)
        assert args.command in LAUNCHER_COMMANDS, name
        if args.command == "worker":
            worker_args = command[command.index("--") + 1 :]
            _, unknown = rp.parser.parse_known_args(worker_args)
            assert unknown == [], unknown
            assert "--rp_serve_api" in worker_args
    assert COMPOSE["services"]["tts"]["volumes"][0] == "../voices:/app/voices:ro"
    worker_data = [v for v in COMPOSE["services"]["worker"]["volumes"] if v.endswith("/app/data")]
    tts_data = [v for v in COMPOSE["services"]["tts"]["volumes"] if v.endswith("/app/data")]
    assert worker_data != tts_data  # two services never share one job database
