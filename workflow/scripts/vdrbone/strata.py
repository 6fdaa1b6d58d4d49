"""Strata: the one table of stratum labels and names, their sample masks and their design.

Config ``strata`` keys (``all``, ``t2dm``, ``sex``, ``t2dm_sex``) expand to stratum labels
(``all``, ``t2dm=yes``, ``sex=female``, ``t2dm=yes,sex=female``, ...) in a canonical order; each
label has a reader-facing name (``T2DM, women``), a boolean mask over the phenotype rows, and a
design: which of sex / T2DM it fixes, which enter the models as covariates, which interactions
are tested in it, and which pairs of strata are pooled (Mantel-Haenszel, Breslow-Day).
Missing data: a sample with missing sex (T2DM) is in ``all`` but in no sex (T2DM) stratum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vdrbone.errors import InputError

if TYPE_CHECKING:  # pandas only in annotations: the settings (every job) load without it
    import pandas as pd

STRATUM_LABELS = {
    "all": ["all"],
    "t2dm": ["t2dm=yes", "t2dm=no"],
    "sex": ["sex=female", "sex=male"],
    "t2dm_sex": ["t2dm=yes,sex=female", "t2dm=yes,sex=male", "t2dm=no,sex=female", "t2dm=no,sex=male"],
}
STRATUM_LEVELS = {"sex": ("female", "male"), "t2dm": ("yes", "no")}
POOLED_STRATA = {"by_t2dm": ("t2dm=yes", "t2dm=no"), "by_sex": ("sex=female", "sex=male")}
STRATUM_NAMES = {
    "all": "All",
    "t2dm=yes": "T2DM",
    "t2dm=no": "No T2DM",
    "sex=female": "Women",
    "sex=male": "Men",
    "t2dm=yes,sex=female": "T2DM, women",
    "t2dm=yes,sex=male": "T2DM, men",
    "t2dm=no,sex=female": "No T2DM, women",
    "t2dm=no,sex=male": "No T2DM, men",
}


def stratum_name(label: str) -> str:
    """Reader-facing name of a stratum label (``'t2dm=yes,sex=female'`` -> ``'T2DM, women'``)."""
    return STRATUM_NAMES.get(label, label)


def strata_labels(strata: list[str]) -> list[str]:
    """Stratum labels for config ``strata`` (``all``, ``t2dm``, ``sex``, ``t2dm_sex``), canonical order."""
    unknown = [s for s in strata if s not in STRATUM_LABELS]
    if unknown:
        raise InputError(f"config strata: unknown {unknown}; expected some of {list(STRATUM_LABELS)}")
    return [label for key, labels in STRATUM_LABELS.items() if key in strata for label in labels]


def stratum_fixed(label: str) -> dict[str, str | None]:
    """Which of sex / T2DM a stratum label fixes: ``{'sex': 'female' | 'male' | None, 't2dm': ...}``.

    ``None`` means the factor varies within the stratum (so models adjust for it).
    """
    fixed: dict[str, str | None] = {"sex": None, "t2dm": None}
    if label == "all":
        return fixed
    for part in label.split(","):
        key, _, level = part.partition("=")
        if key not in STRATUM_LEVELS or level not in STRATUM_LEVELS[key] or fixed[key] is not None:
            raise ValueError(f"bad stratum label {label!r}; expected 'all' or e.g. 't2dm=yes,sex=female'")
        fixed[key] = level
    return fixed


def strata_masks(pheno: pd.DataFrame, strata: list[str]) -> dict[str, np.ndarray]:
    """Boolean row masks of ``pheno`` per stratum label, in canonical order.

    A sample with missing sex (T2DM) is in ``all`` but in no sex (T2DM) stratum.
    """
    for col in ("sex", "t2dm"):
        if col not in pheno.columns:
            raise ValueError(f"pheno lacks column {col!r}; columns are {list(pheno.columns)}")
    masks, level_masks = {}, {}  # each (column, level) compared once: text comparisons cost at 10^5
    for label in strata_labels(strata):
        mask = np.ones(len(pheno), dtype=bool)
        for key, level in stratum_fixed(label).items():
            if level is not None:
                if (key, level) not in level_masks:
                    level_masks[key, level] = (pheno[key] == level).to_numpy(dtype=bool, na_value=False)
                mask &= level_masks[key, level]
        masks[label] = mask
    return masks


def varying_factors(stratum: str, mask: np.ndarray, cov_values: dict[str, np.ndarray]) -> list[str]:
    """Sex and T2DM as covariates where the stratum does not fix them and they vary in it.

    A factor that is constant or entirely missing among the stratum's samples (a cohort of
    women only, or one without T2DM data) would make every model singular or empty, so it is
    left out; the ``covariates`` column of each row says what was adjusted for.
    """
    fixed = stratum_fixed(stratum)
    names = []
    for factor in ("sex", "t2dm"):
        if fixed.get(factor) is not None:
            continue
        values = cov_values[factor][mask]
        values = values[np.isfinite(values)]
        if values.size and (values != values[0]).any():  # two distinct values or more
            names.append(factor)
    return names


def stratum_interactions(stratum: str, t2dm: np.ndarray, female: np.ndarray):
    """(modifier name, 0/1 values, reference label) of the interactions tested in ``stratum``."""
    fixed = stratum_fixed(stratum)
    if fixed.get("t2dm") is None and stratum in ("all", "sex=female", "sex=male"):
        yield "t2dm", t2dm, "t2dm=yes vs t2dm=no"
    if fixed.get("sex") is None and stratum in ("all", "t2dm=yes", "t2dm=no"):
        yield "sex", female, "sex=female vs sex=male"
