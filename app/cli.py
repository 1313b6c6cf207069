"""The ``f5-tts-vi`` command: ``serve`` (this service) plus the engine's own
commands (``synth``, ``convert-checkpoint``) from ``f5_tts.cli``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

cli = typer.Typer(
    help="F5-TTS Vietnamese: text-to-speech service and model tools.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: HOST or 0.0.0.0).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT or 8000).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Serve the tiny random demo model: no weights, no download.")
    ] = False,
) -> None:
    """Run the HTTP service (one process: it owns the GPU). Settings come from the environment;
    see docs/service.md."""
    import uvicorn
    from pydantic import ValidationError

    from app.core.config import Settings
    from app.main import create_app
    from app.services.engine import EngineState

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if demo:
        overrides["demo"] = True
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        typer.echo(f"invalid configuration (environment variables or .env):\n{exc}", err=True)
        raise typer.Exit(code=2) from None

    server: uvicorn.Server | None = None

    def stop_server() -> None:
        # A fatal start-up error (model cannot load) ends the server cleanly.
        if server is not None:
            server.should_exit = True

    app = create_app(settings, request_exit=stop_server)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.graceful_shutdown_seconds) or None,
        proxy_headers=True,
    )
    server = uvicorn.Server(config)
    server.run()
    engine = getattr(app.state, "engine", None)
    if engine is not None and engine.state is EngineState.failed:
        typer.echo(engine.error, err=True)
        raise typer.Exit(code=1)


def _add_engine_commands() -> None:
    """The engine's commands, when its CLI module is present."""
    try:
        from f5_tts.cli import app as engine_cli
    except ModuleNotFoundError as exc:
        if exc.name not in ("f5_tts", "f5_tts.cli"):
            raise
        return
    known = {
        command.name or (command.callback.__name__ if command.callback else None) for command in cli.registered_commands
    }
    for command in engine_cli.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else None)
        if name not in known:
            cli.registered_commands.append(command)
    cli.registered_groups.extend(engine_cli.registered_groups)


def main() -> None:
    _add_engine_commands()
    cli(prog_name="f5-tts-vi")


if __name__ == "__main__":
    sys.exit(main())
