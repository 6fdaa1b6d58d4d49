"""Methods text of the report, generated from the configuration and from what happened in the run.

:func:`methods_sections` turns the validated config (and the analysed panel) into numbered
paragraphs a reader can paste into a paper: definitions, genotype calling, QC (sample call rate,
exact HWE), the tests and genetic models with their covariates and strata, missing data,
population stratification, interaction and stratified tests, the primary and exploratory
multiple-testing families, the Firth fallback, the mtDNA rules, small-cell suppression and
software versions. Given the run's facts (:func:`run_facts`, read from the tables the run wrote),
each sentence about an event is emitted only when the event happened (dosages used, build
detected, Firth used in k rows, GP threshold applied, heteroplasmic calls set missing, ...);
without facts the text describes the settings. :func:`p_value_legend` says, per row kind, which
test produced the p-value. References are plain text (no links), in :data:`REFERENCES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from vdrbone import families
from vdrbone.association import PRIMARY_MODELS
from vdrbone.panel import Panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.provenance import collect_versions
from vdrbone.qc import hwe_subsets
from vdrbone.settings import QcSettings, Settings
from vdrbone.strata import strata_labels, stratum_name

REFERENCES = {
    "wigginton": "Wigginton JE, Cutler DJ, Abecasis GR. A note on exact tests of Hardy-Weinberg "
    "equilibrium. Am J Hum Genet. 2005;76(5):887-893.",
    "firth": "Firth D. Bias reduction of maximum likelihood estimates. Biometrika. 1993;80(1):27-38.",
    "heinze": "Heinze G, Schemper M. A solution to the problem of separation in logistic regression. "
    "Stat Med. 2002;21(16):2409-2419.",
    "bh": "Benjamini Y, Hochberg Y. Controlling the false discovery rate: a practical and powerful "
    "approach to multiple testing. J R Stat Soc B. 1995;57(1):289-300.",
    "rbg": "Robins J, Breslow N, Greenland S. Estimators of the Mantel-Haenszel variance consistent in "
    "both sparse data and large-strata limiting models. Biometrics. 1986;42(2):311-323.",
    "snpassoc": "Gonzalez JR, Armengol L, Sole X, Guino E, Mercader JM, Estivill X, Moreno V. SNPassoc: "
    "an R package to perform whole genome association studies. Bioinformatics. 2007;23(5):644-645.",
    "plink": "Chang CC, Chow CC, Tellier LCAM, Vattikuti S, Purcell SM, Lee JJ. Second-generation "
    "PLINK: rising to the challenge of larger and richer datasets. GigaScience. 2015;4:7.",
    "breslow_day": "Breslow NE, Day NE. Statistical Methods in Cancer Research, Volume I: The Analysis "
    "of Case-Control Studies. IARC Scientific Publications No. 32. Lyon: IARC; 1980.",
    "tarone": "Tarone RE. On heterogeneity tests based on efficient scores. Biometrika. 1985;72(1):91-95.",
    "armitage": "Armitage P. Tests for linear trends in proportions and frequencies. Biometrics. "
    "1955;11(3):375-386.",
    "excoffier": "Excoffier L, Slatkin M. Maximum-likelihood estimation of molecular haplotype frequencies "
    "in a diploid population. Mol Biol Evol. 1995;12(5):921-927.",
    "schaid": "Schaid DJ, Rowland CM, Tines DE, Jacobson RM, Poland GA. Score tests for association between "
    "traits and haplotypes when linkage phase is ambiguous. Am J Hum Genet. 2002;70(2):425-434.",
    "lake": "Lake SL, Lyon H, Tantisira K, et al. Estimation and tests of haplotype-environment interaction "
    "when linkage phase is ambiguous. Hum Hered. 2003;55(1):56-65.",
    "holm": "Holm S. A simple sequentially rejective multiple test procedure. Scand J Stat. 1979;6(2):65-70.",
    "sidak": "Sidak Z. Rectangular confidence regions for the means of multivariate normal distributions. "
    "J Am Stat Assoc. 1967;62(318):626-633.",
    "freidlin": "Freidlin B, Zheng G, Li Z, Gastwirth JL. Trend tests for case-control studies of genetic "
    "markers: power, sample size and robustness. Hum Hered. 2002;53(3):146-152.",
    "by": "Benjamini Y, Yekutieli D. The control of the false discovery rate in multiple testing under "
    "dependency. Ann Stat. 2001;29(4):1165-1188.",
    "cox": "Cox DR. Regression models and life-tables. J R Stat Soc B. 1972;34(2):187-220.",
    "efron": "Efron B. The efficiency of Cox's likelihood function for censored data. J Am Stat Assoc. "
    "1977;72(359):557-565.",
    "grambsch": "Grambsch PM, Therneau TM. Proportional hazards tests and diagnostics based on weighted "
    "residuals. Biometrika. 1994;81(3):515-526.",
    "kaplan_meier": "Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat "
    "Assoc. 1958;53(282):457-481.",
    "who_tscore": "Kanis JA, McCloskey EV, Johansson H, et al. A reference standard for the description of "
    "osteoporosis. Bone. 2008;42(3):467-475.",
    "schoenfeld": "Schoenfeld DA. Sample-size formula for the proportional-hazards regression model. "
    "Biometrics. 1983;39(2):499-503.",
    "looker": "Looker AC, Wahner HW, Dunn WL, et al. Updated data on proximal femur bone mineral levels of "
    "US adults. Osteoporos Int. 1998;8(5):468-489.",
}

COVARIATE_NAMES = {"age_years": "age (years)", "age": "age", "bmi": "body-mass index (BMI, kg/m2)"}


def _join(items: list[str]) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cite(*keys: str) -> str:
    order = list(REFERENCES)
    return "[" + ", ".join(str(order.index(k) + 1) for k in keys) + "]"


def _hwe_text(qc: QcSettings, labels: list[str], binary: list[str]) -> str:
    """The HWE sentences of the QC paragraph: where HWE was tested and where it was applied."""
    setting = qc.hwe_samples
    applied = hwe_subsets(setting, binary)
    each = (
        f"each binary outcome ({_join(labels)})"
        if len(binary) > 1
        else f"the binary outcome ({_join(labels)})"
    )
    text = (
        f"Hardy-Weinberg equilibrium (HWE) was tested with the exact test of Wigginton, Cutler and "
        f"Abecasis {_cite('wigginton')} in all samples and in every stratum"
        + (f", and in the controls of {each}" if binary else "")
        + f". A diploid variant failed HWE when p < {qc.hwe_p:g} "
    )
    if applied == ["all"]:
        text += f"in all samples (qc.hwe_samples: {setting})"
        if binary:
            text += "; HWE in controls was reported but not applied"
        elif setting != "all":
            text += "; no outcome is binary, so there were no controls and all samples were used instead"
    else:
        where = "in all samples or " if "all" in applied else ""
        text += (
            f"{where}in the controls of {'any' if len(binary) > 1 else 'the'} binary outcome "
            f"(qc.hwe_samples: {setting}), as PLINK --hwe does; a failure in controls applied to "
            "every outcome"
        )
        if "all" not in applied:
            text += "; HWE in all samples was reported but not applied"
    return text + ". HWE within strata is descriptive. No HWE test applies to haploid mtDNA."


def _test_missing_text(qc: QcSettings, labels: list[str]) -> str:
    """The differential-missingness sentence of the QC paragraph (binary outcomes only)."""
    if not labels:
        return ""
    threshold = qc.test_missing_p
    text = (
        " Differential missingness between cases and controls of "
        + (
            f"each binary outcome ({_join(labels)})"
            if len(labels) > 1
            else f"the binary outcome ({labels[0]})"
        )
        + " was tested per variant and stratum with Fisher's exact test of missing genotype against case "
        "status, as PLINK --test-missing does (qc_test_missing.tsv)"
    )
    if threshold is None:
        return text + "; it was reported but flagged nothing (qc.test_missing_p: null)."
    return (
        text + f"; a variant with p < {float(threshold):g} in all samples of any binary outcome failed QC "
        "for every outcome, flag test_missing (within strata the test is descriptive)."
    )


def _conditional_text(settings: Settings, panel: Panel) -> str:
    """The conditional-analysis paragraph (association.condition_on), or "" when it is off."""
    setting = settings.association.condition_on
    if not setting:
        return ""
    names = {v.id: v.name for v in panel}
    if setting == "block_top":
        block = [names.get(i, i) for i in settings.haplotypes.block]
        what = (
            f"each SNP of the {'-'.join(block)} block was adjusted for the block SNP with the smallest "
            "log-additive p-value in the same stratum (association.condition_on: block_top)"
        )
    else:
        what = (
            "each other VDR SNP was adjusted for "
            + _join([f"{names.get(i, i)} {i}" for i in setting])
            + " (association.condition_on)"
        )
    return (
        "Conditional analysis followed PLINK --condition: "
        + what
        + ". The tested and the conditioning SNPs entered the log-additive model with the same coding "
        "and covariates as the marginal model; the p-value is the likelihood-ratio (logistic) or F "
        "(linear) test of the tested SNP against the model with the covariates and the conditioning "
        "SNP(s) fitted on the same samples. Samples missing a conditioning genotype were left out "
        "(complete cases, as PLINK does), so a conditional estimate can rest on fewer people than the "
        "marginal one shown beside it (the row's note gives both numbers). Conditional tests are "
        "follow-up tests and are not part of the multiple-testing family."
    )


def _permutation_text(settings: Settings) -> str:
    """The permutation paragraph (``settings.permutation``)."""
    from vdrbone.permutation import Adaptive

    perm = settings.permutation
    strata = list(settings.strata)
    by = [f for f in ("t2dm", "sex") if "t2dm_sex" in strata or f in strata]
    cells = "T2DM x sex" if len(by) == 2 else (by[0].replace("t2dm", "T2DM") if by else "")
    parts = []
    if perm.n:
        parts.append(
            f"{perm.n} max(T) permutations per outcome gave each test's empirical p-value (EMP1) and "
            "its family-wise p-value (EMP2: the share of permutations whose largest statistic over all "
            "variants and strata of the outcome reached the observed one), as PLINK --mperm"
        )
    if perm.adaptive:
        a = Adaptive()
        parts.append(
            "adaptive permutation (PLINK --perm) gave a per-test EMP1, stopping a test once the "
            f"{100 * (1 - a.beta):g}% interval of its empirical p-value (Bonferroni over the tests) excluded "
            f"{a.alpha:g}, checked after {a.min} permutations and then every 1 + {a.slope:g} N, at most "
            f"{perm.adaptive_max} permutations"
        )
    return (
        "Permutation p-values used the statistics PLINK 1.9 --assoc permutes: the allelic chi-square "
        "(binary outcomes; an mtDNA call counts one allele) and the squared t statistic of the "
        "regression on the effect-allele count (continuous outcomes), unadjusted for covariates. "
        "Outcome values were permuted among the participants with the outcome observed"
        + (f", within the {cells} cells, so that every analysed stratum kept its members" if cells else "")
        + " and every participant kept their genotypes and covariates; "
        + "; ".join(parts)
        + f". EMP = (R + 1) / (N + 1), ties counted half for EMP1 as PLINK does; seed {perm.seed}. "
        "Time-to-event outcomes were not permuted."
    )


@dataclass(frozen=True)
class RunFacts:
    """What happened in a run, read from its tables (see :func:`run_facts`)."""

    build: str = ""  # genome build used (extraction.tsv)
    dosage_rows: int = 0  # association rows whose additive model used DS dosages
    firth_rows: int = 0  # rows fitted by Firth's penalised likelihood
    firth_models: tuple[str, ...] = ()
    n_low_gp: int = 0  # calls below the GP threshold, set missing
    heteroplasmic: dict[str, int] = field(default_factory=dict)  # mtDNA variant -> calls set missing
    in_phenotypes: int = 0
    in_both: int = 0
    only_vcf: int = 0
    low_call_rate: int = 0  # samples excluded by qc.min_sample_call_rate
    no_calls: int = 0
    analysed: int = 0
    mt_rule_rows: int = 0  # mtDNA rows without estimate (minimum carriers / carrier cases)
    aliased_rows: int = 0
    covariates_dropped: int = 0  # outcome x stratum x covariate drops
    family_sizes: dict[str, int] = field(default_factory=dict)  # family -> m (finite p)
    haplotype_family_sizes: dict[str, int] = field(default_factory=dict)


def _sum(df: pd.DataFrame | None, col: str) -> int:
    if df is None or col not in df:
        return 0
    return int(pd.to_numeric(df[col], errors="coerce").fillna(0).sum())


def run_facts(tables: dict[str, pd.DataFrame]) -> RunFacts:
    """The facts :func:`methods_sections` states, from a run's tables (keys as the file names
    without ``.tsv``: ``association``, ``extraction``, ``qc_variants``, ``qc_samples_summary``,
    ``sample_matching``, ``covariate_design``, ``haplotype_association``; missing ones count as
    empty)."""
    assoc = tables.get("association")
    if assoc is None:
        assoc = pd.DataFrame(columns=["model", "method", "note", "family", "p_value"])
    note = assoc.note.fillna("").astype(str)
    method = assoc.method.fillna("").astype(str)
    firth = method.str.contains("Firth")
    ext = tables.get("extraction")
    build = ""
    if ext is not None and "build" in ext and len(ext):
        build = ", ".join(dict.fromkeys(ext["build"].dropna().astype(str)))
    qcv = tables.get("qc_variants")
    het: dict[str, int] = {}
    if qcv is not None and len(qcv):
        top = qcv[(qcv["stratum"] == "all") & (qcv["subset"] == "all")]
        mt = top[top["n_carriers"].notna()] if "n_carriers" in top else top.iloc[0:0]
        het = {r.variant: int(r.n_heteroplasmic) for r in mt.itertuples() if pd.notna(r.n_heteroplasmic)}
    match = tables.get("sample_matching")
    m = dict(zip(match["measure"], match["n"].astype(int), strict=True)) if match is not None else {}
    qs = tables.get("qc_samples_summary")
    q = dict(zip(qs["measure"], qs["value"], strict=True)) if qs is not None else {}
    sizes = (
        families.family_sizes(assoc)
        if "family" in assoc and len(assoc)
        else pd.DataFrame(columns=["family", "m"])
    )
    hap = tables.get("haplotype_association")
    hap_sizes = (
        families.family_sizes(hap)
        if hap is not None and "family" in hap and len(hap)
        else pd.DataFrame(columns=["family", "m"])
    )
    design = tables.get("covariate_design")
    return RunFacts(
        build=build,
        dosage_rows=int(method.str.contains("DS dosage").sum()),
        firth_rows=int(firth.sum()),
        firth_models=tuple(dict.fromkeys(assoc.loc[firth, "model"].astype(str))),
        n_low_gp=_sum(ext, "n_low_gp"),
        heteroplasmic=het,
        in_phenotypes=m.get("in_phenotypes", 0),
        in_both=m.get("in_both", 0),
        only_vcf=m.get("only_vcf", 0),
        low_call_rate=int(q.get("n_low_call_rate", 0) or 0),
        no_calls=int(q.get("n_no_calls", 0) or 0),
        analysed=int(q.get("n_analysed", m.get("in_both", 0)) or 0),
        mt_rule_rows=int(note.str.contains("no regression estimate: ").sum()),
        aliased_rows=int(note.str.contains("aliased with ").sum()),
        covariates_dropped=0 if design is None else len(design),
        family_sizes={r.family: int(r.m) for r in sizes.itertuples()},
        haplotype_family_sizes={r.family: int(r.m) for r in hap_sizes.itertuples()},
    )


# The p-value of each row kind, as the legend of a p column (see p_value_legend).
P_SOURCES = {
    "allelic": "Pearson chi-square (1 df) on the 2x2 allele table, no continuity correction",
    "allelic_fisher": "Fisher's exact test on the 2x2 allele table (OR: conditional MLE with exact 95% CI)",
    "genotypic": "Pearson chi-square (2 df) on the 2x3 genotype table",
    "genotypic_fisher": "Freeman-Halton exact test on the 2x3 genotype table",
    "trend": "Cochran-Armitage trend test (1 df)",
    "max3": "MAX3: largest of the dominant, recessive and additive trend tests, trivariate-normal p",
    "carrier_fisher": "Fisher's exact test on the 2x2 carrier x case table (OR: sample OR with Woolf 95% CI)",
    "anova": "one-way ANOVA F test by genotype (unadjusted)",
    "kruskal_wallis": "Kruskal-Wallis rank-sum test by genotype (unadjusted)",
    "mantel_haenszel": "Cochran-Mantel-Haenszel chi-square (1 df), no continuity correction",
    "breslow_day": "Breslow-Day test of homogeneity with Tarone's correction",
    "haplotype": "Wald test of the haplotype coefficient",
    "haplotype_global": "global likelihood-ratio test against the covariate-only model",
}


def _regression_source(model: str, method: str) -> str:
    what = "the product term" if model.startswith("interaction_") else "the genotype term(s)"
    if "Firth" in method:
        return f"penalised likelihood-ratio test (Firth) of {what}; profile penalised-likelihood 95% CI"
    if method.startswith("logistic"):
        return f"likelihood-ratio test of {what} against the model without it (logistic); Wald 95% CI"
    if method.startswith("linear"):
        return f"F test of {what} against the model without it (linear); Wald 95% CI"
    return method


def p_value_legend(table: pd.DataFrame) -> pd.DataFrame:
    """Which test produced the p-value of each kind of row shown (a legend true for every row).

    One row per (model, source) among the rows of ``table`` with a p-value: columns ``model``,
    ``rows`` (how many), ``test``. Regression rows are split by how they were fitted (ML logistic
    LRT, linear F test, Firth penalised LRT), read from each row's ``method``.
    """
    p = pd.to_numeric(table.get("p_value", pd.Series(dtype=float)), errors="coerce")
    sel = table[p.notna()]
    out = []
    for (model, method), part in sel.groupby(
        [
            sel["model"].astype(str),
            sel["method"].fillna("").astype(str).map(lambda m: re.sub(r"F\(\d+, \d+\)", "F", m)),
        ],
        sort=False,
    ):
        test = P_SOURCES.get(model) or _regression_source(model, method)
        out.append({"model": model, "rows": len(part), "test": test})
    legend = pd.DataFrame(out, columns=["model", "rows", "test"])
    return legend.groupby(["model", "test"], sort=False, as_index=False)["rows"].sum()[
        ["model", "rows", "test"]
    ]


def variant_description(v) -> str:
    """``TaqI rs731236 (forward A>G; VDR c.1056T>C, p.Ile352=; effect allele G = t, the allele the
    literature usually counts)``: the panel's names of one variant for the Methods."""
    coding = ", ".join(x for x in (v.hgvs_c, v.hgvs_p) if x)
    parts = [f"forward {v.ref}>{v.alt}"]
    if coding:
        parts.append(f"{v.gene} {coding}" if v.hgvs_c and not v.hgvs_c.startswith("m.") else coding)
    if v.ploidy == 1:
        effect = f"carrier of {v.effect_allele}"
    else:
        letter = v.label(v.effect_allele)
        effect = f"effect allele {v.effect_allele}" + (f" = {letter}" if letter != v.effect_allele else "")
        if v.literature_relation == "same":
            effect += ", the allele the literature usually counts"
        elif v.literature_relation == "opposite":
            effect += (
                f"; the literature usually counts {v.literature_allele}, so its ORs are the inverse and its "
                "betas the negative of those reported here"
            )
    return f"{v.name} {v.id} ({'; '.join(parts)}; {effect})"


def software_versions() -> dict[str, str]:
    """Installed versions of vdrbone and the packages it depends on (importlib.metadata)."""
    versions = {"vdrbone": _own_version()}
    versions.update({k: (v or "not installed") for k, v in collect_versions().items()})
    return versions


def _own_version() -> str:
    from vdrbone import __version__

    return __version__


def _science_sections(settings: Settings, tte: list[str]) -> list[dict]:
    """Methods of time-to-event outcomes, derived WHO classes and configured interactions."""
    outcomes = settings.outcomes
    out = []
    if tte:
        labels = _join([outcomes[o].get("label", o) for o in tte])
        entry = [o for o in tte if outcomes[o].get("entry")]
        out.append(
            {
                "title": "Time to event",
                "text": f"For the time-to-event outcome(s) {labels}: Cox proportional-hazards models "
                f"{_cite('cox')} with Efron's handling of tied event times {_cite('efron')}, for the same "
                "genetic models and covariates as above; hazard ratios (HR) with Wald 95% CIs and "
                "likelihood-ratio tests against the covariate-only Cox model on the same samples"
                + (f"; {_join(entry)} with delayed entry (at risk from the entry time on)" if entry else "")
                + ". Proportional hazards were tested per model with the score test on scaled Schoenfeld "
                f"residuals against the Kaplan-Meier transform of time {_cite('grambsch')} (as R cox.zph), "
                "for the genetic term(s) and globally. Kaplan-Meier curves "
                f"{_cite('kaplan_meier')} by genotype are shown with numbers at risk. A genotype group "
                "without events makes the HR diverge; such rows are not estimated and say so. The "
                "association counts give events (as cases) and censored participants (as controls).",
            }
        )
    derived = {k: s for k, s in outcomes.items() if s["type"] == "who_class"}
    if derived:
        parts = []
        for key, spec in derived.items():
            src = outcomes[spec["from"]].get("label", spec["from"])
            rule = "T-score <= -2.5" if spec["class"] == "osteoporosis" else "T-score < -1.0"
            how = (
                "T-scores as given"
                if outcomes[spec["from"]]["type"] == "tscore"
                else f"T-scores against the young-adult reference '{spec.get('reference')}' by sex"
            )
            parts.append(f"{outcomes[key].get('label', key)} = {rule} in {src} ({how})")
        out.append(
            {
                "title": "Derived outcomes",
                "text": "WHO diagnostic classes "
                + _cite("who_tscore")
                + " were derived as binary outcomes: "
                + "; ".join(parts)
                + ". T = (BMD - young-adult mean) / young-adult SD; the bundled reference is NHANES III "
                f"{_cite('looker')} (resources/tscore_reference.tsv). Every binary test was run on them.",
            }
        )
    pw = settings.power
    out.append(
        {
            "title": "Power",
            "text": "Power of the log-additive (mtDNA: carrier) test and the minimum effect detectable with "
            f"80% power were computed at alpha {pw.alpha} and at the Bonferroni level of each "
            "outcome's family, from the analysed samples' size, effect-allele count variance and outcome SD "
            "(linear), case fraction (logistic) or number of events (Cox, "
            + _cite("schoenfeld")
            + "), by large-sample normal approximations.",
        }
    )
    inters = settings.interactions
    if inters:
        desc = []
        for i in inters:
            kind = i.get("type", "continuous")
            if i.get("levels"):
                kind += f", reference level {i['levels'][0]}"
            desc.append(f"{i['column']} ({kind})")
        out.append(
            {
                "title": "Gene-environment interaction",
                "text": "Besides T2DM and sex, the log-additive SNP effect was allowed to vary with "
                + _join(desc)
                + ": likelihood-ratio test (F test for linear models) of the SNP x modifier product "
                "term(s), adjusted for the covariates and the modifier, in every stratum; the SNP effect "
                "at each level of a categorical modifier and at the 10th, 50th and 90th percentiles of a "
                "continuous one is reported with its Wald 95% CI.",
            }
        )
    return out


def methods_sections(
    settings: Settings,
    *,
    panel: Panel,
    versions: dict[str, str] | None = None,
    suppress: int | None = None,
    facts: RunFacts | None = None,
) -> list[dict]:
    """The methods text as a list of ``{'title': str, 'text': str}`` paragraphs.

    With ``facts`` (:func:`run_facts`), each sentence about an event is emitted only when it
    happened in the run (and says how often); without, the text describes the settings.

    Parameters
    ----------
    settings : the run's settings (``outcomes``, ``covariates``, ``strata``, ``genotypes``,
        ``qc``, ``association``, ``report``, ``cohort``, ``simulate``).
    panel : the analysed variants (effect alleles and RFLP letters are named in the text).
    versions : package -> version (default :func:`software_versions`).
    suppress : the small-cell threshold in force (default
        ``settings.suppress_below``).
    """
    versions = versions if versions is not None else software_versions()
    outcomes = settings.outcomes
    binary = [o for o, s in outcomes.items() if outcome_kind(s) == "binary"]
    continuous = [o for o, s in outcomes.items() if outcome_kind(s) == "continuous"]
    tte = [o for o, s in outcomes.items() if outcome_kind(s) == "time_to_event"]
    covs = [COVARIATE_NAMES.get(c, c) for c in settings.model_covariates]
    ancestry = list(settings.ancestry_covariates)
    defs = settings.definitions
    strata = strata_labels(list(settings.strata))
    geno, qc, assoc = settings.genotypes, settings.qc, settings.association
    k = settings.suppress_below if suppress is None else int(suppress)
    out = []

    cohort = settings.cohort
    sim = settings.simulate
    if sim is not None and sim.enabled:
        source = (
            f"The cohort ({cohort.name}) is synthetic: {sim.n_samples} participants simulated "
            f"by the workflow for population {sim.population} (seed {sim.seed}"
            f"{'; no genetic effects planted' if sim.null_mode else ''}). "
        )
    else:
        source = f"Cohort {cohort.name}. "
    diploid = [v for v in panel if v.ploidy == 2]
    haploid = [v for v in panel if v.ploidy == 1]
    out.append(
        {
            "title": "Study design and definitions",
            "text": source
            + f"Design and setting: {defs.get('study_design') or 'not provided'}. "
            + "Outcomes: "
            + "; ".join(
                f"{s.get('label', o)}: {s.get('definition') or 'definition not provided'}"
                for o, s in outcomes.items()
            )
            + f". Type 2 diabetes: {defs.get('t2dm') or 'definition not provided'}. Genotyping platform: "
            + f"{defs.get('genotyping_platform') or 'not provided'}; laboratory QC: "
            + f"{defs.get('genotyping_qc') or 'not provided'}.",
        }
    )
    out.append(
        {
            "title": "Variants",
            "text": f"Analysed variants: {_join([variant_description(v) for v in diploid])}"
            + (f"; mitochondrial {_join([variant_description(v) for v in haploid])}" if haploid else "")
            + ". Every count, frequency and effect refers to the named effect allele; RFLP letters "
            "follow the convention capital letter = restriction site absent, and haplotypes are written "
            "in the literature's locus order (BsmI-ApaI-TaqI) in letters and forward-strand nucleotides "
            "alike. Genotypes were read from the genotype files and harmonised to the panel's forward-strand "
            "alleles"
            + ("; records whose FILTER was not PASS were not used" if geno.require_pass else "")
            + (
                f"; nor were imputed records with an imputation quality (R2, DR2, INFO, or the IMPUTE "
                f"info score of BGEN probabilities) below {geno.min_info}"
                if geno.min_info
                else ""
            )
            + "; "
            + (
                (
                    f"the genome build ({facts.build}) was detected from the VCF header and contig lengths."
                    if cohort.build == "auto"
                    else f"the genome build was set to {facts.build} in the configuration."
                )
                if facts is not None and facts.build
                else f"genome build: {cohort.build}."
            )
            + (
                " The mtDNA variants are haplogroup markers (m.15885 marks haplogroup O1; m.4823 recurs in "
                "several haplogroups): a carrier contrast compares maternal lineages and cannot separate the "
                "variant from the rest of its haplogroup."
                if haploid
                else ""
            ),
        }
    )
    gp = geno.gp_threshold
    het = geno.heteroplasmy_threshold
    if facts is None:
        gp_text = (
            "Hard genotype calls (GT) were used; for imputed files without GT a call was made when the "
            f"largest genotype probability was at least {gp}. "
        )
        ds_text = (
            "Log-additive models used imputed dosages (expected effect-allele counts: FORMAT DS, or "
            "from the genotype probabilities of GP-only VCF records and BGEN files) where present. "
            if geno.use_dosage
            else "Log-additive models used hard-call allele counts. "
        )
    else:
        gp_text = "Hard genotype calls were used. " + (
            f"For imputed records without GT a call was made when the largest genotype probability (GP) "
            f"was at least {gp}; {facts.n_low_gp} call(s) below it were set missing. "
            if facts.n_low_gp
            else ""
        )
        ds_text = (
            f"Log-additive models used imputed dosages ({facts.dosage_rows} additive rows; expected "
            "effect-allele counts: FORMAT DS, or from the genotype probabilities of GP-only VCF records "
            "and BGEN files). "
            if facts.dosage_rows
            else "Log-additive models used hard-call effect-allele counts"
            + (" (no imputed dosages were present). " if geno.use_dosage else ". ")
        )
    het_counts = ""
    if facts is not None and haploid:
        n_het = sum(facts.heteroplasmic.values())
        het_counts = (
            " Heteroplasmic calls set missing: "
            + ", ".join(f"{vid} {n}" for vid, n in facts.heteroplasmic.items())
            + "."
            if n_het
            else " No heteroplasmic call was found."
        )
    out.append(
        {
            "title": "Genotype calls",
            "text": gp_text
            + ds_text
            + (
                f"mtDNA was treated as haploid: a call with a heteroplasmy fraction (FORMAT AF) of at least "
                f"{het} counted as carrier, lower fractions as heteroplasmic and not called"
                + (
                    f"; carriers are defined by allele {geno.mt_alt}."
                    if geno.mt_alt not in (None, "any")
                    else "; a carrier carries any non-reference allele."
                )
                + het_counts
                if haploid
                else ""
            ),
        }
    )
    min_rate = qc.min_sample_call_rate
    if facts is None:
        sample_text = (
            f"Samples with a call rate below {min_rate} over the panel were excluded. At least "
            f"{qc.min_sample_overlap * 100:.0f}% of phenotyped samples had to be present in "
            "the VCF. "
        )
    else:
        sample_text = (
            f"Of {facts.in_phenotypes} participants in the phenotype table, {facts.in_both} were in the "
            "genotype files"
            + (f" ({facts.only_vcf} genotyped samples had no phenotype row)" if facts.only_vcf else "")
            + f"; {facts.low_call_rate} with a sample call rate below {min_rate} over the panel"
            + (f" and {facts.no_calls} without any call" if facts.no_calls else "")
            + f" were excluded, leaving {facts.analysed} (participant_flow.tsv). "
        )
    out.append(
        {
            "title": "Quality control",
            "text": sample_text + f"Call rate was computed per variant over the analysed samples (threshold "
            f"{qc.min_call_rate}). "
            + _hwe_text(qc, [outcomes[o].get("label", o) for o in binary], binary)
            + _test_missing_text(qc, [outcomes[o].get("label", o) for o in binary])
            + " Variants failing QC (call rate, HWE"
            + (" or differential missingness" if binary and qc.test_missing_p is not None else "")
            + ") were "
            + (
                "excluded from association testing of every outcome; their rows give the reason."
                if qc.action == "exclude"
                else "flagged but kept."
            ),
        }
    )
    out.append(
        {
            "title": "Missing data and population stratification",
            "text": "Complete-case analysis: each test used the participants of its stratum with the outcome "
            "and the genotype, and each regression model additionally those with every covariate; "
            "nothing was imputed. The genotype counts, means and SDs shown beside an estimate are those of "
            "the model's own sample; participant_flow.tsv follows every stratum from the phenotype table "
            "to each model's n with the reasons for exclusion. "
            + (
                f"Ancestry was adjusted for by the covariates {_join(ancestry)} (supplied with the "
                "phenotypes) in every model."
                if ancestry
                else "No ancestry covariates (principal components) were supplied: the models are not "
                "adjusted for population stratification."
            ),
        }
    )
    tests = []
    if binary:
        labels = _join([outcomes[o].get("label", o) for o in binary])
        tests.append(
            f"For the binary outcome(s) {labels}: allelic test (Pearson chi-square on the 2x2 allele table, "
            "no continuity correction, with the sample allelic OR and its Woolf 95% CI; Fisher's exact "
            "test beside it reports the conditional maximum-likelihood OR with its exact 95% CI), "
            "genotypic test (chi-square and Freeman-Halton exact test on the 2x3 table), Cochran-Armitage "
            f"trend test {_cite('armitage')}, and logistic regression (odds ratios)."
            + (
                f" MAX3 {_cite('freidlin')} took the largest of the dominant, recessive and additive trend "
                "chi-squares, with a p-value from their asymptotic trivariate normal distribution "
                "(correlations from the genotype counts; not permutation), as SNPassoc maxstat; it "
                "answers 'which genetic model' at the price of the choice and stays outside the "
                "multiple-testing family."
                if assoc.max3
                else ""
            )
        )
    if continuous:
        labels = _join([outcomes[o].get("label", o) for o in continuous])
        tests.append(
            f"For the continuous outcome(s) {labels}: one-way ANOVA and Kruskal-Wallis test by genotype "
            "(unadjusted), and linear regression (beta, outcome units per effect allele or vs the "
            "reference genotype)."
        )
    out.append(
        {
            "title": "Association tests",
            "text": " ".join(tests)
            + " Regression models follow SNPassoc "
            + _cite("snpassoc")
            + ": codominant (2 df), dominant, recessive, overdominant and log-additive genetic models "
            "(mtDNA: carrier vs non-carrier), each adjusted for "
            + (_join(covs) if covs else "no covariates")
            + ", plus sex and T2DM status where a stratum does not fix them. A covariate constant among "
            "a stratum's analysable samples, or collinear with the covariates before it (relative "
            f"tolerance {float(assoc.collinearity_tolerance):g}), was left out of that "
            "stratum's models, as R lm and glm alias such terms (covariate_design.tsv lists where). "
            "p-values are likelihood-ratio "
            "tests (logistic) or F tests (linear) against the covariate-only model fitted on the same "
            "complete-case samples; 95% confidence intervals are Wald intervals"
            + (" (profile penalised-likelihood intervals for Firth fits, see below)" if binary else "")
            + "; delta-AIC (AIC minus the smallest AIC of the genetic models of the same variant, stratum "
            "and sample) compares the genetic models, differences of 2 or less not being distinguished "
            "by the data. Results were checked against R and PLINK "
            + _cite("plink")
            + "."
            + (
                " mtDNA carrier frequencies are low: a stratum whose model sample had fewer than "
                f"{assoc.mt_min_carriers} carriers"
                + (
                    f" or fewer than {assoc.mt_min_carrier_cases} carrier case(s)"
                    if binary and assoc.mt_min_carrier_cases
                    else ""
                )
                + " (in each modifier group, for an interaction) got genotype counts and Fisher's exact "
                "test but no regression estimate"
                + (
                    f" ({facts.mt_rule_rows} rows in this run)."
                    if facts is not None and facts.mt_rule_rows
                    else " (no row in this run)."
                    if facts is not None
                    else "."
                )
                if haploid
                else ""
            )
            + (
                " Tests whose designs were identical on the same samples (aliased, e.g. SNP x T2DM and SNP "
                "x sex when the same carriers make both product terms) were counted once; "
                f"{facts.aliased_rows} row(s) carry the note 'aliased with ...'."
                if facts is not None and facts.aliased_rows
                else ""
            ),
        }
    )
    conditional = _conditional_text(settings, panel)
    if conditional:
        out.append({"title": "Conditional analysis", "text": conditional})
    if settings.permutation.n or settings.permutation.adaptive:
        out.append({"title": "Permutation", "text": _permutation_text(settings)})
    if settings.epistasis.enabled:
        out.append(
            {
                "title": "SNP x SNP interaction",
                "text": "Every pair of variants, VDR x VDR and VDR x mtDNA carrier, was tested for "
                f"interaction in all participants and in each stratum, as SNPassoc interactionPval "
                f"{_cite('snpassoc')} with its log-additive coding: the product of the two effect-allele "
                "counts (mtDNA: carrier 0/1) was added to a model holding both variants and the "
                "covariates of the genetic models, and tested with a 1-df likelihood-ratio (logistic) or "
                "F (linear) test on the same complete-case samples. Hard genotype calls were used. "
                "A VDR x mtDNA product, estimated from the carriers alone, was not estimated when the "
                f"model's sample had fewer than {settings.association.mt_min_carriers} carriers (binary "
                f"outcomes: fewer than {settings.association.mt_min_carrier_cases} carrier cases), as "
                "for the single-variant models. "
                "p-values were adjusted over the pairs and strata of each outcome (Bonferroni and "
                "Benjamini-Hochberg); these tests are not in the single-variant multiple-testing family. "
                "Time-to-event outcomes were not tested for SNP x SNP interaction.",
            }
        )
    if binary:
        firth_text = (
            "When a logistic model showed quasi-complete separation (a genotype class of the "
            "model's coding with only cases or only controls; for the log-additive model, case and "
            "control values, the dosages where dosages were analysed, overlapping in at most one "
            "boundary value; |coefficient| > 15 or standard error > 10) or did not converge, it was "
            f"refitted with Firth's penalised likelihood {_cite('firth', 'heinze')}. Such rows carry "
            "the note 'firth-fallback'; their p-value is the penalised likelihood-ratio test (the "
            "tested coefficients fixed at zero, the others re-maximised, the penalty taken from the "
            "full model; 2 df for the codominant model) and their 95% confidence intervals are "
            "profile penalised-likelihood intervals, as in R logistf; the Wald p-value and interval "
            "(as PLINK 2 --glm firth reports them) are kept in the columns wald_p_value, "
            "wald_ci_lower and wald_ci_upper. "
        )
        if facts is not None:
            firth_text = (
                f"Firth's penalised likelihood was used in {facts.firth_rows} row(s) (models "
                f"{_join(list(facts.firth_models))}). " + firth_text
                if facts.firth_rows
                else "No logistic model showed separation or failed to converge, so no Firth fit was needed. "
            )
        out.append(
            {
                "title": "Separation and sparse data",
                "text": firth_text + "Regression models of a binary outcome were fitted in a "
                f"stratum only with at least {assoc.min_cases} cases and {assoc.min_cases} "
                f"controls; the allele and genotype tests need only {assoc.min_stratum_n} samples.",
            }
        )
    out += _science_sections(settings, tte)
    names = _join([stratum_name(s) for s in strata])
    out.append(
        {
            "title": "Strata and effect modification",
            "text": f"Analyses were run in the strata {names}. A stratum with fewer than "
            f"{assoc.min_stratum_n} analysable samples was skipped and is listed as such. Effect "
            "modification was tested with a log-additive SNP x T2DM interaction term (in all samples and "
            "within each sex) and a SNP x sex interaction term (in all samples and within each T2DM group), "
            "likelihood-ratio or F test of the product term."
            + (
                " For binary outcomes the allelic odds ratios were pooled across the T2DM and the sex "
                f"strata by Mantel-Haenszel, with the Robins-Breslow-Greenland variance {_cite('rbg')}, "
                f"and their homogeneity tested by Breslow-Day {_cite('breslow_day')} with Tarone's "
                f"correction {_cite('tarone')}. Only informative strata (cases and controls, and both "
                "alleles or carriers and non-carriers) were pooled; with fewer than 2 informative strata "
                "nothing was pooled and the row gives the reason instead of an estimate and is not part "
                "of the multiple-testing family."
                if binary
                else ""
            ),
        }
    )
    hap = settings.haplotypes
    if hap.enabled:
        names = {v.id: v.name for v in panel}
        block = [names.get(i, i) for i in hap.block] + [names.get(i, i) for i in hap.extra_variants]
        joint = hap.method == "haplo_glm"
        out.append(
            {
                "title": "Linkage disequilibrium and haplotypes",
                "text": "Pairwise LD (D, D' and r, signed for the effect alleles, and r2) between the "
                "diploid variants was estimated from two-locus "
                "maximum-likelihood haplotype frequencies of the unphased genotypes, as the R package "
                f"genetics does. Haplotype frequencies of {'-'.join(block)} were estimated by the EM "
                f"algorithm {_cite('excoffier')} (as haplo.stats haplo.em; tolerance {hap.em_tol}, at "
                f"most {hap.em_max_iter} iterations); haplotypes with frequency at or below "
                f"{hap.min_freq} were pooled as 'rare'. Haplotype association used an additive "
                "model, each common haplotype against the most frequent one, with the covariates of the "
                "single-variant models, "
                + (
                    f"by the joint EM-GLM likelihood of haplo.glm {_cite('lake')}"
                    if joint
                    else f"by regression on posterior expected haplotype counts {_cite('schaid')}"
                )
                + "; a global likelihood-ratio test compares the model with the covariate-only model."
                + (
                    " When a haplotype term of a logistic model separated (|coefficient| > 15, standard "
                    "error > 10 or singular information) or the EM-GLM diverged, the stratum was refitted "
                    f"with Firth's penalised likelihood {_cite('firth', 'heinze')} on the data expanded to "
                    "the compatible haplotype pairs, weighted by their posterior probabilities, with the "
                    "EM updates iterated as in haplo.glm; with the final weights fixed, each haplotype's "
                    "p-value is the penalised likelihood-ratio test (1 df) with a profile "
                    "penalised-likelihood interval, the global test is the joint penalised "
                    "likelihood-ratio test, and the Wald values (Louis information) are kept in "
                    "wald_p_value, wald_ci_lower and wald_ci_upper."
                    if joint and binary
                    else ""
                ),
            }
        )
    spec = families.primary_spec(settings, diploid=[v.id for v in diploid])
    names = {v.id: v.name for v in panel}
    model_word = "log-additive" if spec.model == "additive" else spec.model
    primary_outcomes = [outcomes[o].get("label", o) for o in (spec.outcomes or list(outcomes))]
    sizes = facts.family_sizes if facts is not None else {}
    m_primary = f" (m = {sizes.get(families.PRIMARY, 0)} tests with a p-value)" if facts is not None else ""
    exploratory = (
        "; ".join(
            f"{outcomes.get(f.split(':', 1)[1], {}).get('label', f.split(':', 1)[1])} m = {m}"
            for f, m in sizes.items()
            if f.startswith("exploratory:")
        )
        if facts is not None
        else ""
    )
    hap_sizes = facts.haplotype_family_sizes if facts is not None else {}
    out.append(
        {
            "title": "Primary analysis and multiple testing",
            "text": "The pre-specified primary analysis (config primary) is the "
            f"{model_word} model in "
            + (
                "all participants"
                if list(spec.strata) == ["all"]
                else _join([stratum_name(x) for x in spec.strata])
            )
            + " for "
            f"{_join([names.get(v, v) for v in (spec.variants or [])])} and {_join(primary_outcomes)}"
            + (
                ", with the "
                + _join([f"SNP x {'T2DM' if m == 't2dm' else m}" for m in spec.interactions])
                + " interaction tests in the same participants"
                if spec.interactions
                else ""
            )
            + f"; these tests form one family across outcomes{m_primary}, read at alpha = {spec.alpha:g}. "
            "Every other test is exploratory: one family per outcome (multiple_testing_family: "
            f"{assoc.multiple_testing_family}), one test per variant x stratum x model "
            "for the models "
            + _join(PRIMARY_MODELS)
            + " (the two codominant terms share one 2-df test)"
            + (f" ({exploratory})" if exploratory else "")
            + ". The column family of association.tsv names each row's family. Within each family, "
            f"p-values were adjusted as PLINK --adjust does: Bonferroni, Holm's step-down {_cite('holm')}, "
            f"Sidak single-step and step-down {_cite('sidak')}, and the Benjamini-Hochberg {_cite('bh')} "
            f"and Benjamini-Yekutieli {_cite('by')} false discovery rates (the 'BH-adjusted p'; not a "
            "Storey q-value). Interaction tests are family members and carry BH-adjusted p-values too. "
            "Exact twins of a family test (Fisher), MAX3, the descriptive ANOVA and Kruskal-Wallis tests, "
            "the Breslow-Day test and aliased tests are shown unadjusted (family none)."
            + (
                " The haplotype global tests of each outcome, over its strata, form the family "
                "haplotype:<outcome>"
                + (" (" + "; ".join(f"{f} m = {m}" for f, m in hap_sizes.items()) + ")" if hap_sizes else "")
                + "; the per-haplotype Wald tests are not adjusted."
                if hap.enabled
                else ""
            ),
        }
    )
    out.append(
        {
            "title": "Disclosure control",
            "text": (
                f"Counts of 1 to {k - 1} people are shown as <{k} in this report and in the archived "
                "tables; frequencies and means of such cells are withheld, and in the report's genotype "
                "tables the largest other cell of the same row or column is withheld too (complementary "
                "suppression). The archived tables carry primary suppression only: totals and other "
                "cells of the same table may still allow a suppressed count to be derived. "
                if k > 1
                else "Small-cell suppression is off for this run"
                + (" (synthetic cohort). " if cohort.synthetic else ". ")
            )
            + "The report and the archive contain aggregate statistics only.",
        }
    )
    soft = ", ".join(f"{name} {ver}" for name, ver in versions.items())
    out.append({"title": "Software", "text": f"Python packages: {soft}."})
    return out
