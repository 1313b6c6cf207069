import hashlib

import pytest
import torch
from safetensors.torch import load_file, save_file

import f5_tts
from f5_tts.checkpoint import convert_checkpoint, read_checkpoint
from f5_tts.errors import CheckpointError, VocabSizeError
from f5_tts.loading import build_demo_model, demo_vocab, load_model

ARCH = "demo"


def ema_state(model) -> dict[str, torch.Tensor]:
    """The published layout: EMA keys prefixed, plus EMA bookkeeping."""
    state = {f"ema_model.{k}": v.clone() for k, v in model.state_dict().items()}
    state["ema_model.initted"] = torch.tensor([True])
    state["ema_model.step"] = torch.tensor([1234])
    return state


@pytest.fixture(scope="module")
def source():
    return build_demo_model(seed=3)


@pytest.fixture
def vocab_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(demo_vocab().tokens) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def training_pickle(tmp_path, source):
    """Like model_last.pt: model, optimizer, EMA, scheduler and step, in one pickle."""
    path = tmp_path / "model_last.pt"
    state = source.state_dict()
    torch.save(
        {
            "model_state_dict": {k: v + 1 for k, v in state.items()},  # the non-EMA weights differ
            "optimizer_state_dict": {
                "state": {0: {"exp_avg": torch.zeros(3)}},
                "param_groups": [{"lr": 1e-5}],
            },
            "ema_model_state_dict": ema_state(source),
            "scheduler_state_dict": {"last_epoch": 10, "_step_count": 11},
            "update": 1234,
        },
        path,
    )
    return path


@pytest.fixture
def safetensors_file(tmp_path, source):
    path = tmp_path / "model_1200000.safetensors"
    state = ema_state(source)
    state["ema_model.mel_spec.mel_stft.mel_scale.fb"] = torch.zeros(513, 100)  # legacy key, dropped
    save_file(state, str(path))
    return path


def assert_same_weights(model, source):
    for (k, a), (_, b) in zip(model.state_dict().items(), source.state_dict().items()):
        assert torch.equal(a, b), k


def test_training_pickle_loads_the_ema_weights(training_pickle, vocab_file, source):
    model = load_model(training_pickle, vocab_file, arch=ARCH, device="cpu")
    assert_same_weights(model, source)
    assert model.transformer is not None and not any(p.is_meta for p in model.parameters())


def test_training_pickle_is_memory_mapped(training_pickle, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    read_checkpoint(training_pickle)
    assert calls and calls[0].get("mmap") is True and calls[0].get("weights_only") is True


def test_safetensors_loads_and_gives_the_same_audio(safetensors_file, training_pickle, vocab_file, source):
    a = load_model(safetensors_file, vocab_file, arch=ARCH, device="cpu")
    b = load_model(training_pickle, vocab_file, arch=ARCH, device="cpu")
    assert_same_weights(a, source)
    cond = torch.randn(1, 10, 100)
    assert torch.equal(
        a.sample(cond, ["xin chào"], 30, steps=4, seed=1), b.sample(cond, ["xin chào"], 30, steps=4, seed=1)
    )


def test_arch_as_published_config_dict(safetensors_file, vocab_file):
    cfg = dict(
        dim=64,
        depth=2,
        heads=2,
        dim_head=32,
        ff_mult=2,
        text_dim=32,
        conv_layers=1,
        text_mask_padding=False,
        pe_attn_head=1,
    )
    model = load_model(safetensors_file, vocab_file, arch=cfg, device="cpu")
    assert model.cfg.dim == 64


def test_hub_path_is_fetched_through_huggingface_hub_cache(tmp_path, safetensors_file, vocab_file, monkeypatch, source):
    import huggingface_hub.constants as hf_constants

    cache = tmp_path / "hub"
    commit = hashlib.sha1(b"test").hexdigest()
    repo = cache / "models--someone--vi-tts"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit / "ckpt"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").write_bytes(safetensors_file.read_bytes())
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    model = load_model("hf://someone/vi-tts/ckpt/model.safetensors", vocab_file, arch=ARCH, device="cpu")
    assert_same_weights(model, source)
    with pytest.raises(CheckpointError, match="could not download hf://someone/vi-tts/missing.pt"):
        load_model("hf://someone/vi-tts/missing.pt", vocab_file, arch=ARCH, device="cpu")


def test_wrong_vocab_size_is_refused(safetensors_file, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("\n".join(demo_vocab().tokens[:-3]) + "\n", encoding="utf-8")
    with pytest.raises(VocabSizeError, match=r"vocab of \d+ lines, but the vocab file has \d+"):
        load_model(safetensors_file, short, arch=ARCH, device="cpu")


def test_missing_and_unexpected_keys_are_named(tmp_path, source, vocab_file):
    state = ema_state(source)
    del state["ema_model.transformer.proj_out.bias"]
    state["ema_model.transformer.extra.weight"] = torch.zeros(2)
    path = tmp_path / "bad.safetensors"
    save_file(state, str(path))
    with pytest.raises(CheckpointError, match=r"missing 1 keys \(e.g. transformer.proj_out.bias\).*unexpected 1 keys"):
        load_model(path, vocab_file, arch=ARCH, device="cpu")


def test_wrong_architecture_is_named(safetensors_file, vocab_file):
    with pytest.raises(CheckpointError, match="wrong --arch"):
        load_model(
            safetensors_file,
            vocab_file,
            arch=dict(dim=64, depth=3, heads=2, dim_head=32, text_dim=32, conv_layers=1),
            device="cpu",
        )
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_model(
            safetensors_file,
            vocab_file,
            arch=dict(dim=64, depth=2, heads=2, dim_head=32, text_dim=32, conv_layers=1, ff_mult=4),
            device="cpu",
        )


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_file_that_is_not_a_checkpoint(tmp_path, vocab_file, suffix):
    path = tmp_path / f"notes{suffix}"
    path.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="notes"):
        load_model(path, vocab_file, arch=ARCH, device="cpu")


def test_pickle_without_a_state_dict(tmp_path, vocab_file):
    path = tmp_path / "odd.pt"
    torch.save({"update": 3, "something": [1, 2]}, path)
    with pytest.raises(CheckpointError, match="no state dict"):
        load_model(path, vocab_file, arch=ARCH, device="cpu")


def test_missing_file_and_bad_hub_path(vocab_file):
    with pytest.raises(CheckpointError, match="file not found"):
        load_model("/nonexistent/model.pt", vocab_file, arch=ARCH)
    with pytest.raises(CheckpointError, match="hf://owner/repo/file"):
        load_model("hf://only-owner", vocab_file, arch=ARCH)


def test_unknown_arch_name(safetensors_file, vocab_file):
    with pytest.raises(ValueError, match="unknown arch"):
        load_model(safetensors_file, vocab_file, arch="F5TTS_Huge")


def test_convert_keeps_ema_only_in_fp16_and_loads(training_pickle, tmp_path, vocab_file, source):
    out = convert_checkpoint(training_pickle, tmp_path / "small.safetensors", torch.float16)
    tensors = load_file(str(out))
    assert all(k.startswith("ema_model.transformer.") for k in tensors)
    assert all(v.dtype == torch.float16 for v in tensors.values())
    model = load_model(out, vocab_file, arch=ARCH, device="cpu")
    assert model.dtype == torch.float32  # fp32 on the CPU, whatever the file holds
    for (k, a), (_, b) in zip(model.state_dict().items(), source.state_dict().items()):
        assert torch.equal(a, b.half().float()), k


def test_public_names():
    assert f5_tts.load_model is load_model
    assert callable(f5_tts.load_vocoder)
