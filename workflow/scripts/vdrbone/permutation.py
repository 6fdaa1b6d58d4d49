"""Permutation p-values: PLINK 1.9 ``--mperm`` max(T) (EMP1, EMP2) and adaptive ``--perm`` (EMP1).

The permuted statistics are the ones PLINK 1.9 ``--assoc`` computes and permutes, one per
variant x stratum:

- binary outcomes, ``test`` ``allelic``: Pearson chi-square (1 df, no continuity correction) of
  the 2 x 2 table case/control x effect/other allele, each diploid genotype counted as two
  alleles and each haploid (mtDNA) call as one (PLINK ``--assoc`` CHISQ; for mtDNA this is the
  carrier x case table);
- continuous outcomes, ``test`` ``linear_t2``: the squared t statistic of the regression of the
  outcome on the effect-allele count (PLINK ``--assoc`` on a quantitative trait, T), i.e.
  (n - 2) r^2 / (1 - r^2).

Outcome labels (values) are permuted among the people with the outcome observed, within cells
(the finest stratification among the configured strata: T2DM x sex when both are analysed), so
that every analysed stratum keeps its members and every person keeps their genotypes and
covariates. One permutation serves every stratum; the statistics of all variants x strata are
scored at once from matrix products of the genotype columns with the block of permuted outcome
vectors (vectorised; no model is refitted). Unadjusted statistics: covariates do not enter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from vdrbone.association import _qc_exclusions, genotype_matrix
from vdrbone.panel import Panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.results import PERMUTATION_COLUMNS
from vdrbone.settings import Settings
from vdrbone.strata import strata_masks

# Relative tolerance under which a permuted statistic ties the observed one (counts half for
# EMP1, as PLINK does with its EPSILON).
TIE = 1e-9
BLOCK = 200  # permutations scored per matrix product


@dataclass(frozen=True)
class Adaptive:
    """PLINK 1.9 ``--aperm`` settings of the adaptive ``--perm`` run (PLINK's defaults but ``max``).

    A test stops at a check after ``N`` permutations when, with ``p = (R + 1) / (N + 1)`` (R:
    permuted statistics at least as large, ties half), the interval ``p +- z sqrt(p (1 - p) / N)``,
    ``z`` the normal quantile at ``1 - beta / (2 m)`` for ``m`` tests, excludes ``alpha``; checks
    at ``N = min``, then every ``init_interval + slope N`` permutations; at most ``max``.
    """

    min: int = 5
    max: int = 100_000
    alpha: float = 0.0
    beta: float = 1e-4
    init_interval: float = 1.0
    slope: float = 0.001


class _Cells:
    """The people with the outcome observed, by permutation cell, with their genotype columns.

    Every analysed stratum must be a union of cells (checked), so the sums a statistic needs
    are computed per cell and added up per stratum through ``member`` (strata x cells). Within a
    cell the sums of y and y^2 over everybody do not change under permutation, so the sums over
    the people with a genotype are those totals minus the (few) people without one; only the
    allele-count sums need a dense product (people x variants x permutations).
    """

    def __init__(self, y, G, ploidy, strata, codes):
        observed = np.isfinite(y)
        codes = np.where(observed, codes, -1)
        self.idx = [np.flatnonzero(codes == c) for c in np.unique(codes[observed])]
        self.y = [y[i] for i in self.idx]
        self.A = [np.ascontiguousarray(np.nan_to_num(G[i].T, nan=0.0)) for i in self.idx]
        missing = [~np.isfinite(G[i].T) for i in self.idx]
        self.miss_rows = [np.flatnonzero(m.any(axis=0)) for m in missing]  # people missing any genotype
        self.miss = [
            np.ascontiguousarray(m[:, r].astype(float)) for m, r in zip(missing, self.miss_rows, strict=True)
        ]
        self.n_called = [(~m).sum(axis=1).astype(float) for m in missing]
        member = np.zeros((len(strata), len(self.idx)))
        for s, mask in enumerate(strata):
            for c, i in enumerate(self.idx):
                m = mask[i]
                if m.any() and not m.all():
                    raise ValueError(
                        f"stratum {s} is not a union of permutation cells: cell {c} is split "
                        f"({int(m.sum())} of {m.size} people inside)"
                    )
                member[s, c] = float(m.all() and m.size > 0)
        self.member = member
        self.ploidy = np.tile(np.asarray(ploidy, dtype=float), len(strata))

    def _add_up(self, blocks: list[np.ndarray]) -> np.ndarray:
        total = np.einsum("sc,cvb->svb", self.member, np.stack(blocks))  # strata x variants x columns
        return total.reshape(-1, total.shape[-1])

    def sums(self, Yts: list[np.ndarray], binary: bool, variants=None) -> dict[str, np.ndarray]:
        """Per-test sums (strata x variants flattened, rows) for the per-cell outcome blocks
        ``Yts`` (columns x people of the cell): ``a`` = sum of allele count x y, ``m`` = sum of y
        and (continuous) ``mm`` = sum of y^2 over the people with a genotype."""
        a, m, mm = [], [], []
        for c, Yt in enumerate(Yts):
            A, miss = self.A[c], self.miss[c]
            if variants is not None:
                A, miss = A[variants], miss[variants]
            a.append((Yt @ A.T).T)
            Ym = Yt[:, self.miss_rows[c]]
            m.append(Yt.sum(axis=1)[None, :] - (Ym @ miss.T).T)
            if not binary:
                mm.append((Yt * Yt).sum(axis=1)[None, :] - ((Ym * Ym) @ miss.T).T)
        out = {"a": self._add_up(a), "m": self._add_up(m)}
        if not binary:
            out["mm"] = self._add_up(mm)
        return out

    def fixed(self) -> dict[str, np.ndarray]:
        """Per-test permutation-invariant sums: allele total, people counted, sum of squares."""
        sa = self._add_up([A.sum(axis=1)[:, None] for A in self.A])[:, 0]
        saa = self._add_up([(A * A).sum(axis=1)[:, None] for A in self.A])[:, 0]
        nw = self._add_up([n[:, None] for n in self.n_called])[:, 0]
        return {"sa": sa, "nw": nw, "saa": saa}

    def observed(self) -> list[np.ndarray]:
        return [y[None, :] for y in self.y]

    def permuted(self, n_block: int, rng: np.random.Generator) -> list[np.ndarray]:
        """Per cell: (n_block, people) outcome values, each row permuted within the cell.

        Each row is shuffled in place (``Generator.shuffle``, Fisher-Yates): the same draws and
        rows as ``y[rng.permuted(np.tile(np.arange(y.size), (n_block, 1)), axis=1)]``, without
        the index matrix and the gather."""
        blocks = []
        for y in self.y:
            block = np.tile(y, (n_block, 1))
            for row in block:
                rng.shuffle(row)
            blocks.append(block)
        return blocks


def _statistics(s: dict, fixed: dict, ploidy: np.ndarray, binary: bool, rows=None) -> np.ndarray:
    """Allelic chi-square or QT t^2 per test (rows) and column, from the per-test sums."""
    f = fixed if rows is None else {k: v[rows] for k, v in fixed.items()}
    pl = ploidy if rows is None else ploidy[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        if binary:
            a, r1 = s["a"], pl[:, None] * s["m"]
            c1, tot = f["sa"][:, None], (pl * f["nw"])[:, None]
            out = tot * (a * tot - r1 * c1) ** 2 / (r1 * (tot - r1) * c1 * (tot - c1))
        else:
            nw = f["nw"][:, None]
            sxy = s["a"] - f["sa"][:, None] * s["m"] / nw
            vy = s["mm"] - s["m"] * s["m"] / nw
            sxx = (f["saa"] - f["sa"] ** 2 / f["nw"])[:, None]
            r2 = sxy * sxy / (sxx * vy)
            out = (nw - 2) * r2 / (1 - r2)
    return np.where(np.isfinite(out), out, np.nan)


def _exceed(perm: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Per test and column: 2 if perm > obs, 1 if tied (relative TIE), else 0 (PLINK's 2x count)."""
    tol = TIE * np.maximum(1.0, np.abs(obs))[:, None]
    diff = perm - obs[:, None]
    return np.where(diff > tol, 2, np.where(np.abs(diff) <= tol, 1, 0))


def permutation_pvalues(
    y,
    genotypes,
    *,
    ploidy,
    strata: list[np.ndarray],
    cells,
    binary: bool,
    n_perm: int,
    seed,
    adaptive: Adaptive | None = None,
    valid=None,
) -> dict[str, np.ndarray]:
    """Max(T) and adaptive permutation p-values of the allelic / QT tests (module docstring).

    Parameters
    ----------
    y : float array (n,), outcome (binary 0/1); NaN = missing (not permuted, not counted).
    genotypes : float array (n, v), effect-allele counts (0/1/2; mtDNA 0/1); NaN = missing.
    ploidy : int array (v,), 2 or 1.
    strata : list of S bool masks (n,); tests are (stratum, variant) in that order. Each must be a
        union of cells among the people with ``y`` observed.
    cells : array (n,) of permutation cell codes; labels move only within a cell.
    binary : allelic chi-square (True) or QT t^2 (False).
    n_perm : max(T) permutations (PLINK ``--mperm``); 0 skips them.
    seed : int or sequence of ints, the entropy of :func:`numpy.random.default_rng`; the max(T)
        run appends 0, the adaptive run 1 (reruns with the same seed give identical results).
    adaptive : settings of the adaptive run (PLINK ``--perm``), or None to skip it.
    valid : optional bool array (S * v,), tests to include (others NaN, out of the family).

    Returns
    -------
    dict of arrays (S * v,): ``statistic`` (observed), ``emp1`` and ``emp2`` ((R + 1) / (N + 1),
    ties half for EMP1; EMP2 compares each test with the maximum over the family of valid tests
    of every permutation), ``emp1_adaptive`` and ``n_perm_adaptive``. NaN where not computed.
    """
    y = np.asarray(y, dtype=float)
    G = np.asarray(genotypes, dtype=float)
    if G.ndim != 2 or G.shape[0] != y.shape[0]:
        raise ValueError(f"genotypes must be (n, v) with n = {y.shape[0]}, got shape {G.shape}")
    ploidy = np.asarray(ploidy, dtype=float)
    if ploidy.shape != (G.shape[1],) or not np.isin(ploidy, (1, 2)).all():
        raise ValueError(f"ploidy must be {G.shape[1]} values of 1 or 2, got {ploidy}")
    if n_perm < 0:
        raise ValueError(f"n_perm must be >= 0, got {n_perm}")
    if binary and not np.isin(y[np.isfinite(y)], (0, 1)).all():
        raise ValueError("binary y must be 0/1 or NaN")
    codes = np.asarray(cells)
    if codes.shape != y.shape:
        raise ValueError(f"cells must have one code per person ({y.shape[0]}), got shape {codes.shape}")
    cells_ = _Cells(y, G, ploidy, strata, codes)
    fixed = cells_.fixed()
    obs = _statistics(cells_.sums(cells_.observed(), binary), fixed, cells_.ploidy, binary)[:, 0]
    if valid is not None:
        obs = np.where(np.asarray(valid, dtype=bool), obs, np.nan)
    ok = np.isfinite(obs)
    out = {k: np.full(obs.shape, np.nan) for k in ("emp1", "emp2", "emp1_adaptive", "n_perm_adaptive")}
    out["statistic"] = obs
    if not ok.any():
        return out
    rows = np.flatnonzero(ok)
    o = obs[rows]
    entropy = [int(x) for x in np.atleast_1d(seed)]
    if n_perm:
        rng = np.random.default_rng([*entropy, 0])
        success = np.zeros(o.size)
        max_hits = np.zeros(o.size)
        done = 0
        while done < n_perm:
            b = min(BLOCK, n_perm - done)
            sums = cells_.sums(cells_.permuted(b, rng), binary)
            P = _statistics({k: v[rows] for k, v in sums.items()}, fixed, cells_.ploidy, binary, rows)
            success += _exceed(P, o).sum(axis=1)
            top = np.nanmax(np.where(np.isfinite(P), P, -np.inf), axis=0)
            max_hits += (top[None, :] >= o[:, None] - TIE * np.maximum(1.0, o)[:, None]).sum(axis=1)
            done += b
        out["emp1"][rows] = (success / 2 + 1) / (n_perm + 1)
        out["emp2"][rows] = (max_hits + 1) / (n_perm + 1)
    if adaptive is not None:
        e1, n_used = _adaptive(cells_, fixed, rows, o, binary, adaptive, np.random.default_rng([*entropy, 1]))
        out["emp1_adaptive"][rows], out["n_perm_adaptive"][rows] = e1, n_used
    return out


def _adaptive(
    cells_: _Cells, fixed, rows, obs, binary, settings: Adaptive, rng
) -> tuple[np.ndarray, np.ndarray]:
    """PLINK 1.9 adaptive permutation (``--perm``): per-test EMP1 and the permutations it used."""
    m = obs.size
    v = cells_.A[0].shape[0] if cells_.A else 0
    from scipy import stats  # imported by the permutation runs only (not for a header-only table)

    z = float(stats.norm.ppf(1 - settings.beta / (2.0 * m)))
    success2 = np.zeros(m)  # 2 x (exceedances + ties / 2)
    stopped_at = np.zeros(m)
    active = np.ones(m, dtype=bool)
    next_check = np.full(m, float(max(settings.min, int(settings.init_interval))))
    done = 0
    while active.any() and done < settings.max:
        b = int(min(BLOCK, settings.max - done))
        live = np.flatnonzero(active)
        variants = np.unique(rows[live] % v)  # only the variants of tests still running
        sums = cells_.sums(cells_.permuted(b, rng), binary, variants=variants)
        pos = {int(x): k for k, x in enumerate(variants)}
        sub_rows = np.array([(rows[t] // v) * len(variants) + pos[int(rows[t] % v)] for t in live])
        P = _statistics({k: x[sub_rows] for k, x in sums.items()}, fixed, cells_.ploidy, binary, rows[live])
        cum = np.cumsum(_exceed(P, obs[live]), axis=1)  # after permutation done + 1 .. done + b
        for t_i, t in enumerate(live):
            while next_check[t] <= done + b:
                n_at = int(next_check[t])
                s2 = success2[t] + cum[t_i, n_at - done - 1]
                if s2 > 0:
                    p = (s2 + 2) / (2.0 * (n_at + 1))
                    half = z * np.sqrt(p * (1 - p) / n_at)
                    if p - half > settings.alpha or p + half < settings.alpha:
                        active[t] = False
                        stopped_at[t] = n_at
                        success2[t] = s2
                        break
                next_check[t] += int(settings.init_interval + n_at * settings.slope)
            if active[t]:
                success2[t] += cum[t_i, -1]
        done += b
    stopped_at[active] = done
    return (success2 / 2 + 1) / (stopped_at + 1), stopped_at


def permutation_cells(pheno: pd.DataFrame, strata: list[str]) -> tuple[np.ndarray, str]:
    """Permutation cells (codes per person) and their description, from the configured strata.

    T2DM x sex cells when both factors define analysed strata (``t2dm_sex``, or ``t2dm`` and
    ``sex``); T2DM or sex alone when only one does; one cell otherwise. A missing value is a cell
    of its own. Permuting within these cells keeps the members of every analysed stratum.
    """
    by = []
    if "t2dm_sex" in strata or "t2dm" in strata:
        by.append("t2dm")
    if "t2dm_sex" in strata or "sex" in strata:
        by.append("sex")
    if not by:
        return np.zeros(len(pheno), dtype=int), "none (one cell)"
    codes = np.zeros(len(pheno), dtype=int)
    for col in by:
        level = pd.factorize(
            pheno[col].astype(object).where(pheno[col].notna(), "missing").astype(str), sort=True
        )
        codes = codes * (len(level[1]) + 1) + level[0]
    return pd.factorize(codes, sort=True)[0], " x ".join(by)


def permutation_outcome(
    calls: pd.DataFrame,
    pheno: pd.DataFrame,
    panel: Panel,
    *,
    outcome: str,
    outcome_index: int,
    settings: Settings,
    qc: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Permutation rows of one outcome (:data:`PERMUTATION_COLUMNS`), every variant x stratum.

    Settings from ``settings.permutation``: ``n`` max(T) permutations (PLINK ``--mperm``),
    ``seed``, ``adaptive`` (PLINK ``--perm``) with at most ``adaptive_max`` permutations per test.
    The seed of outcome k (position in ``settings.outcomes``) is ``[seed, k]``. The family of
    max(T) (EMP2) is every estimable variant x stratum test of the outcome. Tests with fewer than
    ``association.min_stratum_n`` people, without cases or controls, on a monomorphic variant or
    on a variant excluded by QC get a row with the reason and no p-values.
    """
    perm = settings.permutation
    n_perm, seed = int(perm.n), int(perm.seed)
    adaptive = Adaptive(max=int(perm.adaptive_max)) if perm.adaptive else None
    kind = outcome_kind(settings.outcome(outcome))
    if kind == "time_to_event":
        raise ValueError(
            f"permutation_outcome: {outcome!r} is a time-to-event outcome; only binary and continuous"
        )
    binary = kind == "binary"
    min_n = int(settings.association.min_stratum_n)
    vs = list(panel)
    samples = list(pheno["sample"].astype(str))
    G = genotype_matrix(calls, samples, [v.id for v in vs], "effect_count")
    y = pheno[outcome].to_numpy(dtype=float)
    labels = list(strata_masks(pheno, list(settings.strata)).items())
    cells, cell_text = permutation_cells(pheno, list(settings.strata))
    excluded = _qc_exclusions(qc, action=settings.qc.action)
    rows, valid = [], []
    for label, mask in labels:
        for j, v in enumerate(vs):
            m = mask & np.isfinite(y) & np.isfinite(G[:, j])
            n = int(m.sum())
            cases = int((y[m] == 1).sum()) if binary else None
            note = excluded.get(v.id, "")
            if not note and n < min_n:
                note = f"too few samples (n={n} < min_stratum_n={min_n})"
            if not note and binary and (cases == 0 or cases == n):
                note = "no cases" if cases == 0 else "no controls"
            if not note and np.ptp(G[m, j]) == 0:
                note = "monomorphic in this stratum"
            valid.append(not note)
            rows.append(
                {"outcome": outcome, "variant": v.id, "name": v.name, "stratum": label,
                 "test": "allelic" if binary else "linear_t2", "effect_allele": v.effect_allele, "n": n,
                 "n_cases": cases, "n_controls": n - cases if binary else None, "note": note}
            )  # fmt: skip
    res = permutation_pvalues(
        y,
        G,
        ploidy=[v.ploidy for v in vs],
        strata=[m for _, m in labels],
        cells=cells,
        binary=binary,
        n_perm=n_perm,
        seed=[seed, outcome_index],
        adaptive=adaptive,
        valid=np.asarray(valid),
    )
    table = pd.DataFrame(rows)
    for key in ("statistic", "emp1", "emp2", "emp1_adaptive", "n_perm_adaptive"):
        table[key] = res[key]
    df2 = table["n"].to_numpy(float) - 2
    from scipy import stats  # imported when permuting only (not for a header-only table)

    with np.errstate(invalid="ignore"):
        table["p_value"] = (
            stats.chi2.sf(table["statistic"], 1) if binary else stats.f.sf(table["statistic"], 1, df2)
        )
    ok = np.isfinite(table["statistic"].to_numpy(float))
    table["family_size"] = int(ok.sum())
    table["n_perm"] = np.where(ok, n_perm, 0) if n_perm else 0
    table["cells"] = cell_text
    table["seed"] = seed
    what = "allelic chi-square (PLINK --assoc)" if binary else "QT t^2 (PLINK --assoc, quantitative)"
    parts = [f"max(T) {n_perm} permutations (PLINK --mperm)"] if n_perm else []
    if adaptive:
        parts.append(f"adaptive (PLINK --perm, at most {adaptive.max})")
    table["method"] = f"{what}; outcome permuted within {cell_text}; " + ", ".join(
        parts or ["no permutations"]
    )
    for col in ("n", "n_cases", "n_controls", "n_perm", "n_perm_adaptive"):
        table[col] = pd.to_numeric(table[col]).round().astype("Int64")
    return table[PERMUTATION_COLUMNS]
