import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from safetensors.torch import load_file
from typer.testing import CliRunner

from f5_tts import CheckpointError, load_vocoder
from f5_tts.cli import app
from f5_tts.loading import build_demo_model, demo_vocab
from f5_tts.vocoder import demo_vocoder

from .conftest import SR, tone


@pytest.fixture
def vocos_folder(tmp_path):
    """A vocoder folder in the published layout: config.yaml + pytorch_model.bin."""
    folder = tmp_path / "vocos"
    folder.mkdir()
    voc = demo_vocoder(seed=5)
    config = {
        "feature_extractor": {
            "class_path": "vocos.feature_extractors.MelSpectrogramFeatures",
            "init_args": {"sample_rate": 24000, "n_fft": 1024, "hop_length": 256, "n_mels": 100},
        },
        "backbone": {
            "class_path": "vocos.models.VocosBackbone",
            "init_args": {"input_channels": 100, "dim": 64, "intermediate_dim": 128, "num_layers": 2},
        },
        "head": {
            "class_path": "vocos.heads.ISTFTHead",
            "init_args": {"dim": 64, "n_fft": 1024, "hop_length": 256, "padding": "center"},
        },
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save(voc.vocos.state_dict(), folder / "pytorch_model.bin")
    return folder, voc


def test_vocoder_loads_from_a_local_folder(vocos_folder):
    folder, original = vocos_folder
    loaded = load_vocoder(folder, device="cpu")
    mel = torch.randn(40, 100)
    (a,), (b,) = loaded.decode([mel]), original.decode([mel])
    assert a.shape == (39 * 256,) and a.dtype == np.float32
    assert np.array_equal(a, b)


def test_batched_decode_equals_one_by_one(vocos_folder):
    _, voc = vocos_folder
    mels = [torch.randn(n, 100) for n in (30, 30, 17)]
    together = voc.decode(mels)
    for mel, wav in zip(mels, together):
        assert np.allclose(wav, voc.decode([mel])[0], atol=1e-5)


def test_incomplete_vocoder_folder(tmp_path):
    (tmp_path / "config.yaml").write_text("x: 1")
    with pytest.raises(CheckpointError, match="lacks pytorch_model.bin"):
        load_vocoder(tmp_path)


runner = CliRunner()


def test_cli_synth_with_the_demo_model(tmp_path):
    voice = tmp_path / "voice.wav"
    sf.write(voice, tone(2.0), SR)
    voice.with_suffix(".txt").write_text("xin chào các bạn", encoding="utf-8")
    out = tmp_path / "out" / "speech.wav"
    result = runner.invoke(
        app,
        [
            "synth",
            "một hai ba bốn",
            "--voice",
            str(voice),
            "--demo",
            "-o",
            str(out),
            "--seed",
            "3",
            "--nfe",
            "4",
        ],
    )
    assert result.exit_code == 0, result.output
    info = sf.info(out)
    assert info.samplerate == 24000 and info.channels == 1 and info.subtype == "PCM_16" and info.duration > 0.1


def test_cli_synth_needs_a_transcript(tmp_path):
    voice = tmp_path / "voice.wav"
    sf.write(voice, tone(2.0), SR)
    result = runner.invoke(app, ["synth", "một", "--voice", str(voice), "--demo"])
    assert result.exit_code != 0 and "ref-text" in result.output


def test_cli_synth_reports_engine_errors(tmp_path):
    voice = tmp_path / "voice.wav"
    sf.write(voice, np.zeros(SR, dtype=np.float32), SR)
    result = runner.invoke(app, ["synth", "một", "--voice", str(voice), "--ref-text", "x", "--demo"])
    assert result.exit_code == 2 and "silent" in result.output.lower()


def test_cli_convert_checkpoint(tmp_path):
    model = build_demo_model(seed=2)
    src = tmp_path / "model_last.pt"
    ema = {f"ema_model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"ema_model_state_dict": ema, "model_state_dict": model.state_dict(), "update": 5}, src)
    dst = tmp_path / "model.safetensors"
    result = runner.invoke(app, ["convert-checkpoint", str(src), str(dst), "--dtype", "fp16"])
    assert result.exit_code == 0, result.output
    tensors = load_file(str(dst))
    assert set(tensors) == set(ema) and all(t.dtype == torch.float16 for t in tensors.values())
    assert len(demo_vocab()) + 1 == tensors["ema_model.transformer.text_embed.text_embed.weight"].shape[0]


def test_cli_convert_checkpoint_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"nope")
    result = runner.invoke(app, ["convert-checkpoint", str(bad), str(tmp_path / "o.safetensors")])
    assert result.exit_code == 2 and "not a PyTorch checkpoint" in result.output
    result = runner.invoke(app, ["convert-checkpoint", str(bad), str(tmp_path / "o.bin")])
    assert result.exit_code != 0 and ".safetensors" in result.output
