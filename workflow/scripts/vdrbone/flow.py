"""The participant flow (``participant_flow.tsv``, STREGA / STROBE item 13): from the phenotype
table to each model's sample, per outcome, stratum and variant, as rows of ``kind``
``remaining`` (``n`` left) or ``excluded`` (``n`` removed, ``reason``); :func:`flow_paths`
checks that every path adds up. The per-outcome rows come from
:func:`vdrbone.association.associate_outcome`; the merge job adds the head (:func:`flow_head`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vdrbone.strata import stratum_fixed

# participant_flow.tsv: from the phenotype table to each model's sample.
FLOW_COLUMNS = ["outcome", "stratum", "variant", "step", "kind", "reason", "n"]


def flow_head(matching: pd.DataFrame, samples_summary: pd.DataFrame) -> pd.DataFrame:
    """The first participant-flow rows (``outcome``, ``stratum`` and ``variant`` empty): from the
    phenotype table to the samples in the genotype files too (``sample_matching.tsv``), then
    those passing sample QC (``qc_samples_summary.tsv``: no call at all, call rate below
    ``qc.min_sample_call_rate``)."""
    m = dict(zip(matching["measure"], matching["n"].astype(int), strict=True))
    q = dict(zip(samples_summary["measure"], samples_summary["value"], strict=True))
    rows = [
        ("remaining", "in the phenotype table", m["in_phenotypes"]),
        ("excluded", "not in the genotype files", m["only_phenotypes"]),
        ("remaining", "in the phenotype table and the genotype files", m["in_both"]),
        ("excluded", "no genotype called", q["n_no_calls"]),
    ]
    if "min_sample_call_rate" in q:
        rows.append(
            ("excluded", f"sample call rate < {float(q['min_sample_call_rate']):g}", q["n_low_call_rate"])
        )
        analysed = q["n_analysed"]
    else:
        analysed = m["in_both"] - q["n_no_calls"]
    rows.append(("remaining", "analysed samples (phenotyped, genotyped, passed sample QC)", analysed))
    return pd.DataFrame(
        [{"outcome": "", "stratum": "", "variant": "", "step": i + 1, "kind": k, "reason": r, "n": int(n)}
         for i, (k, r, n) in enumerate(rows)],
        columns=FLOW_COLUMNS,
    )  # fmt: skip


def flow_paths(flow: pd.DataFrame) -> dict[tuple[str, str, str], list[int]]:
    """Row positions of each (outcome, stratum, variant) path of ``participant_flow.tsv``: the
    head rows (no outcome), the stratum's shared rows (no variant), then the variant's own rows.

    Checks that every ``remaining`` row equals the previous one minus the exclusions between
    them; raises ``ValueError`` naming the path and step otherwise. Paths in order of first
    appearance (plain lists of the columns: no pandas work per row or path).
    """
    f = flow.fillna({"outcome": "", "stratum": "", "variant": ""})
    outcome, stratum, variant = (f[c].tolist() for c in ("outcome", "stratum", "variant"))
    kind, n, reason = f["kind"].tolist(), f["n"].tolist(), f["reason"].tolist()
    head: list[int] = []
    shared: dict[tuple[str, str], list[int]] = {}
    own: dict[tuple[str, str], dict[str, list[int]]] = {}
    for i, (o, s, v) in enumerate(zip(outcome, stratum, variant, strict=True)):
        if o == "":
            head.append(i)
            continue
        rows = shared.setdefault((o, s), [])
        if v == "":
            rows.append(i)
        else:
            own.setdefault((o, s), {}).setdefault(v, []).append(i)
    paths = {}
    for (o, s), rows in shared.items():
        for v, mine in own.get((o, s), {}).items():
            path = head + rows + mine
            left = None
            for i in path:
                if kind[i] == "remaining":
                    if left is not None and int(n[i]) != left:
                        raise ValueError(
                            f"participant flow {o}/{s}/{v}: {reason[i]!r} has n={n[i]}, "
                            f"expected {left} from the rows before"
                        )
                    left = int(n[i])
                else:
                    left -= int(n[i])
            paths[(o, s, v)] = path
    return paths


def flow_chains(flow: pd.DataFrame) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Each (outcome, stratum, variant) path of ``participant_flow.tsv``, head to analysed n, as
    a table (:func:`flow_paths`, which checks that every path adds up)."""
    f = flow.fillna({"outcome": "", "stratum": "", "variant": ""})
    return {key: f.iloc[path].reset_index(drop=True) for key, path in flow_paths(flow).items()}


def stratum_flow(
    outcome: str,
    stratum: str,
    mask: np.ndarray,
    pheno: pd.DataFrame,
    y: np.ndarray,
    *,
    cache: dict | None = None,
) -> list[dict]:
    """Participant-flow rows shared by every variant of a stratum (``variant`` empty).

    From the analysed samples (phenotyped, genotyped, passed sample QC) to the stratum (samples
    with the stratum's sex / T2DM missing, then those of the other group, excluded in turn) and
    to those with the outcome recorded. ``kind``: ``remaining`` (``n`` left) or ``excluded``
    (``n`` removed, ``reason``). ``cache``: a dict kept across the strata of one phenotype table,
    so that each factor level is compared with the column once.
    """
    cache = {} if cache is None else cache
    rows = []

    def add(kind, reason, n):
        rows.append({"outcome": outcome, "stratum": stratum, "variant": "", "step": len(rows) + 1,
                     "kind": kind, "reason": reason, "n": int(n)})  # fmt: skip

    left = np.ones(len(pheno), dtype=bool)
    for factor, level in stratum_fixed(stratum).items():
        if level is None:
            continue
        if (factor, level) not in cache:
            values = pheno[factor]
            cache[(factor, level)] = (
                values.isna().to_numpy(),
                (values != level).to_numpy(dtype=bool, na_value=False),
            )
        missing, not_level = cache[(factor, level)]
        miss = left & missing
        add("excluded", f"{factor} missing", miss.sum())
        left &= ~miss
        other = left & not_level
        add("excluded", f"{factor} not {level}", other.sum())
        left &= ~other
    if not np.array_equal(left, mask):
        raise AssertionError(f"participant flow of stratum {stratum} does not reproduce its samples")
    add("remaining", f"in stratum {stratum}", left.sum())
    miss = left & ~np.isfinite(y)
    add("excluded", f"{outcome} missing", miss.sum())
    add("remaining", f"{outcome} recorded", (left & ~miss).sum())
    return rows


def variant_flow(
    outcome: str,
    stratum: str,
    variant: str,
    start: np.ndarray,
    g: np.ndarray,
    cov_values: dict[str, np.ndarray],
    cov_names: list[str],
    *,
    excluded: str = "",
) -> list[dict]:
    """Participant-flow rows of one variant in a stratum, continuing :func:`stratum_flow`.

    From ``start`` (in the stratum with the outcome recorded), samples missing each model
    covariate in turn (``cov_names``: the configured and ancestry covariates, then sex and T2DM
    where they vary), then those without a called genotype, to ``analysed (genetic models)``: the
    ``n`` of the variant's genetic-model rows (hard calls; a dosage model's own n is in its
    note). A QC-excluded variant ends with 0 and the reason.
    """
    rows = []

    def add(kind, reason, n):
        rows.append({"outcome": outcome, "stratum": stratum, "variant": variant, "step": len(rows) + 1,
                     "kind": kind, "reason": reason, "n": int(n)})  # fmt: skip

    left = start.copy()
    for c in cov_names:
        miss = left & ~np.isfinite(cov_values[c])
        add("excluded", f"{c} missing (covariate)", miss.sum())
        left &= ~miss
    add("remaining", "outcome and covariates complete", left.sum())
    if excluded:
        add("excluded", f"variant excluded: {excluded}", left.sum())
        add("remaining", "analysed (genetic models)", 0)
        return rows
    miss = left & ~np.isfinite(g)
    add("excluded", "genotype not called", miss.sum())
    add("remaining", "analysed (genetic models)", (left & ~miss).sum())
    return rows
