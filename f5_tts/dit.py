"""The DiT backbone of F5-TTS, with module names that match the published state dict.

Every position-mixing operation (attention, convolutions, GRN) honours a validity mask, so an item
padded into a batch computes exactly what it computes alone: that is what lets the scheduler batch
requests of different lengths without changing anyone's audio.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from f5_tts.config import DiTConfig

Mask = torch.Tensor  # bool [b, n], True where a position is real


def _zero_invalid(x: torch.Tensor, keep: Mask | None) -> torch.Tensor:
    return x if keep is None else x.masked_fill(~keep.unsqueeze(-1), 0.0)


# --------------------------------------------------------------------------------------------- time


class TimestepEmbedding(nn.Module):
    """Sinusoid of 1000*t (sin then cos), then Linear -> SiLU -> Linear."""

    def __init__(self, dim: int, freq_dim: int = 256):
        super().__init__()
        self.freq_dim = freq_dim
        self.time_mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.freq_dim // 2
        freqs = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * -(math.log(1e4) / (half - 1)))
        args = 1000.0 * t.float().unsqueeze(1) * freqs.unsqueeze(0)
        sinus = torch.cat((args.sin(), args.cos()), dim=-1).to(t.dtype)
        return self.time_mlp(sinus)


# --------------------------------------------------------------------------------------------- text


class GRN(nn.Module):
    """Global response normalisation (ConvNeXt-V2) with the L2 norm taken over real positions only."""

    def __init__(self, dim: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, dim))

    def forward(self, x: torch.Tensor, valid: Mask | None = None) -> torch.Tensor:
        gx = torch.norm(_zero_invalid(x, valid), p=2, dim=1, keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        return self.gamma * (x * nx) + self.beta + x


class ConvNeXtV2Block(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.grn = GRN(hidden)
        self.pwconv2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, valid: Mask | None) -> torch.Tensor:
        residual = x
        # Padding must look like the conv's own zero padding, as it does for an item alone.
        h = self.dwconv(_zero_invalid(x, valid).transpose(1, 2)).transpose(1, 2)
        h = self.act(self.pwconv1(self.norm(h)))
        h = self.pwconv2(self.grn(h, valid))
        return residual + h


def sinusoidal_positions(n: int, dim: int, device: torch.device) -> torch.Tensor:
    """cat(cos, sin) of pos * 10000^(-2i/dim): the fixed position table added to text embeddings."""
    freqs = 1.0 / (10000.0 ** (torch.arange(0, dim, 2, device=device)[: dim // 2].float() / dim))
    angles = torch.outer(torch.arange(n, device=device).float(), freqs)
    return torch.cat((angles.cos(), angles.sin()), dim=-1)


class TextEmbedding(nn.Module):
    def __init__(self, vocab_size: int, text_dim: int, conv_layers: int, mask_padding: bool):
        super().__init__()
        self.text_embed = nn.Embedding(vocab_size + 1, text_dim)  # row 0 is the filler token
        self.mask_padding = mask_padding
        self.text_blocks = nn.ModuleList(ConvNeXtV2Block(text_dim, text_dim * 2) for _ in range(conv_layers))

    def forward(self, text: torch.Tensor, seq_len: int, drop_text: bool, valid: Mask | None) -> torch.Tensor:
        ids = text[:, :seq_len] + 1  # batch padding -1 becomes the filler 0
        ids = F.pad(ids, (0, seq_len - ids.shape[1]), value=0)
        filler = ids == 0  # decided before dropping, so the null pass masks the same positions
        if drop_text:
            ids = torch.zeros_like(ids)
        x = self.text_embed(ids)
        if not self.text_blocks:
            return x
        x = x + sinusoidal_positions(seq_len, x.shape[-1], x.device).to(x.dtype)
        # v1 zeroes filler positions around every block; the GRN norm still spans every real frame.
        filler_keep = ~filler if self.mask_padding else None
        x = _zero_invalid(x, filler_keep)
        for block in self.text_blocks:
            x = _zero_invalid(block(x, valid), filler_keep)
        return x


# -------------------------------------------------------------------------------------------- input


class ConvPositionEmbedding(nn.Module):
    def __init__(self, dim: int, kernel_size: int = 31, groups: int = 16):
        super().__init__()
        self.conv1d = nn.Sequential(
            nn.Conv1d(dim, dim, kernel_size, groups=groups, padding=kernel_size // 2),
            nn.Mish(),
            nn.Conv1d(dim, dim, kernel_size, groups=groups, padding=kernel_size // 2),
            nn.Mish(),
        )

    def forward(self, x: torch.Tensor, valid: Mask | None) -> torch.Tensor:
        conv1, act1, conv2, act2 = self.conv1d
        h = act1(conv1(_zero_invalid(x, valid).transpose(1, 2))).transpose(1, 2)
        h = act2(conv2(_zero_invalid(h, valid).transpose(1, 2))).transpose(1, 2)
        return _zero_invalid(h, valid)


class InputEmbedding(nn.Module):
    def __init__(self, mel_dim: int, text_dim: int, dim: int):
        super().__init__()
        self.proj = nn.Linear(mel_dim * 2 + text_dim, dim)
        self.conv_pos_embed = ConvPositionEmbedding(dim)

    def forward(self, x, cond, text_embed, valid: Mask | None) -> torch.Tensor:
        h = self.proj(torch.cat((x, cond, text_embed), dim=-1))
        return self.conv_pos_embed(h, valid) + h


# ---------------------------------------------------------------------------------------- attention


class RotaryEmbedding(nn.Module):
    """Interleaved rotary embedding: channels (2i, 2i+1) share frequency inv_freq[i]."""

    def __init__(self, dim: int, base: float = 10000.0):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)))

    def angles(self, seq_len: int, device: torch.device) -> torch.Tensor:
        # fp32 even in a half-precision model: positions beyond 2048 are not exact in fp16.
        pos = torch.arange(seq_len, device=device, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv_freq.to(device=device, dtype=torch.float32))
        return freqs.repeat_interleave(2, dim=-1)  # [n, rot_dim]


def apply_rotary(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate each adjacent channel pair (x0, x1) of x [b, h, n, d] by its angle."""
    rot_dim = angles.shape[-1]
    xr, rest = x[..., :rot_dim].float(), x[..., rot_dim:]
    pairs = xr.unflatten(-1, (-1, 2))
    rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
    out = xr * angles.cos() + rotated * angles.sin()
    return torch.cat((out.to(x.dtype), rest), dim=-1)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int, rotary_heads: int | None):
        super().__init__()
        inner = heads * dim_head
        self.heads, self.dim_head, self.rotary_heads = heads, dim_head, rotary_heads
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim)])

    def forward(self, x: torch.Tensor, angles: torch.Tensor, valid: Mask | None) -> torch.Tensor:
        b, n, _ = x.shape
        q, k, v = (
            proj(x).view(b, n, self.heads, self.dim_head).transpose(1, 2) for proj in (self.to_q, self.to_k, self.to_v)
        )
        r = self.rotary_heads or self.heads
        if r == self.heads:
            q, k = apply_rotary(q, angles), apply_rotary(k, angles)
        else:
            q = torch.cat((apply_rotary(q[:, :r], angles), q[:, r:]), dim=1)
            k = torch.cat((apply_rotary(k[:, :r], angles), k[:, r:]), dim=1)
        attn_mask = None if valid is None else valid[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        out = self.to_out[0](out.transpose(1, 2).reshape(b, n, -1))
        return _zero_invalid(out, valid)


class AdaLayerNormZero(nn.Module):
    """SiLU(t) -> Linear to (shift, scale, gate) for attention, then for the MLP."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, dim * 6)
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)

    def forward(self, x: torch.Tensor, t: torch.Tensor):
        shift, scale, gate, shift_mlp, scale_mlp, gate_mlp = self.linear(F.silu(t)).chunk(6, dim=1)
        return self.norm(x) * (1 + scale[:, None]) + shift[:, None], gate, shift_mlp, scale_mlp, gate_mlp


class AdaLayerNormFinal(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, dim * 2)
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        scale, shift = self.linear(F.silu(t)).chunk(2, dim=1)  # published order: scale first
        return self.norm(x) * (1 + scale[:, None]) + shift[:, None]


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int):
        super().__init__()
        inner = dim * mult
        # Indices 0.0 and 2 match the published keys (ff.ff.0.0, ff.ff.2); index 1 was dropout.
        self.ff = nn.Sequential(
            nn.Sequential(nn.Linear(dim, inner), nn.GELU(approximate="tanh")),
            nn.Identity(),
            nn.Linear(inner, dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ff(x)


class DiTBlock(nn.Module):
    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.attn_norm = AdaLayerNormZero(cfg.dim)
        self.attn = Attention(cfg.dim, cfg.heads, cfg.dim_head, cfg.pe_attn_head)
        self.ff_norm = nn.LayerNorm(cfg.dim, elementwise_affine=False, eps=1e-6)
        self.ff = FeedForward(cfg.dim, cfg.ff_mult)

    def forward(self, x, t, angles, valid: Mask | None):
        normed, gate, shift_mlp, scale_mlp, gate_mlp = self.attn_norm(x, t)
        x = x + gate.unsqueeze(1) * self.attn(normed, angles, valid)
        normed = self.ff_norm(x) * (1 + scale_mlp[:, None]) + shift_mlp[:, None]
        return x + gate_mlp.unsqueeze(1) * self.ff(normed)


# ---------------------------------------------------------------------------------------------- DiT


class DiT(nn.Module):
    """Predicts the flow velocity of noisy mel frames given the reference mel and the text."""

    def __init__(self, cfg: DiTConfig, vocab_size: int):
        super().__init__()
        self.cfg = cfg
        self.time_embed = TimestepEmbedding(cfg.dim)
        self.text_embed = TextEmbedding(vocab_size, cfg.text_dim, cfg.conv_layers, cfg.text_mask_padding)
        self.input_embed = InputEmbedding(cfg.mel_dim, cfg.text_dim, cfg.dim)
        self.rotary_embed = RotaryEmbedding(cfg.dim_head)
        self.transformer_blocks = nn.ModuleList(DiTBlock(cfg) for _ in range(cfg.depth))
        self.norm_out = AdaLayerNormFinal(cfg.dim)
        self.proj_out = nn.Linear(cfg.dim, cfg.mel_dim)

    def embed_text(self, text: torch.Tensor, seq_len: int, *, drop_text: bool = False, mask: Mask | None = None):
        """Text features for `seq_len` frames; independent of t, so samplers compute them once."""
        return self.text_embed(text, seq_len, drop_text, mask)

    def velocity(self, x, cond, text_embed, time, mask: Mask | None = None) -> torch.Tensor:
        """One velocity from precomputed text features (cond already zeroed for a null pass)."""
        b, n, _ = x.shape
        if time.ndim == 0:
            time = time.repeat(b)
        t = self.time_embed(time)
        h = self.input_embed(x, cond, text_embed, mask)
        angles = self.rotary_embed.angles(n, x.device)
        for block in self.transformer_blocks:
            h = block(h, t, angles, mask)
        return self.proj_out(self.norm_out(h, t))

    def forward(self, x, cond, text, time, drop_audio_cond: bool = False, drop_text: bool = False, mask=None):
        if drop_audio_cond:
            cond = torch.zeros_like(cond)
        text_embed = self.embed_text(text, x.shape[1], drop_text=drop_text, mask=mask)
        return self.velocity(x, cond, text_embed, time, mask)
