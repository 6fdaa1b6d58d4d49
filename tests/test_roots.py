"""vdrbone.roots.brentq against scipy.optimize.brentq (same steps, hence the same root)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from vdrbone.roots import brentq


def _cases():
    rng = np.random.default_rng(12)
    for _ in range(200):
        c = rng.normal(size=3)
        yield lambda x, c=c: x**3 - c[0], -10.0, 10.0
        yield lambda x, c=c: math.tanh(x - c[1]) - 0.5 * math.tanh(c[2]), -20.0, 20.0
        yield lambda x, c=c: (x - c[0]) * (x + 5) ** 2 + 1e-3 * c[1], -9.0, 11.0


@pytest.mark.parametrize(
    "xtol, rtol", [(2e-12, 4 * np.finfo(float).eps), (1e-13, 4 * np.finfo(float).eps), (1e-4, 1e-8)]
)
def test_brentq_matches_scipy_bit_for_bit(xtol, rtol):
    for f, a, b in _cases():
        assert brentq(f, a, b, xtol=xtol, rtol=rtol, maxiter=200) == optimize.brentq(
            f, a, b, xtol=xtol, rtol=rtol, maxiter=200
        )


def test_brentq_endpoint_root_and_errors():
    assert brentq(lambda x: x - 1.0, 1.0, 3.0) == 1.0
    assert brentq(lambda x: x - 3.0, 1.0, 3.0) == 3.0
    with pytest.raises(ValueError, match="different signs"):
        brentq(lambda x: x * x + 1, -1.0, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        brentq(lambda x: math.nan, -1.0, 1.0)
    with pytest.raises(ValueError, match="rtol"):
        brentq(lambda x: x, -1.0, 1.0, rtol=1e-17)
    with pytest.raises(RuntimeError, match="converge"):
        brentq(lambda x: math.exp(x) - 1.3, -1.0, 1.0, xtol=1e-300, maxiter=3)
