import math

import torch

from f5_tts.dit import (
    GRN,
    AdaLayerNormFinal,
    Attention,
    RotaryEmbedding,
    TextEmbedding,
    TimestepEmbedding,
    apply_rotary,
    sinusoidal_positions,
)

from .conftest import randomize


def test_rotary_is_interleaved_pairs():
    rope = RotaryEmbedding(4)  # inv_freq = [1, 1/100]
    assert torch.allclose(rope.inv_freq, torch.tensor([1.0, 0.01]))
    angles = rope.angles(3, torch.device("cpu"))
    # Each adjacent channel pair shares one frequency.
    assert torch.allclose(angles[2], torch.tensor([2.0, 2.0, 0.02, 0.02]))
    x = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 1, 1, 4).expand(1, 1, 3, 4)
    out = apply_rotary(x, angles)[0, 0, 2]
    c, s = math.cos(2.0), math.sin(2.0)
    c2, s2 = math.cos(0.02), math.sin(0.02)
    # (x0, x1) -> (x0 cos - x1 sin, x1 cos + x0 sin)
    expected = torch.tensor([1 * c - 2 * s, 2 * c + 1 * s, 3 * c2 - 4 * s2, 4 * c2 + 3 * s2])
    assert torch.allclose(out, expected, atol=1e-6)
    assert torch.equal(apply_rotary(x, angles)[0, 0, 0], x[0, 0, 0])  # position 0 is unrotated


def _heads_sensitive_to_order(rotary_heads):
    """Per head: does reversing the sequence do more than reverse that head's output?

    Attention without position information is permutation-equivariant; rotary breaks that.
    """
    torch.manual_seed(0)
    attn = randomize(Attention(dim=16, heads=2, dim_head=8, rotary_heads=rotary_heads), std=0.3)
    angles = RotaryEmbedding(8).angles(5, torch.device("cpu"))
    x = torch.randn(1, 5, 16)
    outs = []
    attn.to_out[0].register_forward_pre_hook(lambda _m, a: outs.append(a[0]))
    attn(x, angles, None)
    attn(x.flip(1), angles, None)
    forward, backward = outs
    return [
        not torch.allclose(forward[0, :, h * 8 : (h + 1) * 8], backward[0, :, h * 8 : (h + 1) * 8].flip(0), atol=1e-5)
        for h in range(2)
    ]


def test_base_rotates_head_zero_only_and_v1_all_heads():
    assert _heads_sensitive_to_order(rotary_heads=1) == [True, False]
    assert _heads_sensitive_to_order(rotary_heads=None) == [True, True]


def test_grn_hand_checked_and_masked():
    grn = GRN(2)
    grn.gamma.data = torch.tensor([[[1.0, 2.0]]])
    grn.beta.data = torch.tensor([[[0.5, -0.5]]])
    x = torch.tensor([[[3.0, 0.0], [4.0, 1.0]]])  # [b=1, n=2, c=2]
    # L2 over positions: [5, 1]; divided by their mean 3 (+1e-6)
    nx = torch.tensor([5.0, 1.0]) / (3.0 + 1e-6)
    expected = torch.tensor([1.0, 2.0]) * (x * nx) + torch.tensor([0.5, -0.5]) + x
    assert torch.allclose(grn(x), expected)
    # A padded third position must not change the norm of the real ones.
    padded = torch.cat((x, torch.tensor([[[100.0, 100.0]]])), dim=1)
    valid = torch.tensor([[True, True, False]])
    assert torch.allclose(grn(padded, valid)[:, :2], expected)


def test_timestep_embedding_is_sin_then_cos_of_1000t():
    emb = TimestepEmbedding(dim=4, freq_dim=8)
    captured = {}
    emb.time_mlp[0].register_forward_pre_hook(lambda _m, a: captured.setdefault("x", a[0]))
    emb(torch.tensor([0.25]))
    freqs = torch.exp(torch.arange(4) * -(math.log(1e4) / 3))
    arg = 250.0 * freqs
    assert torch.allclose(captured["x"][0], torch.cat((arg.sin(), arg.cos())), atol=1e-5)


def test_final_adaln_splits_scale_then_shift():
    norm = AdaLayerNormFinal(2)
    with torch.no_grad():
        norm.linear.weight.zero_()
        norm.linear.bias.copy_(torch.tensor([1.0, 1.0, 10.0, 10.0]))  # scale=1, shift=10
    x = torch.tensor([[[1.0, -1.0]]])
    out = norm(x, torch.zeros(1, 2))
    normed = torch.nn.functional.layer_norm(x, (2,), eps=1e-6)
    assert torch.allclose(out, normed * 2 + 10)


def test_text_positions_are_cos_then_sin():
    table = sinusoidal_positions(3, 4, torch.device("cpu"))
    freqs = torch.tensor([1.0, 0.01])
    assert torch.allclose(table[2], torch.cat(((2 * freqs).cos(), (2 * freqs).sin())))


def test_text_embedding_filler_and_null_condition():
    torch.manual_seed(0)
    for mask_padding in (False, True):
        emb = randomize(TextEmbedding(vocab_size=5, text_dim=8, conv_layers=1, mask_padding=mask_padding))
        text = torch.tensor([[0, 1, 2, -1]])
        out = emb(text, 6, drop_text=False, valid=None)
        assert out.shape == (1, 6, 8)
        null = emb(text, 6, drop_text=True, valid=None)
        same_ids = emb(torch.full((1, 4), -1), 6, drop_text=False, valid=None)
        if mask_padding:
            # v1 zeroes filler positions (the batch padding -1 and the tail) around every block.
            assert torch.all(out[0, 3:] == 0)
            # The null pass masks the positions the real text had as fillers, decided before dropping.
            assert torch.all(null[0, 3:] == 0) and not torch.all(null[0, :3] == 0)
        else:
            # Base: the null condition is all-filler text, exactly like text of fillers only.
            assert torch.allclose(null, same_ids)
            assert not torch.all(out[0, 3:] == 0)
