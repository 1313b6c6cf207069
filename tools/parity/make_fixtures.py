"""Generate numeric parity fixtures from the upstream F5-TTS reference package.

This script is NOT part of the service. It imports the *upstream* ``f5_tts``
distribution (PyPI ``f5-tts==1.1.22``), which has the same import name as our
own package, so it must run from a separate virtual environment and from a
working directory outside this repository::

    python3 -m venv /tmp/f5ref
    /tmp/f5ref/bin/pip install torch==2.11.0 torchaudio==2.11.0
    /tmp/f5ref/bin/pip install --no-deps f5-tts==1.1.22
    /tmp/f5ref/bin/pip install -c <torch pins> x_transformers torchdiffeq rjieba pypinyin \
        librosa accelerate ema_pytorch wandb datasets safetensors numpy \
        matplotlib pydub transformers vocos          # (see tools/parity/README.md)
    cd /tmp && /tmp/f5ref/bin/python /work/main/tools/parity/make_fixtures.py \
        --out /work/main/tests/f5_tts/fixtures

It only *runs* upstream code to record numbers; see tools/parity/README.md and
tests/f5_tts/fixtures/README.md for the file formats.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

REPO_ROOT = Path(__file__).resolve().parents[2]


# Never let our own package shadow upstream's: drop the repo (and the cwd, if it
# is inside the repo) from sys.path before importing ``f5_tts``.
def _inside_repo(entry: str) -> bool:
    path = Path(entry or os.getcwd()).resolve()
    return path == REPO_ROOT or REPO_ROOT in path.parents


sys.path[:] = [p for p in sys.path if not _inside_repo(p)]

# upstream modules (f5-tts==1.1.22), imported by name so that no project code can shadow them
up_cfm = importlib.import_module("f5_tts.model.cfm")
up_dit = importlib.import_module("f5_tts.model.backbones.dit")
up_modules = importlib.import_module("f5_tts.model.modules")
up_utils = importlib.import_module("f5_tts.model.utils")
CFM = up_cfm.CFM
DiT = up_dit.DiT
MelSpec = up_modules.MelSpec
convert_char_to_pinyin = up_utils.convert_char_to_pinyin
get_epss_timesteps = up_utils.get_epss_timesteps
get_tokenizer = up_utils.get_tokenizer
list_str_to_idx = up_utils.list_str_to_idx

UPSTREAM_VERSION = "1.1.22"

TINY = dict(dim=64, depth=2, heads=4, dim_head=16, ff_mult=2, text_dim=32, conv_layers=2)
VARIANTS = {
    # F5TTS_Base semantics (the Vietnamese model): no text padding mask, rotary on head 0 only.
    "base": dict(text_mask_padding=False, pe_attn_head=1),
    # F5TTS_v1_Base semantics: text padding masked, rotary on all heads.
    "v1": dict(text_mask_padding=True, pe_attn_head=None),
}
MEL_KW = dict(
    n_fft=1024,
    hop_length=256,
    win_length=1024,
    n_mel_channels=100,
    target_sample_rate=24000,
    mel_spec_type="vocos",
)
SR = 24000
HOP = 256

# precomposed (NFC) lowercase Vietnamese letters
VI_LETTERS = list("àáảãạăắằẳẵặâấầẩẫậđèéẻẽẹêếềểễệìíỉĩịòóỏõọôốồổỗộơớờởỡợùúủũụưứừửữựỳýỷỹỵ")

TOKENIZE_TEXTS = [
    "cố gắng lên nhé!",
    "hệ thống đang chạy...",
    "người trường không; \u201cquote\u201d",
    "xin chào ai 2024 a-b",
    "đâu... ừ, được: 'ok' nhé? \u2018vâng\u2019",
    "việt nam (vn) 100% tốt",
    "tiếng việt rất hay, phải không?",
    "a b c d1 x-y 3.5 e.g. ok",
    # NFD input: "e" + U+0301 COMBINING ACUTE; the mark is not in the vocab -> id 0.
    "cafe\u0301 nhé",
]

SAMPLE_REF_TEXT = "xin chào các bạn. "
SAMPLE_GEN_TEXT = "cố gắng lên nhé!"
SAMPLE_TEXT_2 = "chào. hệ thống đang chạy..."

SAMPLE_CASES = [
    # k, steps, cfg_strength, sway_sampling_coef, use_epss
    dict(steps=32, cfg=2.0, sway=-1.0, use_epss=True),  # 0: no EPSS grid for 32 -> linspace
    dict(steps=7, cfg=2.0, sway=-1.0, use_epss=True),  # 1: EPSS grid
    dict(steps=16, cfg=2.0, sway=-1.0, use_epss=True),  # 2: EPSS grid
    dict(steps=8, cfg=2.0, sway=None, use_epss=True),  # 3: linspace, no sway
    dict(steps=7, cfg=0.0, sway=-1.0, use_epss=True),  # 4: cfg 0 -> single conditional pass
    dict(steps=7, cfg=2.0, sway=-1.0, use_epss=False),  # 5: use_epss False -> linspace(0,1,8)
]
SEED = 1234
N_REF = 30
DURATION = 70


def f32(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().to(torch.float32).numpy().copy()


def i64(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().to(torch.int64).numpy().copy()


def write_vocab(path: Path) -> list[str]:
    tokens = [" "]
    tokens += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    tokens += [str(d) for d in range(10)]
    tokens += [",", ".", "!", "?", "'", '"', ":", "-"]
    for ch in VI_LETTERS:
        if ch not in tokens:
            tokens.append(ch)
    path.write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    return tokens


def waveform(n: int, seed: int, parts: list[tuple[float, float, float]], noise: float) -> torch.Tensor:
    """sum of amp*sin(2*pi*freq*t + phase) plus seeded gaussian noise, float32 [n]."""
    t = torch.arange(n, dtype=torch.float64) / SR
    w = torch.zeros(n, dtype=torch.float64)
    for amp, freq, phase in parts:
        w += amp * torch.sin(2 * math.pi * freq * t + phase)
    g = torch.Generator().manual_seed(seed)
    w += noise * torch.randn(n, generator=g, dtype=torch.float64)
    return w.to(torch.float32)


N_COND = (N_REF - 1) * HOP  # 7424 samples -> 30 frames
WAVES = {
    "mel_wave": dict(n=12000, seed=7, parts=[(0.3, 220.0, 0.0), (0.2, 440.0, 0.5), (0.1, 1234.5, 1.0)], noise=0.01),
    "cond_wave": dict(n=N_COND, seed=8, parts=[(0.25, 180.0, 0.0), (0.15, 600.0, 0.3)], noise=0.02),
    "cond_wave_2": dict(n=N_COND, seed=9, parts=[(0.2, 300.0, 0.2), (0.1, 2000.0, 0.0)], noise=0.02),
}


def build_cfm(variant: str, vocab_char_map: dict[str, int], vocab_size: int) -> CFM:
    transformer = DiT(**TINY, **VARIANTS[variant], text_num_embeds=vocab_size, mel_dim=100)
    # Same construction as upstream's infer.utils_infer.load_model (odeint defaults to euler).
    return CFM(transformer=transformer, mel_spec_kwargs=MEL_KW, vocab_char_map=vocab_char_map)


def randomize_(model: torch.nn.Module, seed: int = 0) -> None:
    """Overwrite every parameter with deterministic nonzero random values."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            r = torch.randn(p.shape, dtype=torch.float32)
            if name.endswith(("grn.gamma", "grn.beta")) or (p.ndim == 1 and not name.endswith(".weight")):
                v = 0.1 * r  # biases, GRN gamma/beta
            elif p.ndim == 1:
                v = 1.0 + 0.1 * r  # LayerNorm affine weight
            else:
                fan_in = int(np.prod(p.shape[1:]))
                v = r / math.sqrt(fan_in)
            v[v == 0] = 1e-3
            p.copy_(v)
            assert bool((p != 0).all()), name


def published_state_dict(cfm: CFM, step: int = 12345) -> dict[str, torch.Tensor]:
    """The EMA state dict as upstream's Trainer saves it (ema_pytorch.EMA, include_online_model=False)."""
    from ema_pytorch import EMA

    ema = EMA(cfm, include_online_model=False)
    ema.ema_model.load_state_dict(cfm.state_dict())
    sd = {k: v.detach().clone().contiguous() for k, v in ema.state_dict().items()}
    sd["initted"] = torch.tensor(True)
    sd["step"] = torch.tensor(step, dtype=torch.int64)
    expected = {"initted", "step"} | {"ema_model." + k for k in cfm.state_dict()}
    assert set(sd) == expected, sorted(set(sd) ^ expected)
    return sd


class OdeintRecorder:
    """Wraps upstream's odeint (as looked up by cfm.py) to record y0 and the time grid."""

    def __init__(self):
        self.real = up_cfm.odeint
        self.calls: list[dict] = []

    def __call__(self, fn, y0, t, **kw):
        self.calls.append(dict(y0=y0.detach().clone(), t=t.detach().clone(), kw=dict(kw)))
        return self.real(fn, y0, t, **kw)


def make_variant(variant, out: Path, vocab_char_map, vocab_size, weights_path: Path, meta: dict) -> None:
    torch.manual_seed(0)
    cfm = build_cfm(variant, vocab_char_map, vocab_size)
    sd_file = load_file(str(weights_path))

    # Load the fixture weights the way upstream inference does (round-trip check of the layout).
    load_checkpoint = importlib.import_module("f5_tts.infer.utils_infer").load_checkpoint
    cfm = load_checkpoint(cfm, str(weights_path), device="cpu", dtype=torch.float32, use_ema=True)
    for k, v in cfm.state_dict().items():
        assert torch.equal(v, sd_file["ema_model." + k]), k
    cfm.eval()
    dit = cfm.transformer
    arrays: dict[str, np.ndarray] = {}

    # 1. mel
    mel_wave = waveform(**WAVES["mel_wave"])
    mel = cfm.mel_spec(mel_wave[None])  # upstream returns [b, n_mels, frames]
    assert mel.shape == (1, 100, mel_wave.numel() // HOP + 1), mel.shape
    arrays["mel_wave"] = f32(mel_wave)
    arrays["mel_out"] = f32(mel[0].transpose(0, 1))  # -> [frames, 100]
    # the standalone module gives the same numbers
    assert torch.equal(MelSpec(**MEL_KW)(mel_wave[None]), mel)

    # 3. transformer forward
    g = torch.Generator().manual_seed(42)
    x = torch.randn(1, 40, 100, generator=g)
    cond = torch.randn(1, 40, 100, generator=g)
    cond[:, 15:] = 0.0
    text = torch.randint(0, vocab_size, (1, 12), generator=g)
    text[0, 3] = 0  # one explicit id 0 (space / unknown)
    text[0, 10:] = -1  # batch padding
    time = torch.tensor([0.37])
    with torch.no_grad():
        dit.clear_cache()
        fwd_cond = dit(x=x, cond=cond, text=text, time=time, mask=None, drop_audio_cond=False, drop_text=False)
        dit.clear_cache()
        fwd_null = dit(x=x, cond=cond, text=text, time=time, mask=None, drop_audio_cond=True, drop_text=True)
        dit.clear_cache()
        packed = dit(x=x, cond=cond, text=text, time=time, mask=None, cfg_infer=True, cache=False)
        dit.clear_cache()
    torch.testing.assert_close(packed, torch.cat([fwd_cond, fwd_null]), rtol=1e-5, atol=1e-5)
    arrays.update(
        fwd_x=f32(x),
        fwd_cond=f32(cond),
        fwd_text=i64(text),
        fwd_time=f32(time),
        fwd_out_cond=f32(fwd_cond),
        fwd_out_null=f32(fwd_null),
    )

    # 3b. forward where the text is longer than the mel (text gets truncated)
    x2 = torch.randn(1, 10, 100, generator=g)
    cond2 = torch.randn(1, 10, 100, generator=g)
    cond2[:, 4:] = 0.0
    text2 = torch.randint(1, vocab_size, (1, 14), generator=g)
    time2 = torch.tensor([0.81])
    with torch.no_grad():
        dit.clear_cache()
        out2c = dit(x=x2, cond=cond2, text=text2, time=time2, drop_audio_cond=False, drop_text=False)
        dit.clear_cache()
        out2n = dit(x=x2, cond=cond2, text=text2, time=time2, drop_audio_cond=True, drop_text=True)
        dit.clear_cache()
    arrays.update(
        fwd2_x=f32(x2),
        fwd2_cond=f32(cond2),
        fwd2_text=i64(text2),
        fwd2_time=f32(time2),
        fwd2_out_cond=f32(out2c),
        fwd2_out_null=f32(out2n),
    )

    # 4. sampling
    cond_mel = cfm.mel_spec(waveform(**WAVES["cond_wave"])[None]).permute(0, 2, 1)  # [1, 30, 100]
    assert cond_mel.shape == (1, N_REF, 100)
    chars = convert_char_to_pinyin([SAMPLE_REF_TEXT + SAMPLE_GEN_TEXT])
    text_ids = list_str_to_idx(chars, vocab_char_map)  # [1, L] int64
    lens = torch.tensor([N_REF])
    # inputs shared by the single-item cases 0..5
    arrays["sample_cond"] = f32(cond_mel)
    arrays["sample_text"] = i64(text_ids)
    arrays["sample_lens"] = i64(lens)
    recorder = OdeintRecorder()
    up_cfm.odeint = recorder
    try:
        cases_meta = []
        for k, case in enumerate(SAMPLE_CASES):
            out_mel, _traj = cfm.sample(
                cond=cond_mel,
                text=text_ids,
                duration=DURATION,
                lens=lens,
                steps=case["steps"],
                cfg_strength=case["cfg"],
                sway_sampling_coef=case["sway"],
                seed=SEED,
                use_epss=case["use_epss"],
            )
            rec = recorder.calls[-1]
            torch.manual_seed(SEED)
            assert torch.equal(rec["y0"], torch.randn(1, DURATION, 100)), "noise is not manual_seed+randn"
            assert torch.equal(out_mel[:, :N_REF], cond_mel), "cond region not copied back"
            assert out_mel.shape == (1, DURATION, 100)
            p = f"sample{k}_"
            arrays[p + "duration"] = np.array([DURATION], dtype=np.int64)
            arrays[p + "seed"] = np.array(SEED, dtype=np.int64)
            arrays[p + "steps"] = np.array(case["steps"], dtype=np.int64)
            arrays[p + "cfg"] = np.array(case["cfg"], dtype=np.float32)
            arrays[p + "sway"] = np.array(np.nan if case["sway"] is None else case["sway"], dtype=np.float32)
            arrays[p + "use_epss"] = np.array(case["use_epss"], dtype=np.bool_)
            arrays[p + "tgrid"] = f32(rec["t"])
            arrays[p + "out"] = f32(out_mel)
            cases_meta.append(dict(k=k, **case, seed=SEED, duration=DURATION, n_ref=N_REF))

        # 4b. batch of two: different lens, durations and text lengths (mask path, batch > 1)
        k = len(SAMPLE_CASES)
        cond_b = torch.cat(
            [cond_mel, cfm.mel_spec(waveform(**WAVES["cond_wave_2"])[None]).permute(0, 2, 1)], dim=0
        )  # [2, 30, 100]
        chars_b = convert_char_to_pinyin([SAMPLE_REF_TEXT + SAMPLE_GEN_TEXT, SAMPLE_TEXT_2])
        text_b = list_str_to_idx(chars_b, vocab_char_map)  # padded with -1
        lens_b = torch.tensor([N_REF, 24])
        dur_b = torch.tensor([DURATION, 55])
        out_b, _ = cfm.sample(
            cond=cond_b,
            text=text_b,
            duration=dur_b,
            lens=lens_b,
            steps=7,
            cfg_strength=2.0,
            sway_sampling_coef=-1.0,
            seed=SEED,
            use_epss=True,
        )
        rec = recorder.calls[-1]
        torch.manual_seed(SEED)
        n0 = torch.randn(DURATION, 100)
        torch.manual_seed(SEED)
        n1 = torch.randn(55, 100)
        assert torch.equal(rec["y0"][0], n0)
        assert torch.equal(rec["y0"][1, :55], n1) and bool((rec["y0"][1, 55:] == 0).all())
        p = f"sample{k}_"
        arrays[p + "cond"] = f32(cond_b)
        arrays[p + "text"] = i64(text_b)
        arrays[p + "lens"] = i64(lens_b)
        arrays[p + "duration"] = i64(dur_b)
        arrays[p + "seed"] = np.array(SEED, dtype=np.int64)
        arrays[p + "steps"] = np.array(7, dtype=np.int64)
        arrays[p + "cfg"] = np.array(2.0, dtype=np.float32)
        arrays[p + "sway"] = np.array(-1.0, dtype=np.float32)
        arrays[p + "use_epss"] = np.array(True, dtype=np.bool_)
        arrays[p + "tgrid"] = f32(rec["t"])
        arrays[p + "out"] = f32(out_b)
        # How far each batch row is from the same request sampled alone (informative, not saved as arrays):
        # upstream does not mask padded keys in attention (attn_mask_enabled=False), so shorter rows differ.
        batch_vs_single = []
        for i in range(2):
            n_txt = int((text_b[i] != -1).sum())
            single, _ = cfm.sample(
                cond=cond_b[i : i + 1],
                text=text_b[i : i + 1, :n_txt],
                duration=int(dur_b[i]),
                lens=lens_b[i : i + 1],
                steps=7,
                cfg_strength=2.0,
                sway_sampling_coef=-1.0,
                seed=SEED,
                use_epss=True,
            )
            d = int(dur_b[i])
            batch_vs_single.append(float((single[0] - out_b[i, :d]).abs().max()))
        cases_meta.append(
            dict(
                k=k,
                steps=7,
                cfg=2.0,
                sway=-1.0,
                use_epss=True,
                seed=SEED,
                duration=[DURATION, 55],
                lens=[N_REF, 24],
                max_abs_diff_vs_single_item_runs=batch_vs_single,
            )
        )
    finally:
        up_cfm.odeint = recorder.real

    # 5. time grids (variant independent; repeated in each file for convenience)
    for nfe in (5, 6, 7, 10, 12, 16, 32):
        t = get_epss_timesteps(nfe, device="cpu", dtype=torch.float32)
        arrays[f"tgrid_raw_{nfe}"] = f32(t)
        arrays[f"tgrid_{nfe}"] = f32(t + -1.0 * (torch.cos(torch.pi / 2 * t) - 1 + t))
    for k, nfe in ((0, 32), (1, 7), (2, 16), (4, 7)):
        np.testing.assert_allclose(arrays[f"sample{k}_tgrid"], arrays[f"tgrid_{nfe}"], rtol=0, atol=1e-7)

    for name, a in arrays.items():
        if a.dtype.kind == "f":
            assert np.isfinite(a).all() or name.endswith("_sway"), name
    np.savez_compressed(out / f"parity_{variant}.npz", **arrays)
    meta["variants"][variant] = dict(
        dit_kwargs=dict(**TINY, **VARIANTS[variant], text_num_embeds=vocab_size, mel_dim=100),
        sample_cases=cases_meta,
        keys={k: [list(v.shape), str(v.dtype)] for k, v in arrays.items()},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="fixture directory (tests/f5_tts/fixtures)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    src = Path(up_cfm.__file__).resolve()
    if REPO_ROOT in src.parents:
        sys.exit(f"'f5_tts' resolved to this project ({src}), not upstream: run from outside the repo")
    from importlib.metadata import version

    assert version("f5-tts") == UPSTREAM_VERSION, version("f5-tts")

    torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    # vocab (loaded back with upstream's own loader)
    vocab_path = out / "parity_vocab.txt"
    tokens = write_vocab(vocab_path)
    vocab_char_map, vocab_size = get_tokenizer(str(vocab_path), "custom")
    assert vocab_size == len(tokens) and vocab_char_map[" "] == 0

    # 2. tokenization
    tok_cases = []
    for s in TOKENIZE_TEXTS:
        chars = convert_char_to_pinyin([s])[0]
        ids = list_str_to_idx([chars], vocab_char_map)[0].tolist()
        tok_cases.append(dict(text=s, segmented="".join(chars), chars=list(chars), ids=ids))
    (out / "parity_tokenize.json").write_text(
        json.dumps(tok_cases, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )

    # weights: identical for both variants (same keys/shapes; the variant flags have no parameters)
    torch.manual_seed(0)
    cfm = build_cfm("base", vocab_char_map, vocab_size)
    randomize_(cfm, seed=0)
    sd = published_state_dict(cfm)
    weights_path = out / "parity_weights.safetensors"
    save_file(sd, str(weights_path), metadata={"format": "pt", "generator": "tools/parity/make_fixtures.py"})

    meta = dict(
        upstream=f"f5-tts=={UPSTREAM_VERSION}",
        torch=torch.__version__,
        numpy=np.__version__,
        x_transformers=version("x-transformers"),
        torchdiffeq=version("torchdiffeq"),
        rjieba=version("rjieba"),
        vocab_size=vocab_size,
        mel=MEL_KW,
        weights_keys=len(sd),
        sample_texts=dict(
            ref=SAMPLE_REF_TEXT,
            gen=SAMPLE_GEN_TEXT,
            second=SAMPLE_TEXT_2,
            segmented=["".join(c) for c in convert_char_to_pinyin([SAMPLE_REF_TEXT + SAMPLE_GEN_TEXT, SAMPLE_TEXT_2])],
        ),
        waves={k: dict(v) for k, v in WAVES.items()},
        variants={},
    )
    for variant in VARIANTS:
        make_variant(variant, out, vocab_char_map, vocab_size, weights_path, meta)
    meta_text = json.dumps(meta, ensure_ascii=False, indent=1) + "\n"
    (out / "parity_meta.json").write_text(meta_text, encoding="utf-8")
    for f in sorted(out.iterdir()):
        print(f"{f.stat().st_size:>9}  {f.name}")


if __name__ == "__main__":
    main()
