"""Architecture presets of the published F5-TTS family, and the tiny demo one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

MEL_DIM = 100


@dataclass(frozen=True)
class DiTConfig:
    """Hyper-parameters of the DiT backbone; the field names are the published config keys."""

    dim: int
    depth: int
    heads: int
    dim_head: int = 64
    ff_mult: int = 2
    text_dim: int = 512
    conv_layers: int = 4
    # F5TTS_Base (and the Vietnamese fine-tune) leaves filler tokens unmasked in the text ConvNeXt;
    # v1 zeroes them around every block.
    text_mask_padding: bool = False
    # How many heads get rotary position embedding: Base rotates head 0 only, v1 all heads (None).
    pe_attn_head: int | None = 1
    mel_dim: int = MEL_DIM

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, DiTConfig] = {
    "F5TTS_Base": DiTConfig(dim=1024, depth=22, heads=16, text_mask_padding=False, pe_attn_head=1),
    "F5TTS_v1_Base": DiTConfig(dim=1024, depth=22, heads=16, text_mask_padding=True, pe_attn_head=None),
    "F5TTS_Small": DiTConfig(dim=768, depth=18, heads=12, text_mask_padding=False, pe_attn_head=1),
    # Tiny and fast: random weights for tests and `make demo`, Base semantics.
    "demo": DiTConfig(dim=64, depth=2, heads=2, dim_head=32, ff_mult=2, text_dim=32, conv_layers=1, pe_attn_head=1),
}


def resolve_arch(arch: str | dict[str, Any] | DiTConfig) -> tuple[str, DiTConfig]:
    """Return (name, config) for a preset name, a published config dict or a config."""
    if isinstance(arch, DiTConfig):
        return "custom", arch
    if isinstance(arch, str):
        if arch not in PRESETS:
            raise ValueError(f"unknown arch {arch!r}; choose one of {sorted(PRESETS)} or pass a config dict")
        return arch, PRESETS[arch]
    if isinstance(arch, dict):
        known = {f.name for f in fields(DiTConfig)}
        unknown = sorted(set(arch) - known)
        if unknown:
            raise ValueError(f"unknown arch config keys {unknown}; known keys: {sorted(known)}")
        missing = sorted({"dim", "depth", "heads"} - set(arch))
        if missing:
            raise ValueError(f"arch config lacks required keys {missing}")
        return "custom", DiTConfig(**arch)
    raise TypeError(f"arch must be a preset name, a dict or a DiTConfig, not {type(arch).__name__}")
