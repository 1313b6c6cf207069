import math

import pytest
import torch

from f5_tts.sampling import EPSS_GRIDS, time_grid


@pytest.mark.parametrize("nfe", sorted(EPSS_GRIDS))
def test_epss_grids_are_the_published_32nds(nfe):
    t = time_grid(nfe, sway_sampling_coef=None)
    assert torch.equal(t, torch.tensor(EPSS_GRIDS[nfe], dtype=torch.float32) / 32)
    assert len(t) == nfe + 1


def test_published_grid_values():
    assert EPSS_GRIDS[7] == (0, 2, 4, 6, 8, 16, 24, 32)
    assert EPSS_GRIDS[16][:9] == (0, 1, 2, 3, 4, 5, 6, 7, 8)


def test_uniform_grid_without_epss_or_for_other_counts():
    assert torch.allclose(time_grid(32, sway_sampling_coef=None), torch.linspace(0, 1, 33))
    assert torch.allclose(time_grid(7, sway_sampling_coef=None, use_epss=False), torch.linspace(0, 1, 8))


def test_sway_sampling_formula():
    t = time_grid(4, sway_sampling_coef=-1.0, use_epss=False)
    expected = [x - (math.cos(math.pi / 2 * x) - 1 + x) for x in (0, 0.25, 0.5, 0.75, 1.0)]
    assert torch.allclose(t, torch.tensor(expected), atol=1e-7)
    # s = -1 reduces to 1 - cos(pi t / 2): ends fixed, early steps denser.
    assert t[0] == 0 and abs(float(t[-1]) - 1) < 1e-6 and t[1] < 0.25


def test_steps_must_be_positive():
    with pytest.raises(ValueError):
        time_grid(0)
