"""Time grids for the Euler solver: uniform or the pruned "EPSS" grids, then sway sampling."""

from __future__ import annotations

import math

import torch

# Empirically pruned step grids (Fast F5-TTS), in 32nds: dense early, where the flow bends most.
EPSS_GRIDS: dict[int, tuple[int, ...]] = {
    5: (0, 2, 4, 8, 16, 32),
    6: (0, 2, 4, 6, 8, 16, 32),
    7: (0, 2, 4, 6, 8, 16, 24, 32),
    10: (0, 2, 4, 6, 8, 12, 16, 20, 24, 28, 32),
    12: (0, 2, 4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32),
    16: (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32),
}


def time_grid(
    steps: int,
    *,
    sway_sampling_coef: float | None = -1.0,
    use_epss: bool = True,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """steps+1 times from 0 to 1; sway s bends them: t + s*(cos(pi*t/2) - 1 + t)."""
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if use_epss and steps in EPSS_GRIDS:
        t = torch.tensor(EPSS_GRIDS[steps], device=device, dtype=dtype) * (1.0 / 32)
    else:
        t = torch.linspace(0, 1, steps + 1, device=device, dtype=dtype)
    if sway_sampling_coef is not None:
        t = t + sway_sampling_coef * (torch.cos(math.pi / 2 * t) - 1 + t)
    return t
