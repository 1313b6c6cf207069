"""Model commands of the `f5-tts-vi` CLI: synthesize a clip, convert a checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="F5-TTS Vietnamese: model tools.", no_args_is_help=True, add_completion=False)

DEFAULT_CKPT = "hf://hynt/F5-TTS-Vietnamese-ViVoice/model_last.pt"
DEFAULT_VOCAB = "hf://hynt/F5-TTS-Vietnamese-ViVoice/config.json"


@app.command()
def synth(
    text: Annotated[str, typer.Argument(help="Text to speak.")],
    voice: Annotated[Path, typer.Option("--voice", exists=True, dir_okay=False, help="Reference clip.")],
    ref_text: Annotated[str | None, typer.Option(help="Transcript of the clip (default: the .txt beside it).")] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="WAV file to write.")] = Path("out.wav"),
    demo: Annotated[bool, typer.Option(help="Use the tiny random demo model (no weights needed).")] = False,
    ckpt: Annotated[str, typer.Option(help="Checkpoint: .pt, .safetensors or hf://owner/repo/file.")] = DEFAULT_CKPT,
    vocab: Annotated[str, typer.Option(help="Vocab file (one token per line).")] = DEFAULT_VOCAB,
    vocoder: Annotated[str, typer.Option(help="Vocos folder or hub repo id.")] = "charactr/vocos-mel-24khz",
    arch: Annotated[str, typer.Option(help="F5TTS_Base, F5TTS_v1_Base, F5TTS_Small.")] = "F5TTS_Base",
    device: Annotated[str | None, typer.Option(help="cuda, mps or cpu (default: best available).")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed for reproducible output.")] = None,
    nfe: Annotated[int, typer.Option(help="ODE steps (16 or 32 are typical).")] = 32,
    speed: Annotated[float, typer.Option(help="Speaking rate.")] = 1.0,
) -> None:
    """Synthesize TEXT in the voice of --voice and write a 24 kHz WAV."""
    import soundfile as sf
    from tqdm import tqdm

    from f5_tts import F5TTS, F5TTSError

    if ref_text is None:
        transcript = voice.with_suffix(".txt")
        if not transcript.is_file():
            raise typer.BadParameter(f"no --ref-text given and {transcript} does not exist", param_hint="--ref-text")
        ref_text = transcript.read_text(encoding="utf-8").strip()
    try:
        engine = F5TTS.demo() if demo else F5TTS(ckpt, vocab, vocoder, arch=arch, device=device)
        with tqdm(total=1, unit="step", desc="synthesizing") as bar:

            def on_step(done: int, total: int) -> None:
                bar.total = total
                bar.n = done
                bar.refresh()

            audio, sr = engine.infer(voice, ref_text, text, nfe_step=nfe, seed=seed, speed=speed, progress=on_step)
    except F5TTSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    output.parent.mkdir(parents=True, exist_ok=True)
    sf.write(output, audio, sr, subtype="PCM_16")
    typer.echo(f"wrote {output} ({len(audio) / sr:.2f} s, {sr} Hz)")


@app.command("convert-checkpoint")
def convert_checkpoint_cmd(
    src: Annotated[str, typer.Argument(help="Training pickle (.pt) or safetensors, or hf://owner/repo/file.")],
    dst: Annotated[Path, typer.Argument(help="Output .safetensors file.")],
    dtype: Annotated[str | None, typer.Option(help="Cast floating weights: fp16, bf16 or fp32.")] = None,
) -> None:
    """Keep only the EMA weights (5.4 GB training pickle -> ~0.7 GB fp16), loadable by load_model."""
    from f5_tts.checkpoint import convert_checkpoint
    from f5_tts.device import pick_dtype
    from f5_tts.errors import CheckpointError

    if dst.suffix != ".safetensors":
        raise typer.BadParameter("the output must end in .safetensors", param_hint="DST")
    try:
        torch_dtype = None if dtype is None else pick_dtype(None, dtype)  # type: ignore[arg-type]
        out = convert_checkpoint(src, dst, torch_dtype)
    except (CheckpointError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
