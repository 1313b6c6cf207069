import pytest
import torch

from f5_tts.model import F5Model
from f5_tts.text import Vocab

from .conftest import random_dit_config, randomize

VOCAB = Vocab([" ", *"abcdeghiklmnotuy.,"])
TOL = 1e-4


def make_model(**cfg) -> F5Model:
    model = F5Model(random_dit_config(**cfg), VOCAB).eval()
    randomize(model.transformer, seed=1, std=0.08)
    return model


@pytest.fixture(scope="module", params=[{}, {"text_mask_padding": True, "pe_attn_head": None}], ids=["base", "v1"])
def model(request):
    return make_model(**request.param)


def items():
    gen = torch.Generator().manual_seed(0)
    return [
        # (cond frames, text, duration, seed)
        (torch.randn(12, 100, generator=gen), "xin chao", 30, 11),
        (torch.randn(20, 100, generator=gen), "mot hai ba bon nam", 45, 22),
        (torch.randn(7, 100, generator=gen), "a", 19, 33),
    ]


def sample_batch(model, chosen, **kw):
    refs = [c for c, _, _, _ in chosen]
    cond = torch.zeros(len(chosen), max(r.shape[0] for r in refs), 100)
    for i, r in enumerate(refs):
        cond[i, : r.shape[0]] = r
    return model.sample(
        cond,
        [t for _, t, _, _ in chosen],
        torch.tensor([d for _, _, d, _ in chosen]),
        lens=torch.tensor([r.shape[0] for r in refs]),
        seed=[s for _, _, _, s in chosen],
        steps=6,
        **kw,
    )


def test_batch_invariance_across_lengths_texts_durations_and_seeds(model):
    chosen = items()
    batched = sample_batch(model, chosen)
    for i, item in enumerate(chosen):
        alone = sample_batch(model, [item])
        dur = item[2]
        assert alone.shape[1] == dur
        assert (batched[i, :dur] - alone[0]).abs().max() <= TOL
        assert torch.all(batched[i, dur:] == 0)  # batch padding stays zero


def test_cond_region_holds_the_cond_mel(model):
    chosen = items()
    out = sample_batch(model, chosen)
    for i, (ref, _, _, _) in enumerate(chosen):
        assert torch.equal(out[i, : ref.shape[0]], ref)


def test_noise_matches_manual_seed_then_randn(model):
    noise = model.noise([5, 3], [7, 9], 6)
    torch.manual_seed(7)
    a = torch.randn(5, 100)
    torch.manual_seed(9)
    b = torch.randn(3, 100)
    assert torch.equal(noise[0, :5], a) and torch.equal(noise[1, :3], b)
    assert torch.all(noise[1, 3:] == 0)


def test_one_step_applies_cfg_formula_to_euler(model):
    cond = torch.randn(1, 8, 100)
    text = model.tokenize(["bac"])
    dur = 16
    out = model.sample(cond, text, dur, steps=1, cfg_strength=2.0, sway_sampling_coef=None, use_epss=False, seed=5)
    x0 = model.noise([dur], [5], dur)
    full_cond = torch.cat((cond, torch.zeros(1, dur - 8, 100)), dim=1)
    t0 = torch.tensor(0.0)
    with torch.inference_mode():
        v_c = model.transformer(x=x0, cond=full_cond, text=text, time=t0)
        v_n = model.transformer(x=x0, cond=full_cond, text=text, time=t0, drop_audio_cond=True, drop_text=True)
    expected = x0 + 1.0 * (v_c + (v_c - v_n) * 2.0)
    assert (out[0, 8:] - expected[0, 8:]).abs().max() <= 1e-5


def test_duration_is_at_least_text_and_reference_plus_one(model):
    cond = torch.randn(1, 10, 100)
    out = model.sample(cond, ["abcdeabcdeabcde"], 3, steps=2, seed=0)
    assert out.shape[1] == 16  # 15 tokens + 1 beats both the reference (10) and the request (3)


def test_progress_is_reported_every_step(model):
    seen = []
    sample_batch(model, items()[:1], progress=lambda k, n: seen.append((k, n)))
    assert seen == [(k, 6) for k in range(1, 7)]


def test_cancelling_one_item_leaves_the_others_unchanged(model):
    chosen = items()
    reference = sample_batch(model, chosen)
    steps_done = []

    def cancelled():
        return {1} if len(steps_done) >= 2 else set()

    out = sample_batch(model, chosen, progress=lambda k, n: steps_done.append(k), cancelled=cancelled)
    for i in (0, 2):
        dur = chosen[i][2]
        assert (out[i, :dur] - reference[i, :dur]).abs().max() <= TOL
    ref_len = chosen[1][0].shape[0]
    assert torch.equal(out[1, :ref_len], chosen[1][0])
    assert torch.all(out[1, ref_len:] == 0)


def test_cancelling_everything_stops_early(model):
    steps_done = []
    out = sample_batch(model, items(), progress=lambda k, n: steps_done.append(k), cancelled=lambda: {0, 1, 2})
    assert steps_done == []
    assert out.shape[0] == 3


def test_mel_frames_and_shape(model):
    wav = torch.randn(2, 24000) * 0.1
    mel = model.mel(wav)
    assert mel.shape == (2, 24000 // 256 + 1, 100)
    assert mel.min() >= torch.log(torch.tensor(1e-5)) - 1e-6
