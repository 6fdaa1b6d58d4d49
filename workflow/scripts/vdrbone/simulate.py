"""Synthetic cohorts: VDR / mtDNA genotypes with realistic LD and phenotypes with planted effects.

The simulator writes what a researcher would bring: bgzipped, tabix-indexed VCFs for chromosome 12
and the mitochondrial genome, a phenotype table coded as the config expects, and a ``truth.tsv``
holding the planted effects and the realised effect-allele frequencies, so that every step of the
workflow can be checked against known answers.

Genotypes
    The BsmI-ApaI-TaqI block is drawn as two haplotypes per person from the population's
    haplotype frequencies (``resources/populations.tsv``), so allele frequencies and LD (D', r2)
    are those implied by the table; FokI and the optional promoter SNPs are independent
    Hardy-Weinberg draws; mtDNA variants are haploid carriers. Background variants (chr12 within
    +-1 Mb of the panel, chrM rare) are independent draws. Calls are set missing completely at
    random; a fraction of mtDNA calls are written as heteroplasmic ``0/1`` with FORMAT ``AF``.
Phenotypes
    Sex, age, BMI, T2DM (logistic on age and BMI), BMD at three sites (shared latent factor plus
    site noise; sex, age, BMI and T2DM effects) and fracture (logistic on femoral neck BMD, age, sex
    and T2DM). Planted genetic effects are additive per effect allele (carrier 0/1 for mtDNA),
    optionally restricted to T2DM or sex groups. Phenotypes depend on the true genotypes, not on
    the (partly missing) calls.

All randomness comes from one ``numpy.random.SeedSequence(seed)`` split into independent child
streams (genotypes, background, calls, phenotypes, phenotype missingness), so the output is
byte-identical for a seed, and switching ``null_mode`` or the effects changes only the planted part.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vdrbone.errors import InputError
from vdrbone.panel import BUILDS, Panel, read_panel
from vdrbone.settings import Settings, load_yaml, settings_from_config

OUTCOME_TYPES = {
    "bmd_ls": "continuous",
    "bmd_fn": "continuous",
    "bmd_th": "continuous",
    "fracture": "binary",
    "fracture_tte": "time_to_event",
}
OUTCOME_SCALES = {
    "continuous": "g/cm2 per effect allele",
    "binary": "log-odds per effect allele",
    "time_to_event": "log hazard ratio per effect allele",
}
# Interaction modifiers the simulator writes (config ``interactions``): serum 25(OH)D in nmol/L
# and vitamin D supplement use (no / yes).
MODIFIERS = ("vitd_25oh", "vitd_supplement")
COVARIATES = ("age_years", "bmi")
CONTIG_LENGTHS = {
    ("12", "GRCh37"): 133851895,
    ("12", "GRCh38"): 133275309,
    ("MT", "GRCh37"): 16569,
    ("MT", "GRCh38"): 16569,
}
CONTIG_NAMES = {("12", "chr"): "chr12", ("12", "plain"): "12", ("MT", "chr"): "chrM", ("MT", "plain"): "MT"}
DEFAULT_POPULATIONS = Path(__file__).resolve().parents[3] / "resources" / "populations.tsv"
POPULATION_COLUMNS = ["population", "kind", "variants", "alleles", "label", "frequency", "source"]
TRUTH_COLUMNS = [
    "kind", "variant", "name", "outcome", "group", "beta", "scale", "effect_allele",
    "expected_frequency", "frequency", "n_called", "comment",
]  # fmt: skip
PHENOTYPE_FIELDS = ["sex", "age_years", "bmi", "t2dm", "bmd_ls", "bmd_fn", "bmd_th", "fracture"]
# Fields added later, drawn after the ones above so that those stay identical for a seed.
EXTRA_FIELDS = ["followup_years", "fracture_tte", "vitd_25oh", "vitd_supplement"]

# BMD model, g/cm2. Reference person: woman, 65 years, BMI 28, no T2DM. Columns: mean, male shift,
# age slope in women and in men (per year), BMI slope (per kg/m2), T2DM shift, residual SD, loading
# on the shared latent factor. Means and SDs follow NHANES-like adult DXA values (lumbar spine
# about 1.0 +- 0.15, femoral neck 0.8 +- 0.12, total hip 0.9 +- 0.13); the T2DM shift follows the
# higher BMD in type 2 diabetes (Vestergaard 2007, Osteoporos Int 18:427, Z-score about +0.3-0.4).
# Loadings 0.75/0.85/0.90 give residual site correlations 0.64-0.77.
BMD_MODEL = {
    "bmd_ls": (0.95, 0.10, -0.0060, -0.0015, 0.008, 0.035, 0.12, 0.75),
    "bmd_fn": (0.76, 0.08, -0.0050, -0.0030, 0.006, 0.025, 0.10, 0.85),
    "bmd_th": (0.86, 0.09, -0.0050, -0.0030, 0.007, 0.030, 0.11, 0.90),
}
BMD_RANGE = (0.3, 2.0)
# T2DM: logit = a + b_age (age - 65) + b_bmi (BMI - 28); marginal prevalence about 25%.
T2DM_MODEL = {"intercept": -1.25, "age": 0.04, "bmi": 0.12}
# Fracture: logit = a + b_fn (FN BMD - 0.80) + b_age (age - 65) + b_female + b_t2dm. About 1.5-fold
# odds per SD (0.12 g/cm2) lower FN BMD (Marshall, Johnell & Wedel 1996, BMJ 312:1254) and higher
# risk in T2DM at a given BMD (Schwartz et al. 2011, JAMA 305:2184); prevalence about 12%.
FRACTURE_MODEL = {"intercept": -2.6, "fn_bmd": -3.5, "age": 0.03, "female": 0.3, "t2dm": 0.45}
# Incident fracture during follow-up: Weibull proportional hazards, H(t) = scale t^shape exp(lp),
# lp = fn_bmd (FN BMD - 0.80) + age (age - 65) + female + t2dm + planted log HRs; about 10% with
# an event by 10 years. Follow-up ends administratively after U(3, 12) years or at drop-out
# (exponential, 2% a year), whichever is first; times in years, 0.01.
FRACTURE_TTE_MODEL = {"scale": 0.006, "shape": 1.3, "fn_bmd": -3.0, "age": 0.04, "female": 0.3, "t2dm": 0.4}
FOLLOW_UP = {"admin": (3.0, 12.0), "dropout_rate": 0.02}
# Serum 25(OH)D: log-normal, median 55 nmol/L (SD of log 0.4); supplement users (25%) +15 nmol/L.
VITD_MODEL = {"median": 55.0, "sdlog": 0.4, "supplement_rate": 0.25, "supplement_shift": 15.0}
HET_AF_NONCARRIER = (0.10, 0.85)
HET_AF_CARRIER = (0.91, 0.99)  # clear of a 0.9 threshold, also after float32 rounding


# --------------------------------------------------------------------------------------------
# Effects
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Effect:
    """A planted additive effect of one panel variant on one outcome, optionally in one group.

    ``beta`` is per effect allele (carrier 0/1 for mtDNA) on the outcome scale: g/cm2 for BMD,
    log-odds for fracture. ``t2dm`` (``"yes"``/``"no"``) and ``sex`` (``"female"``/``"male"``)
    restrict the effect to that group; ``None`` means everybody.
    """

    variant: str
    outcome: str
    beta: float
    t2dm: str | None = None
    sex: str | None = None

    @property
    def group(self) -> str:
        parts = [f"t2dm={self.t2dm}"] if self.t2dm else []
        parts += [f"sex={self.sex}"] if self.sex else []
        return ",".join(parts) or "all"

    @property
    def scale(self) -> str:
        return OUTCOME_SCALES[OUTCOME_TYPES[self.outcome]]


def parse_effects(effects, panel: Panel, *, where: str = "simulate.effects") -> tuple[Effect, ...]:
    """Validate the config's effect list; raise InputError naming the entry and key at fault."""
    if effects is None:
        return ()
    if not isinstance(effects, list | tuple):
        raise InputError(
            f"{where}: expected a list of {{variant, outcome, beta[, t2dm][, sex]}}, got {effects!r}"
        )
    out = []
    allowed = {"variant", "outcome", "beta", "t2dm", "sex"}
    for i, entry in enumerate(effects):
        at = f"{where}[{i}]"
        if isinstance(entry, Effect):
            entry = {
                "variant": entry.variant,
                "outcome": entry.outcome,
                "beta": entry.beta,
                "t2dm": entry.t2dm,
                "sex": entry.sex,
            }
        if not isinstance(entry, dict):
            raise InputError(f"{at}: expected a mapping with variant, outcome and beta, got {entry!r}")
        extra = sorted(set(entry) - allowed)
        if extra:
            raise InputError(
                f"{at}: unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}"
            )
        for key in ("variant", "outcome", "beta"):
            if key not in entry:
                raise InputError(f"{at}: missing key {key!r}")
        variant = str(entry["variant"])
        if variant not in panel.ids:
            raise InputError(
                f"{at}.variant: {variant!r} is not a panel variant; known: {', '.join(panel.ids)}"
            )
        outcome = str(entry["outcome"])
        if outcome not in OUTCOME_TYPES:
            raise InputError(
                f"{at}.outcome: {outcome!r} is not a simulated outcome; "
                f"expected one of {', '.join(OUTCOME_TYPES)}"
            )
        try:
            beta = float(entry["beta"])
        except (TypeError, ValueError):
            raise InputError(f"{at}.beta: expected a number, got {entry['beta']!r}") from None
        if not math.isfinite(beta):
            raise InputError(f"{at}.beta: expected a finite number, got {entry['beta']!r}")
        t2dm = entry.get("t2dm")
        if isinstance(t2dm, bool):  # YAML 1.1 reads an unquoted yes/no as a boolean
            t2dm = "yes" if t2dm else "no"
        if t2dm is not None and t2dm not in ("yes", "no"):
            raise InputError(f'{at}.t2dm: expected "yes" or "no", got {t2dm!r}')
        sex = entry.get("sex")
        if sex is not None and sex not in ("female", "male"):
            raise InputError(f"{at}.sex: expected female or male, got {sex!r}")
        out.append(Effect(variant, outcome, beta, t2dm, sex))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Population table
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HaplotypeBlock:
    """Variants drawn jointly: ``haplotypes[h, j]`` is 1 when haplotype h carries the effect
    allele of ``variants[j]`` (genomic order), with frequency ``freqs[h]`` (sums to 1)."""

    variants: tuple[str, ...]
    haplotypes: np.ndarray
    freqs: np.ndarray
    labels: tuple[str, ...]


@dataclass(frozen=True)
class PopulationModel:
    """Frequencies of one population, expressed for the panel's effect alleles."""

    population: str
    blocks: tuple[HaplotypeBlock, ...]
    allele_freqs: dict[str, float]  # effect-allele frequency of independent diploid variants
    carrier_freqs: dict[str, float]  # frequency of effect-allele carriers (mtDNA, haploid)

    def effect_allele_frequency(self, variant: str) -> float:
        """Expected effect-allele (mtDNA: carrier) frequency of ``variant``."""
        for block in self.blocks:
            if variant in block.variants:
                return float(block.freqs @ block.haplotypes[:, block.variants.index(variant)])
        if variant in self.allele_freqs:
            return self.allele_freqs[variant]
        return self.carrier_freqs[variant]

    def r2(self, a: str, b: str) -> float:
        """Haplotype r2 between two variants implied by the table (0 when drawn independently)."""
        for block in self.blocks:
            if a in block.variants and b in block.variants:
                x = block.haplotypes[:, block.variants.index(a)]
                y = block.haplotypes[:, block.variants.index(b)]
                pa, pb = block.freqs @ x, block.freqs @ y
                d = block.freqs @ (x * y) - pa * pb
                return float(d * d / (pa * (1 - pa) * pb * (1 - pb)))
        return 0.0


def read_populations(path: str | Path) -> pd.DataFrame:
    """Read ``populations.tsv`` (columns ``POPULATION_COLUMNS``); InputError naming the line."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"population table {path} does not exist")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)
    missing = [c for c in POPULATION_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: header lacks column(s) {', '.join(missing)}; expected {POPULATION_COLUMNS}"
        )
    freq = pd.to_numeric(table["frequency"], errors="coerce")
    bad = table.index[~freq.between(0, 1)]
    if len(bad):
        raise InputError(
            f"{path}, column 'frequency': expected a number in [0, 1]; first offending lines "
            + ", ".join(f"{i + 2} ({table.at[i, 'frequency']!r})" for i in bad[:5])
        )
    bad = table.index[~table["kind"].isin(["haplotype", "allele", "carrier"])]
    if len(bad):
        raise InputError(
            f"{path}, column 'kind': expected haplotype, allele or carrier; first offending lines "
            + ", ".join(f"{i + 2} ({table.at[i, 'kind']!r})" for i in bad[:5])
        )
    table["frequency"] = freq
    table.attrs["path"] = str(path)
    return table


def population_model(
    table: pd.DataFrame, panel: Panel, *, population: str, mt_carrier_freq=None
) -> PopulationModel:
    """Translate the population table's forward-allele frequencies to the panel's effect alleles.

    Haplotype rows sharing a ``variants`` list form one block; block variants absent from the
    panel are dropped (marginalised). ``mt_carrier_freq`` (a number for every mtDNA variant, or a
    mapping id -> number) overrides the table's carrier frequencies. Every panel variant must be
    covered, else InputError.
    """
    where = table.attrs.get("path", "population table")
    rows = table[table["population"] == population]
    if rows.empty:
        known = ", ".join(sorted(table["population"].unique()))
        raise InputError(f"{where}: no rows for population {population!r}; known populations: {known}")
    panel_ids = set(panel.ids)
    blocks, allele_freqs, carrier_freqs = [], {}, {}
    for ids_text, hap_rows in rows[rows["kind"] == "haplotype"].groupby("variants", sort=False):
        ids = [s.strip() for s in ids_text.split(",")]
        keep = [j for j, vid in enumerate(ids) if vid in panel_ids]
        if not keep:
            continue
        alleles = [a.split("-") for a in hap_rows["alleles"]]
        if any(len(a) != len(ids) for a in alleles):
            raise InputError(
                f"{where}: population {population}, haplotype alleles must have {len(ids)} parts"
            )
        freqs = hap_rows["frequency"].to_numpy(float)
        if abs(freqs.sum() - 1) > 1e-3:
            raise InputError(
                f"{where}: population {population}, haplotypes of {ids_text} sum to "
                f"{freqs.sum():.4f}, expected 1"
            )
        haps = np.zeros((len(alleles), len(keep)), dtype=np.int8)
        for j_out, j in enumerate(keep):
            v = panel[ids[j]]
            for h, a in enumerate(alleles):
                if a[j] not in (v.ref, v.alt):
                    raise InputError(
                        f"{where}: population {population}, haplotype {'-'.join(a)}: allele {a[j]!r} "
                        f"of {v.id} is neither ref {v.ref} nor alt {v.alt} of the panel"
                    )
                haps[h, j_out] = a[j] == v.effect_allele
        blocks.append(
            HaplotypeBlock(
                tuple(ids[j] for j in keep), haps, freqs / freqs.sum(), tuple(hap_rows["label"].tolist())
            )
        )
    for kind, target in (("allele", allele_freqs), ("carrier", carrier_freqs)):
        for _, row in rows[rows["kind"] == kind].iterrows():
            vid = row["variants"].strip()
            if vid not in panel_ids:
                continue
            v = panel[vid]
            if row["alleles"] not in (v.ref, v.alt):
                raise InputError(
                    f"{where}: population {population}, {vid}: allele {row['alleles']!r} is neither ref "
                    f"{v.ref} nor alt {v.alt} of the panel"
                )
            f = float(row["frequency"])
            target[vid] = f if row["alleles"] == v.effect_allele else 1 - f
    if mt_carrier_freq is not None:
        mt_ids = [v.id for v in panel if v.is_mt]
        override = (
            mt_carrier_freq if isinstance(mt_carrier_freq, dict) else dict.fromkeys(mt_ids, mt_carrier_freq)
        )
        for vid, f in override.items():
            if vid not in mt_ids:
                raise InputError(
                    f"simulate.mt_carrier_freq: {vid!r} is not an mtDNA panel variant ({mt_ids})"
                )
            if not isinstance(f, int | float) or not 0 <= f <= 1:
                raise InputError(f"simulate.mt_carrier_freq.{vid}: expected a number in [0, 1], got {f!r}")
            v = panel[vid]
            carrier_freqs[vid] = float(f) if v.effect_allele == v.alt else 1 - float(f)
    covered = {vid for b in blocks for vid in b.variants} | set(allele_freqs) | set(carrier_freqs)
    uncovered = [vid for vid in panel.ids if vid not in covered]
    if uncovered:
        raise InputError(
            f"{where}: population {population} has no frequency for panel variant(s) {', '.join(uncovered)}"
        )
    wrong = [vid for vid in allele_freqs if panel[vid].is_mt] + [
        vid for vid in carrier_freqs if not panel[vid].is_mt
    ]
    if wrong:
        raise InputError(
            f"{where}: kind 'allele' is for diploid and 'carrier' for mtDNA variants; check {wrong}"
        )
    return PopulationModel(population, tuple(blocks), allele_freqs, carrier_freqs)


# --------------------------------------------------------------------------------------------
# Genotypes
# --------------------------------------------------------------------------------------------
def simulate_genotypes(panel: Panel, model: PopulationModel, n: int, rng: np.random.Generator) -> np.ndarray:
    """Effect-allele counts of the panel variants, shape (n_variants, n), int8, panel order.

    Haplotype blocks: two haplotypes per person drawn independently from the block frequencies
    (random mating, so Hardy-Weinberg and the table's LD hold in expectation). Other diploid
    variants: Binomial(2, p). mtDNA: carrier 0/1 ~ Bernoulli(p). No missing values here.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    counts = np.zeros((len(panel), n), dtype=np.int8)
    index = {vid: i for i, vid in enumerate(panel.ids)}
    for block in model.blocks:
        h = rng.choice(len(block.freqs), size=(2, n), p=block.freqs)
        g = block.haplotypes[h[0]] + block.haplotypes[h[1]]  # (n, n_block)
        for j, vid in enumerate(block.variants):
            counts[index[vid]] = g[:, j]
    for vid in panel.ids:
        if vid in model.allele_freqs:
            counts[index[vid]] = rng.binomial(2, model.allele_freqs[vid], n)
        elif vid in model.carrier_freqs:
            counts[index[vid]] = rng.random(n) < model.carrier_freqs[vid]
    return counts


@dataclass
class Background:
    """Background variants: chrom ``'12'``/``'MT'``, 1-based pos, id (``.`` for none), forward
    ref/alt, simulated ALT frequency and ALT-allele counts (n_variants, n), int8."""

    chrom: np.ndarray
    pos: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    alt_freq: np.ndarray
    alt_counts: np.ndarray


def simulate_background(
    panel: Panel, n: int, *, build: str, n_chr12: int, n_mt: int, rng: np.random.Generator
) -> Background:
    """Independent background variants, never at a panel position.

    chr12: positions uniform within 1 Mb either side of the panel's chr12 variants (the same
    offsets in both builds, so genotypes do not depend on the build), minor-allele frequency
    uniform 0.01-0.5 with the ALT allele minor in 70% of sites, two Bernoulli(p) alleles, about
    20% of IDs ``.``. chrM: positions uniform on 1-16569, carrier frequency log-uniform
    0.001-0.05, haploid carriers, ID ``.``.
    """
    nucleotides = np.array(list("ACGT"))
    chr12 = [v for v in panel if v.chrom == "12"]
    parts = []
    for chrom, count in (("12", n_chr12), ("MT", n_mt)):
        if count < 0:
            raise ValueError(f"background count for {chrom} must be >= 0, got {count}")
        taken = {v.pos(build) for v in panel if v.chrom == chrom}
        if chrom == "12":
            anchor = [v.pos(build) for v in chr12] or [47844974 if build == "GRCh38" else 48238757]
            lo, hi = min(anchor) - 1_000_000, max(anchor) + 1_000_000
        else:
            lo, hi = 1, CONTIG_LENGTHS[("MT", build)]
        if count > (hi - lo + 1) - len(taken):
            raise InputError(f"simulate.n_background: {count} variants do not fit in {chrom}:{lo}-{hi}")
        candidates = lo + rng.choice(hi - lo + 1, size=count + len(taken), replace=False)
        pos = np.sort(candidates[~np.isin(candidates, list(taken))][:count])
        ref_i = rng.integers(0, 4, count)
        alt_i = (ref_i + rng.integers(1, 4, count)) % 4
        if chrom == "12":
            maf = rng.uniform(0.01, 0.5, count)
            alt_freq = np.where(rng.random(count) < 0.7, maf, 1 - maf)
            counts = np.empty((count, n), dtype=np.int8)
            for k in range(count):  # two Bernoulli alleles per person; row by row to bound memory
                counts[k] = (rng.random((2, n), dtype=np.float32) < alt_freq[k]).sum(axis=0)
            rs = 1_000_000 + rng.choice(199_000_000, size=count, replace=False)
            ids = np.where(rng.random(count) < 0.8, np.char.add("rs", rs.astype(str)), ".")
            ids = np.where(np.isin(ids, panel.ids), ".", ids)
        else:
            alt_freq = np.exp(rng.uniform(np.log(0.001), np.log(0.05), count))
            counts = (rng.random((count, n), dtype=np.float32) < alt_freq[:, None]).astype(np.int8)
            ids = np.full(count, ".")
        parts.append(
            (np.full(count, chrom), pos, ids, nucleotides[ref_i], nucleotides[alt_i], alt_freq, counts)
        )
    cat = [np.concatenate([p[k] for p in parts]) for k in range(7)]
    return Background(*cat[:6], alt_counts=cat[6].reshape(-1, n).astype(np.int8))


def simulate_calls(
    alt_counts: np.ndarray,
    haploid: np.ndarray,
    *,
    missing_rate: float,
    heteroplasmy_rate: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """What the genotyping reports: missing mask and heteroplasmy levels.

    Calls are missing completely at random with probability ``missing_rate``. Among the
    non-missing calls of haploid (mtDNA) rows, a fraction ``heteroplasmy_rate`` is heteroplasmic:
    ALT fraction uniform on 0.10-0.85 for non-carriers and 0.91-0.99 for ALT carriers (so a
    caller with threshold 0.9 recovers the true carrier status). Returns ``missing`` (bool) and
    ``het_af`` (float32, NaN where not heteroplasmic), both shaped like ``alt_counts``.
    """
    if not (0 <= missing_rate < 1 and 0 <= heteroplasmy_rate < 1):
        raise ValueError(f"rates must be in [0, 1): missing {missing_rate}, heteroplasmy {heteroplasmy_rate}")
    missing = rng.random(alt_counts.shape, dtype=np.float32) < missing_rate
    het_af = np.full(alt_counts.shape, np.nan, dtype=np.float32)
    rows = np.flatnonzero(haploid)
    if len(rows):
        sub = alt_counts[rows]
        het = (rng.random(sub.shape) < heteroplasmy_rate) & ~missing[rows]
        lo = np.where(sub == 1, HET_AF_CARRIER[0], HET_AF_NONCARRIER[0])
        hi = np.where(sub == 1, HET_AF_CARRIER[1], HET_AF_NONCARRIER[1])
        level = np.round(lo + (hi - lo) * rng.random(sub.shape), 3).astype(np.float32)
        het_af[rows] = np.where(het, level, np.nan)
    return missing, het_af


# --------------------------------------------------------------------------------------------
# Phenotypes
# --------------------------------------------------------------------------------------------
def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def simulate_phenotypes(
    genotypes: np.ndarray,
    variant_ids: list[str],
    *,
    effects: tuple[Effect, ...] = (),
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Covariates and outcomes of n people given their true effect-allele counts.

    Parameters
    ----------
    genotypes : int array (n_variants, n), effect-allele counts (mtDNA: carrier 0/1), no missing.
    variant_ids : ids of the rows of ``genotypes``.
    effects : planted effects (empty for the null model).

    Returns
    -------
    DataFrame with columns ``PHENOTYPE_FIELDS``: sex (``female``/``male``, 1:1), age_years
    (integer, N(65, 10) truncated to 45-85), bmi (N(28, 5) truncated to 16-50, 0.1), t2dm (bool,
    logistic ``T2DM_MODEL``), bmd_ls / bmd_fn / bmd_th (g/cm2, ``BMD_MODEL`` plus planted effects,
    clipped to 0.3-2.0, 0.001) and fracture (0/1, logistic ``FRACTURE_MODEL`` on the simulated
    femoral neck BMD, so BMD effects also act on fracture through BMD).

    All random draws are made before the effects are added, so the same ``rng`` state gives the
    same people with and without effects.
    """
    genotypes = np.asarray(genotypes)
    if genotypes.ndim != 2 or genotypes.shape[0] != len(variant_ids):
        raise ValueError(f"genotypes must be (n_variants={len(variant_ids)}, n), got shape {genotypes.shape}")
    n = genotypes.shape[1]
    female = rng.random(n) < 0.5
    age = np.clip(np.rint(_truncated_normal(rng, 65, 10, 45, 85, n)), 45, 85)
    bmi = np.round(_truncated_normal(rng, 28, 5, 16, 50, n), 1)
    t2dm = rng.random(n) < _logistic(
        T2DM_MODEL["intercept"] + T2DM_MODEL["age"] * (age - 65) + T2DM_MODEL["bmi"] * (bmi - 28)
    )
    latent = rng.standard_normal(n)
    noise = rng.standard_normal((3, n))
    fracture_u = rng.random(n)

    def planted(outcome: str) -> np.ndarray:
        total = np.zeros(n)
        for e in effects:
            if e.outcome != outcome:
                continue
            mask = np.ones(n, dtype=bool)
            if e.t2dm is not None:
                mask &= t2dm == (e.t2dm == "yes")
            if e.sex is not None:
                mask &= female == (e.sex == "female")
            total += e.beta * genotypes[variant_ids.index(e.variant)] * mask
        return total

    out = {"sex": np.where(female, "female", "male"), "age_years": age.astype(int), "bmi": bmi, "t2dm": t2dm}
    for k, (site, coef) in enumerate(BMD_MODEL.items()):
        mean, male, age_f, age_m, b_bmi, b_t2dm, sd, loading = coef
        value = (
            mean
            + male * ~female
            + np.where(female, age_f, age_m) * (age - 65)
            + b_bmi * (bmi - 28)
            + b_t2dm * t2dm
            + sd * (loading * latent + math.sqrt(1 - loading**2) * noise[k])
            + planted(site)
        )
        out[site] = np.round(np.clip(value, *BMD_RANGE), 3)
    m = FRACTURE_MODEL
    logit = (
        m["intercept"]
        + m["fn_bmd"] * (out["bmd_fn"] - 0.80)
        + m["age"] * (age - 65)
        + m["female"] * female
        + m["t2dm"] * t2dm
        + planted("fracture")
    )
    out["fracture"] = (fracture_u < _logistic(logit)).astype(np.int8)
    # drawn last: the fields above do not change when these are added
    vitd_z, supp_u = rng.standard_normal(n), rng.random(n)
    hazard_e, admin_u, dropout_e = rng.standard_exponential(n), rng.random(n), rng.standard_exponential(n)
    v = VITD_MODEL
    supplement = supp_u < v["supplement_rate"]
    out["vitd_25oh"] = np.round(
        v["median"] * np.exp(v["sdlog"] * vitd_z) + v["supplement_shift"] * supplement, 1
    )
    out["vitd_supplement"] = np.where(supplement, "yes", "no")
    h = FRACTURE_TTE_MODEL
    lp = (
        h["fn_bmd"] * (out["bmd_fn"] - 0.80)
        + h["age"] * (age - 65)
        + h["female"] * female
        + h["t2dm"] * t2dm
        + planted("fracture_tte")
    )
    t_event = (hazard_e / (h["scale"] * np.exp(lp))) ** (1.0 / h["shape"])
    lo, hi = FOLLOW_UP["admin"]
    t_cens = np.minimum(lo + (hi - lo) * admin_u, dropout_e / FOLLOW_UP["dropout_rate"])
    out["followup_years"] = np.maximum(np.round(np.minimum(t_event, t_cens), 2), 0.01)
    out["fracture_tte"] = (t_event <= t_cens).astype(np.int8)
    return pd.DataFrame(out, columns=PHENOTYPE_FIELDS + EXTRA_FIELDS)


def _truncated_normal(rng, mean, sd, lo, hi, n):
    """N(mean, sd) truncated to [lo, hi] by the inverse-CDF method (one uniform per value)."""
    from scipy.stats import norm

    a, b = norm.cdf((lo - mean) / sd), norm.cdf((hi - mean) / sd)
    return mean + sd * norm.ppf(a + (b - a) * rng.random(n))


# --------------------------------------------------------------------------------------------
# The cohort
# --------------------------------------------------------------------------------------------
@dataclass
class SimulatedCohort:
    """A simulated cohort: truth and what is written.

    ``genotypes``: true effect-allele counts (n_panel, n); ``missing`` / ``het_af``: the calls as
    written (see :func:`simulate_calls`); ``phenotypes``: complete true values (``sample`` plus
    ``PHENOTYPE_FIELDS``); ``phenotype_missing``: which values are written as missing;
    ``effects``: the planted effects (empty in null mode); ``requested_effects``: as configured.
    """

    panel: Panel
    model: PopulationModel
    build: str
    seed: int
    null: bool
    samples: np.ndarray
    genotypes: np.ndarray
    missing: np.ndarray
    het_af: np.ndarray
    background: Background
    background_missing: np.ndarray
    background_het_af: np.ndarray
    phenotypes: pd.DataFrame
    phenotype_missing: pd.DataFrame
    effects: tuple[Effect, ...]
    requested_effects: tuple[Effect, ...] = field(default=())

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    def truth(self) -> pd.DataFrame:
        """Planted effects and per-variant realised frequencies (columns ``TRUTH_COLUMNS``).

        ``frequency`` is the effect-allele frequency among the non-missing calls (mtDNA: carrier
        frequency among calls that are neither missing nor heteroplasmic below AF 0.9, a
        heteroplasmic call at AF >= 0.9 counting as a carrier), i.e. what a correct reader of the
        VCF recovers; ``expected_frequency`` is the population table's value.
        """
        rows = []
        for e in self.effects:
            v = self.panel[e.variant]
            rows.append(
                {
                    "kind": "effect",
                    "variant": e.variant,
                    "name": v.name,
                    "outcome": e.outcome,
                    "group": e.group,
                    "beta": e.beta,
                    "scale": e.scale,
                    "effect_allele": v.effect_allele,
                    "comment": "direct effect"
                    + (
                        "; BMD effects also act on fracture through femoral neck BMD"
                        if e.outcome == "bmd_fn"
                        else ""
                    ),
                }
            )
        null_note = "null mode (simulate.null_mode: true): no genetic effects planted; " if self.null else ""
        for i, v in enumerate(self.panel):
            # a heteroplasmic call of a non-carrier of ALT (AF 0.10-0.85) is not a call, as in the
            # extractor; one of an ALT carrier (AF 0.91-0.99) is a carrier call
            alt = self.genotypes[i] if v.effect_allele == v.alt else v.ploidy - self.genotypes[i]
            called = ~self.missing[i] & ~(~np.isnan(self.het_af[i]) & (alt == 0))
            n_called = int(called.sum())
            denom = n_called * (1 if v.is_mt else 2)
            freq = float(self.genotypes[i][called].sum()) / denom if denom else math.nan
            what = (
                "carrier frequency (mtDNA) among calls neither missing nor heteroplasmic below AF 0.9"
                if v.is_mt
                else "effect-allele frequency among non-missing calls"
            )
            rows.append(
                {
                    "kind": "frequency",
                    "variant": v.id,
                    "name": v.name,
                    "effect_allele": v.effect_allele,
                    "expected_frequency": round(self.model.effect_allele_frequency(v.id), 6),
                    "frequency": round(freq, 6),
                    "n_called": n_called,
                    "comment": f"{null_note}{what}; population {self.model.population}",
                }
            )
        out = pd.DataFrame(rows, columns=TRUTH_COLUMNS)
        out["n_called"] = out["n_called"].astype("Int64")
        return out


def simulate_cohort(
    panel: Panel,
    *,
    population: str = "EUR",
    n_samples: int = 3000,
    seed: int = 20261126,
    effects=(),
    null: bool = False,
    build: str = "GRCh38",
    n_background: tuple[int, int] = (300, 30),
    genotype_missing_rate: float = 0.01,
    phenotype_missing_rate: float = 0.02,
    heteroplasmy_rate: float = 0.002,
    populations: pd.DataFrame | str | Path | None = None,
    mt_carrier_freq=None,
) -> SimulatedCohort:
    """Simulate a cohort for ``panel`` (see the module docstring for the model).

    ``effects`` is a list of mappings or :class:`Effect` (validated by :func:`parse_effects`);
    ``null=True`` plants none of them. ``n_background`` is (chr12, chrM). ``populations`` is the
    population table (default ``resources/populations.tsv``). Missing phenotype values (not sex
    only: every field) are chosen completely at random at ``phenotype_missing_rate``.
    """
    if build not in BUILDS:
        raise InputError(f"simulate.build: {build!r} is not one of {', '.join(BUILDS)}")
    if not isinstance(n_samples, int | np.integer) or isinstance(n_samples, bool) or n_samples < 1:
        raise InputError(f"simulate.n_samples: expected a positive integer, got {n_samples!r}")
    for key, rate in (
        ("genotype_missing_rate", genotype_missing_rate),
        ("phenotype_missing_rate", phenotype_missing_rate),
        ("heteroplasmy_rate", heteroplasmy_rate),
    ):
        if not isinstance(rate, int | float) or not 0 <= rate < 1:
            raise InputError(f"simulate.{key}: expected a number in [0, 1), got {rate!r}")
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"simulate.seed: expected a non-negative integer, got {seed!r}")
    requested = parse_effects(list(effects), panel)
    planted = () if null else requested
    if not isinstance(populations, pd.DataFrame):
        populations = read_populations(populations or DEFAULT_POPULATIONS)
    model = population_model(populations, panel, population=population, mt_carrier_freq=mt_carrier_freq)

    s_geno, s_bg, s_calls, s_pheno, s_pmiss = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    n = int(n_samples)
    genotypes = simulate_genotypes(panel, model, n, s_geno)
    background = simulate_background(
        panel, n, build=build, n_chr12=n_background[0], n_mt=n_background[1], rng=s_bg
    )
    alt_panel = np.array(
        [g if v.effect_allele == v.alt else (v.ploidy - g) for v, g in zip(panel, genotypes, strict=True)]
    )
    alt_panel = alt_panel.reshape(len(panel), n).astype(np.int8)
    missing, het_af = simulate_calls(
        alt_panel,
        np.array([v.is_mt for v in panel]),
        missing_rate=genotype_missing_rate,
        heteroplasmy_rate=heteroplasmy_rate,
        rng=s_calls,
    )
    bg_missing, bg_het = simulate_calls(
        background.alt_counts,
        background.chrom == "MT",
        missing_rate=genotype_missing_rate,
        heteroplasmy_rate=heteroplasmy_rate,
        rng=s_calls,
    )
    phenotypes = simulate_phenotypes(genotypes, panel.ids, effects=planted, rng=s_pheno)
    samples = np.array([f"SIM{i:06d}" for i in range(1, n + 1)])
    phenotypes.insert(0, "sample", samples)
    pmiss = pd.DataFrame(
        s_pmiss.random((n, len(PHENOTYPE_FIELDS))) < phenotype_missing_rate, columns=PHENOTYPE_FIELDS
    )
    extra = s_pmiss.random((n, len(EXTRA_FIELDS))) < phenotype_missing_rate
    for j, name in enumerate(EXTRA_FIELDS):
        pmiss[name] = extra[:, j]
    pmiss["followup_years"] = pmiss["fracture_tte"]  # follow-up time and event missing together
    return SimulatedCohort(
        panel=panel,
        model=model,
        build=build,
        seed=int(seed),
        null=bool(null),
        samples=samples,
        genotypes=genotypes,
        missing=missing,
        het_af=het_af,
        background=background,
        background_missing=bg_missing,
        background_het_af=bg_het,
        phenotypes=phenotypes,
        phenotype_missing=pmiss,
        effects=planted,
        requested_effects=requested,
    )


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------
_DIPLOID_BYTES = np.frombuffer(b"0/0\t0/1\t1/1\t./.\t", dtype=np.uint8).reshape(4, 4)


def _diploid_bytes(codes: np.ndarray, missing: np.ndarray) -> bytes:
    """Tab-separated unphased GTs of one record (ALT counts 0/1/2, missing ./.), newline-terminated.

    Every call is 3 characters, so the line is built as one uint8 array (no per-call strings).
    """
    cells = _DIPLOID_BYTES[np.where(missing, 3, codes)]
    cells[-1, 3] = ord("\n")
    return cells.tobytes()


def _mt_strings(codes: np.ndarray, missing: np.ndarray, het_af: np.ndarray, *, mt_coding: str) -> np.ndarray:
    table = np.array(["0", "1", "."] if mt_coding == "haploid" else ["0/0", "1/1", "./."], dtype=object)
    out = table[np.where(missing, 2, codes)]
    het = ~np.isnan(het_af)
    if het.any():
        out[het] = [f"0/1:{af:.3f}" for af in het_af[het]]
    return out


def write_vcf(
    cohort: SimulatedCohort,
    path: str | Path,
    *,
    chrom: str,
    contig_style: str = "chr",
    mt_coding: str = "haploid",
) -> str:
    """Write the cohort's ``chrom`` (``'12'`` or ``'MT'``) records as a bgzipped, tabix-indexed VCF 4.2.

    Panel records carry their id; records are sorted by position. chr12 calls are unphased
    diploid ``GT``; chrM records have ``FORMAT GT:AF`` with haploid ``0``/``1`` (or ``0/0``/``1/1``
    for ``mt_coding='diploid'``) and heteroplasmic calls ``0/1:<ALT fraction>`` (trailing AF
    dropped where it does not apply). Missing calls are ``./.`` (diploid) or ``.`` (haploid).
    Bytes are deterministic (BGZF blocks carry no timestamp). Returns the VCF path; the index is
    ``path + '.tbi'``.
    """
    import pysam

    if chrom not in ("12", "MT"):
        raise ValueError(f"chrom must be '12' or 'MT', got {chrom!r}")
    if contig_style not in ("chr", "plain"):
        raise InputError(f"simulate.contig_style: {contig_style!r} is not one of chr, plain")
    if mt_coding not in ("haploid", "diploid"):
        raise InputError(f"simulate.mt_coding: {mt_coding!r} is not one of haploid, diploid")
    path = Path(path)
    contig = CONTIG_NAMES[(chrom, contig_style)]
    length = CONTIG_LENGTHS[(chrom, cohort.build)]
    pidx = [i for i, v in enumerate(cohort.panel) if v.chrom == chrom]
    bidx = np.flatnonzero(cohort.background.chrom == chrom)
    bg = cohort.background
    records = []  # (pos, id, ref, alt, simaf, is_panel, alt codes, missing, het_af)
    for i in pidx:
        v = cohort.panel.variants[i]
        g = cohort.genotypes[i]
        alt = g if v.effect_allele == v.alt else v.ploidy - g
        p_eff = cohort.model.effect_allele_frequency(v.id)
        simaf = p_eff if v.effect_allele == v.alt else 1 - p_eff
        records.append(
            (v.pos(cohort.build), v.id, v.ref, v.alt, simaf, True, alt, cohort.missing[i], cohort.het_af[i])
        )
    for j in bidx:
        records.append(
            (
                int(bg.pos[j]),
                str(bg.id[j]),
                str(bg.ref[j]),
                str(bg.alt[j]),
                float(bg.alt_freq[j]),
                False,
                bg.alt_counts[j],
                cohort.background_missing[j],
                cohort.background_het_af[j],
            )
        )
    records.sort(key=lambda r: r[0])
    fmt = "GT:AF" if chrom == "MT" else "GT"
    what = "carrier frequency" if chrom == "MT" else "allele frequency"
    header = [
        "##fileformat=VCFv4.2",
        f"##reference={cohort.build}",
        f"##contig=<ID={contig},length={length},assembly={cohort.build}>",
        f'##INFO=<ID=SIMAF,Number=A,Type=Float,Description="Simulated population {what} of the ALT allele">',
        '##INFO=<ID=PANEL,Number=0,Type=Flag,Description="Variant of the vdrbone panel">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    ]
    if chrom == "MT":
        header.append(
            '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Heteroplasmy level: fraction of reads carrying '
            'the ALT allele (heteroplasmic calls only)">'
        )
    header.append(
        f"##vdrbone_simulate=<population={cohort.model.population},seed={cohort.seed},"
        f"n_samples={cohort.n_samples},null={str(cohort.null).lower()},mt_coding={mt_coding}>"
    )
    header.append(
        "\t".join(
            ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
            + cohort.samples.tolist()
        )
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # BGZF level 1: simulated calls are near-random and compress little better at level 6, which
    # is about 20 times slower.
    with pysam.BGZFile(str(path), "wb1") as fh:
        fh.write(("\n".join(header) + "\n").encode())
        for pos, vid, ref, alt, simaf, is_panel, codes, miss, het in records:
            info = f"SIMAF={simaf:.4g}" + (";PANEL" if is_panel else "")
            fixed = f"{contig}\t{pos}\t{vid}\t{ref}\t{alt}\t.\tPASS\t{info}\t{fmt}\t".encode()
            if chrom == "MT":
                calls = _mt_strings(codes, miss, het, mt_coding=mt_coding)
                fh.write(fixed + ("\t".join(calls.tolist()) + "\n").encode())
            else:
                fh.write(fixed + _diploid_bytes(codes, miss))
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return str(path)


def _first_code(codes, where: str) -> str:
    if isinstance(codes, list | tuple):
        if not codes:
            raise InputError(f"{where}: expected at least one code")
        codes = codes[0]
    return str(codes)


def write_phenotypes(
    cohort: SimulatedCohort,
    path: str | Path,
    *,
    sample_column: str = "participant",
    phenotype_coding: dict | None = None,
    outcomes: dict | None = None,
    covariates: list[str] | tuple[str, ...] = COVARIATES,
    missing_code: str = "NA",
    modifiers: list[str] | tuple[str, ...] = (),
) -> str:
    """Write the phenotype table as the config expects it (tab-separated, ``missing_code`` for NA).

    A ``time_to_event`` outcome (``fracture_tte``) is written as its ``time`` column (years of
    follow-up, 0.01; with ``entry``, age at exit, and the entry column holds the baseline age) and
    its ``event`` column (first event / censor code); ``who_class`` outcomes are derived by the
    workflow and not written; ``modifiers`` (config ``interactions`` columns, among
    :data:`MODIFIERS`) follow the outcomes.

    Columns: ``sample_column``, the sex column (first female/male code), ``age_years``, ``bmi``,
    the T2DM column (first yes/no code) and, for each simulated outcome present in ``outcomes``
    (config order), its ``column`` (BMD with 3 decimals, binary outcomes with the first
    case/control code). Outcome keys unknown to the simulator and covariates other than
    ``age_years``/``bmi`` raise InputError, because the file could not satisfy the config.
    """
    coding = phenotype_coding or {
        "sex": {"column": "sex", "female": ["F"], "male": ["M"]},
        "t2dm": {"column": "t2dm", "yes": ["yes"], "no": ["no"]},
    }
    if outcomes is None:
        outcomes = {
            k: {"column": k, "type": t, "case": ["1"], "control": ["0"]} for k, t in OUTCOME_TYPES.items()
        }
    unknown = [c for c in covariates if c not in COVARIATES]
    if unknown:
        raise InputError(
            f"covariates: the simulator cannot produce {', '.join(unknown)}; "
            f"it writes {', '.join(COVARIATES)}"
        )
    outcomes = {k: v for k, v in outcomes.items() if v.get("type") != "who_class"}  # derived, not written
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        raise InputError(
            f"interactions: the simulator cannot produce column(s) {', '.join(unknown)}; "
            f"it writes {', '.join(MODIFIERS)}"
        )
    unknown = [k for k in outcomes if k not in OUTCOME_TYPES]
    if unknown:
        raise InputError(
            f"outcomes: the simulator cannot produce {', '.join(unknown)}; "
            f"it writes {', '.join(OUTCOME_TYPES)}"
        )
    ph, miss = cohort.phenotypes, cohort.phenotype_missing
    sex_c, t2dm_c = coding["sex"], coding["t2dm"]
    female_code = _first_code(sex_c["female"], "phenotype_coding.sex.female")
    male_code = _first_code(sex_c["male"], "phenotype_coding.sex.male")
    yes_code = _first_code(t2dm_c[True] if True in t2dm_c else t2dm_c["yes"], "phenotype_coding.t2dm.yes")
    no_code = _first_code(t2dm_c[False] if False in t2dm_c else t2dm_c["no"], "phenotype_coding.t2dm.no")
    cols: dict[str, np.ndarray] = {sample_column: ph["sample"].to_numpy()}

    def put(name: str, field_: str, values: np.ndarray) -> None:
        if name in cols:
            raise InputError(f"phenotype column {name!r} is used twice (for {field_} and another field)")
        cols[name] = np.where(miss[field_].to_numpy(), missing_code, values)

    put(sex_c["column"], "sex", np.where(ph["sex"] == "female", female_code, male_code))
    put("age_years", "age_years", ph["age_years"].astype(str).to_numpy())
    put("bmi", "bmi", np.char.mod("%.1f", ph["bmi"].to_numpy()))
    put(t2dm_c["column"], "t2dm", np.where(ph["t2dm"], yes_code, no_code))
    for key, spec in outcomes.items():
        kind = spec.get("type", OUTCOME_TYPES[key])
        if kind != OUTCOME_TYPES[key]:
            raise InputError(
                f"outcomes.{key}.type: the simulator writes {key} as {OUTCOME_TYPES[key]}, not {kind}"
            )
        if kind == "time_to_event":
            event = _first_code(spec.get("event_codes", ["1"]), f"outcomes.{key}.event_codes")
            censor = _first_code(spec.get("censor_codes", ["0"]), f"outcomes.{key}.censor_codes")
            follow = ph["followup_years"].to_numpy()
            if spec.get("entry"):  # age as the time scale: entry at the baseline age
                if spec["entry"] not in cols:
                    put(spec["entry"], "age_years", ph["age_years"].astype(str).to_numpy())
                follow = ph["age_years"].to_numpy() + follow
            put(spec.get("time", "followup_years"), "followup_years", np.char.mod("%.2f", follow))
            values = np.where(ph[key].to_numpy() == 1, event, censor)
            put(spec.get("event", key), key, values)
            continue
        if kind == "binary":
            case = _first_code(spec.get("case", ["1"]), f"outcomes.{key}.case")
            control = _first_code(spec.get("control", ["0"]), f"outcomes.{key}.control")
            values = np.where(ph[key].to_numpy() == 1, case, control)
        else:
            values = np.char.mod("%.3f", ph[key].to_numpy())
        put(spec.get("column", key), key, values)
    for name in modifiers:
        values = ph[name].to_numpy()
        put(name, name, values if name == "vitd_supplement" else np.char.mod("%.1f", values))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(cols).to_csv(path, sep="\t", index=False, lineterminator="\n")
    return str(path)


def write_truth(cohort: SimulatedCohort, path: str | Path) -> str:
    """Write :meth:`SimulatedCohort.truth` as TSV (empty cells for not applicable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cohort.truth().to_csv(path, sep="\t", index=False, lineterminator="\n", na_rep="")
    return str(path)


# --------------------------------------------------------------------------------------------
# Config and command line
# --------------------------------------------------------------------------------------------
def _n_background(nb) -> tuple[int, int]:
    """``simulate.n_background`` ({chr12: N, chrM: N}) as (chr12, chrM) counts."""
    if not isinstance(nb, Mapping):
        raise InputError(f"simulate.n_background: expected a mapping {{chr12: N, chrM: N}}, got {nb!r}")
    aliases = {"chr12": "12", "12": "12", "chrM": "MT", "MT": "MT", "chrMT": "MT"}
    counts = {"12": 0, "MT": 0}
    for key, value in nb.items():
        if key not in aliases:
            raise InputError(f"simulate.n_background.{key}: unknown contig; expected chr12 and chrM")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InputError(f"simulate.n_background.{key}: expected a non-negative integer, got {value!r}")
        counts[aliases[key]] = value
    return counts["12"], counts["MT"]


def write_from_config(config: dict, outdir: str | Path) -> dict[str, str]:
    """Simulate the cohort described by a config (:func:`vdrbone.settings.settings_from_config`;
    keys left out get the schema's defaults) into ``outdir``; see :func:`write_cohort`."""
    return write_cohort(settings_from_config(config), outdir)


def write_cohort(
    settings: Settings, outdir: str | Path, *, panel: str | Path | None = None, populations=None
) -> dict[str, str]:
    """Simulate the cohort of ``settings.simulate`` and write it into ``outdir``.

    Uses the panel file ``panel`` (default ``settings.panel``, relative to the working directory,
    else the bundled one), the population table ``populations`` (default
    :data:`DEFAULT_POPULATIONS`),
    ``cohort.sample_column``, ``phenotype_coding``, ``outcomes`` and ``covariates``. Returns
    ``{'chr12_vcf', 'chr12_tbi', 'chrM_vcf', 'chrM_tbi', 'phenotypes', 'truth'}`` -> path.
    """
    sim = settings.simulate
    if sim is None or settings.cohort is None:
        raise InputError("config: simulating a cohort needs the `cohort` and `simulate` sections")
    n_background = _n_background(sim.n_background)
    for key, choices in (("contig_style", ("chr", "plain")), ("mt_coding", ("haploid", "diploid"))):
        if getattr(sim, key) not in choices:
            raise InputError(f"simulate.{key}: {getattr(sim, key)!r} is not one of {', '.join(choices)}")
    panel_path = Path(panel if panel is not None else settings.panel)
    bundled = Path(__file__).resolve().parents[3] / panel_path
    if not panel_path.exists() and not panel_path.is_absolute() and bundled.exists():
        panel_path = bundled  # the bundled panel, when run from another directory
    if not panel_path.exists():
        raise InputError(
            f"config key panel: file {str(panel_path)!r} does not exist (working directory {Path.cwd()})"
        )
    panel = read_panel(panel_path)
    outcomes = {key: dict(spec) for key, spec in settings.outcomes.items()}
    effects = [dict(e) if isinstance(e, Mapping) else e for e in sim.effects]
    for i, e in enumerate(effects):
        if isinstance(e, dict) and e.get("outcome") in OUTCOME_TYPES and e["outcome"] not in outcomes:
            raise InputError(
                f"simulate.effects[{i}].outcome: {e['outcome']!r} is not among the config's outcomes "
                f"({', '.join(outcomes)}), so the planted effect would not be written"
            )
    cohort = simulate_cohort(
        panel,
        population=sim.population,
        n_samples=sim.n_samples,
        seed=sim.seed,
        effects=effects,
        null=bool(sim.null_mode),
        build=sim.build,
        n_background=n_background,
        genotype_missing_rate=sim.genotype_missing_rate,
        phenotype_missing_rate=sim.phenotype_missing_rate,
        heteroplasmy_rate=sim.heteroplasmy_rate,
        populations=populations,
        mt_carrier_freq=dict(sim.mt_carrier_freq)
        if isinstance(sim.mt_carrier_freq, Mapping)
        else sim.mt_carrier_freq,
    )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    missing_codes = [str(m) for m in settings.phenotype_coding.get("missing", ())]
    missing_code = "NA" if "NA" in missing_codes or not missing_codes else missing_codes[0]
    paths = {}
    for chrom, key in (("12", "chr12"), ("MT", "chrM")):
        vcf = write_vcf(
            cohort,
            outdir / f"{key}.vcf.gz",
            chrom=chrom,
            contig_style=sim.contig_style,
            mt_coding=sim.mt_coding,
        )
        paths[f"{key}_vcf"], paths[f"{key}_tbi"] = vcf, vcf + ".tbi"
    coding = settings.phenotype_coding
    paths["phenotypes"] = write_phenotypes(
        cohort,
        outdir / "phenotypes.tsv",
        sample_column=settings.cohort.sample_column,
        phenotype_coding={k: dict(v) if isinstance(v, Mapping) else list(v) for k, v in coding.items()}
        or None,
        outcomes=outcomes,
        covariates=list(settings.covariates),
        missing_code=missing_code,
        modifiers=[i["column"] for i in settings.interactions],
    )
    paths["truth"] = write_truth(cohort, outdir / "truth.tsv")
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m vdrbone simulate --config config/config.yaml --outdir DIR [overrides]``."""
    parser = argparse.ArgumentParser(prog="python -m vdrbone simulate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config", default="config/config.yaml", help="YAML config (its simulate section is used)"
    )
    parser.add_argument("--outdir", help="output folder (default: simulate.outdir of the config)")
    parser.add_argument("--n-samples", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--population")
    parser.add_argument("--build", choices=BUILDS)
    parser.add_argument("--contig-style", choices=("chr", "plain"))
    parser.add_argument("--mt-coding", choices=("haploid", "diploid"))
    parser.add_argument("--null", action="store_true", help="plant no genetic effects")
    args = parser.parse_args(argv)
    try:
        settings = settings_from_config(load_yaml(args.config))
        if settings.simulate is None or settings.cohort is None:
            raise InputError(f"{args.config}: no `cohort` and `simulate` sections")
        overrides = {
            key: getattr(args, key)
            for key in ("n_samples", "seed", "population", "build", "contig_style", "mt_coding")
            if getattr(args, key) is not None
        }
        if args.null:
            overrides["null_mode"] = True
        settings = dataclasses.replace(settings, simulate=dataclasses.replace(settings.simulate, **overrides))
        paths = write_cohort(settings, args.outdir or settings.simulate.outdir)
    except (InputError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for key, value in paths.items():
        print(f"{key}\t{value}")
    return 0
