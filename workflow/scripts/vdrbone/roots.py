"""Scalar root finding without ``scipy.optimize`` (which takes 0.2-0.3 s to import).

:func:`brentq` is Brent's (1973) method as ``scipy.optimize.brentq`` implements it (Charles
Harris's ``brentq.c``): the same steps in the same floating-point operations, hence the same
iterates and root for the same arguments.
"""

from __future__ import annotations

import math

__all__ = ["brentq"]

_RTOL_MIN = 4 * 2.220446049250313e-16  # 4 * machine epsilon, scipy's lower bound for rtol


def _value(f, x: float) -> float:
    v = float(f(x))
    if math.isnan(v):
        raise ValueError(f"brentq: the function value at x={x!r} is NaN")
    return v


def brentq(
    f, a: float, b: float, *, xtol: float = 2e-12, rtol: float = _RTOL_MIN, maxiter: int = 100
) -> float:
    """Root of ``f`` in the bracket [a, b] (f(a) and f(b) of opposite signs) by Brent's method
    (inverse quadratic interpolation / secant with bisection safeguard; Brent 1973), stopping
    when the bracket half-width is below ``(xtol + rtol * |x|) / 2``, as ``scipy.optimize.brentq``.

    Raises ``ValueError`` when [a, b] does not bracket a sign change or a tolerance is out of
    range or f is NaN, ``RuntimeError`` when ``maxiter`` iterations do not converge (scipy's ``disp=True``).
    """
    if xtol <= 0:
        raise ValueError(f"brentq: xtol too small ({xtol:g} <= 0)")
    if rtol < _RTOL_MIN:
        raise ValueError(f"brentq: rtol too small ({rtol:g} < {_RTOL_MIN:g})")
    xpre, xcur = float(a), float(b)
    fpre, fcur = _value(f, xpre), _value(f, xcur)
    if fpre == 0:
        return xpre
    if fcur == 0:
        return xcur
    if math.copysign(1.0, fpre) == math.copysign(1.0, fcur):
        raise ValueError("brentq: f(a) and f(b) must have different signs")
    xblk = fblk = spre = scur = 0.0
    for _ in range(maxiter):
        if fpre != 0 and fcur != 0 and math.copysign(1.0, fpre) != math.copysign(1.0, fcur):
            xblk, fblk = xpre, fpre
            spre = scur = xcur - xpre
        if abs(fblk) < abs(fcur):
            xpre, xcur, xblk = xcur, xblk, xcur
            fpre, fcur, fblk = fcur, fblk, fcur
        delta = (xtol + rtol * abs(xcur)) / 2
        sbis = (xblk - xcur) / 2
        if fcur == 0 or abs(sbis) < delta:
            return xcur
        if abs(spre) > delta and abs(fcur) < abs(fpre):
            if xpre == xblk:  # interpolate (secant)
                stry = -fcur * (xcur - xpre) / (fcur - fpre)
            else:  # extrapolate (inverse quadratic)
                dpre = (fpre - fcur) / (xpre - xcur)
                dblk = (fblk - fcur) / (xblk - xcur)
                stry = -fcur * (fblk * dblk - fpre * dpre) / (dblk * dpre * (fblk - fpre))
            if 2 * abs(stry) < min(abs(spre), 3 * abs(sbis) - delta):  # good short step
                spre, scur = scur, stry
            else:
                spre = scur = sbis
        else:
            spre = scur = sbis
        xpre, fpre = xcur, fcur
        xcur += scur if abs(scur) > delta else (delta if sbis > 0 else -delta)
        fcur = _value(f, xcur)
    raise RuntimeError(f"brentq: failed to converge after {maxiter} iterations, value is {xcur!r}")
