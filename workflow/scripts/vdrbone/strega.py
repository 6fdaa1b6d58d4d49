"""STREGA reporting: the checklist appendix and the participant-flow summary of the report.

:data:`STREGA_ITEMS` lists every item of the STREGA checklist (Little J, Higgins JPT, Ioannidis JPA
et al. STrengthening the REporting of Genetic Association Studies (STREGA): an extension of the
STROBE statement. PLoS Med. 2009;6(2):e22), i.e. the 22 STROBE items with STREGA's genetic
additions. :func:`strega_checklist` says for each where this run's report (or its tables) gives it,
or "not provided" (items that only the authors of a paper can write, or definitions missing from
the config). :func:`flow_summary` turns ``participant_flow.tsv`` into the rows of the report's flow
diagram. Plain data for the templates; no markup.
"""

from __future__ import annotations

import pandas as pd

from vdrbone.methods import RunFacts
from vdrbone.settings import Settings

NOT_PROVIDED = "not provided"
AUTHORS = "not provided (the authors' text)"

# (item, section, topic, recommendation: STROBE and, where STREGA adds one, its genetic addition)
STREGA_ITEMS = [
    ("1", "Title and abstract", "Title and abstract",
     "Indicate the study's design; give an informative and balanced summary."),
    ("2", "Introduction", "Background/rationale",
     "Explain the scientific background and rationale."),
    ("3", "Introduction", "Objectives", "State specific objectives, including any prespecified hypotheses. "
     "STREGA: state if the study is the first report of a genetic association, a replication effort, "
     "or both."),
    ("4", "Methods", "Study design", "Present key elements of study design early in the paper."),
    ("5", "Methods", "Setting", "Describe the setting, locations and relevant dates."),
    ("6", "Methods", "Participants", "Give the eligibility criteria and the sources and methods of selection "
     "of participants. STREGA: give information on the criteria and methods for selection of subsets of "
     "participants from a larger study, when relevant."),
    ("7", "Methods", "Variables", "Clearly define all outcomes, exposures, predictors, potential confounders "
     "and effect modifiers. STREGA: clearly define genetic exposures (genetic variants) using a widely-used "
     "nomenclature system; identify variables likely to be associated with population stratification."),
    ("8", "Methods", "Data sources/measurement", "Give sources of data and details of methods of assessment. "
     "STREGA: describe laboratory methods, including source and storage of DNA, genotyping methods and "
     "platforms (allele calling algorithm and version), error rates and call rates; state the laboratory "
     "where genotyping was done; whether genotypes were assigned using all of the data simultaneously or "
     "in batches."),
    ("9", "Methods", "Bias", "Describe any efforts to address potential sources of bias. STREGA: for "
     "quantitative outcome variables, specify if any investigation of potential bias resulting from "
     "pharmacotherapy was undertaken; if relevant, describe the nature and magnitude of the potential bias."),
    ("10", "Methods", "Study size", "Explain how the study size was arrived at."),
    ("11", "Methods", "Quantitative variables", "Explain how quantitative variables were handled in the "
     "analyses. STREGA: if applicable, describe how effects of treatment were dealt with."),
    ("12", "Methods", "Statistical methods", "Describe all statistical methods, including those used to "
     "control for confounding, to examine subgroups and interactions, how missing data were addressed, and "
     "sensitivity analyses. STREGA: state software version used and options chosen; whether Hardy-Weinberg "
     "equilibrium was considered and how; methods for inferring genotypes or haplotypes; methods to assess "
     "or address population stratification; methods to address multiple comparisons or to control the risk "
     "of false positive findings; methods to address and correct for relatedness among subjects."),
    ("13", "Results", "Participants", "Report numbers of individuals at each stage of the study, reasons "
     "for non-participation; consider a flow diagram. STREGA: report numbers of individuals in whom "
     "genotyping was attempted and in whom it was successful."),
    ("14", "Results", "Descriptive data", "Give characteristics of study participants and the number with "
     "missing data for each variable. STREGA: consider giving information by genotype."),
    ("15", "Results", "Outcome data", "Report numbers of outcome events or summary measures. STREGA: "
     "report outcomes (phenotypes) for each genotype category."),
    ("16", "Results", "Main results", "Give unadjusted and confounder-adjusted estimates with their "
     "precision and which confounders were adjusted for. STREGA: report results of any adjustments for "
     "multiple comparisons."),
    ("17", "Results", "Other analyses", "Report other analyses done: subgroups, interactions and "
     "sensitivity analyses. STREGA: if numerous genetic exposures were examined, summarise results from all "
     "analyses undertaken; if detailed results are available elsewhere, state how they can be accessed."),
    ("18", "Discussion", "Key results", "Summarise key results with reference to study objectives."),
    ("19", "Discussion", "Limitations", "Discuss limitations, taking into account sources of potential bias "
     "or imprecision."),
    ("20", "Discussion", "Interpretation", "Give a cautious overall interpretation of results."),
    ("21", "Discussion", "Generalisability", "Discuss the generalisability (external validity) of results."),
    ("22", "Other information", "Funding", "Give the source of funding and the role of the funders."),
]  # fmt: skip


def strega_checklist(settings: Settings, facts: RunFacts | None = None) -> list[dict]:
    """Every STREGA item with where this run reports it, or ``not provided``.

    Returns a list of ``{'item', 'section', 'topic', 'recommendation', 'where'}`` in checklist
    order (22 items). What the config defines (``definitions``, outcome ``definition``) or the
    run produced (participant flow, ancestry covariates) decides the answer; items only a paper's
    authors can write say so.
    """
    defs = settings.definitions
    outcomes = settings.outcomes
    missing_defs = [k for k, s in outcomes.items() if not s.get("definition")]
    ancestry = settings.ancestry_covariates
    platform = defs.get("genotyping_platform")
    where = {
        "1": AUTHORS,
        "2": AUTHORS,
        "3": "Methods: Primary analysis and multiple testing (the pre-specified primary hypothesis and "
        "alpha); first report or replication: " + AUTHORS,
        "4": "Methods: Study design and definitions" if defs.get("study_design") else NOT_PROVIDED,
        "5": "Methods: Study design and definitions" if defs.get("study_design") else NOT_PROVIDED,
        "6": "Participant flow (section 1) and participant_flow.tsv; eligibility criteria: " + NOT_PROVIDED,
        "7": "Methods: Variants (rs ids, HGVS names, effect alleles); Study design and definitions"
        + (f" (outcome definition not provided for {', '.join(missing_defs)})" if missing_defs else "")
        + ("" if defs.get("t2dm") else "; T2DM definition not provided")
        + "; population stratification: Methods, Missing data and population stratification",
        "8": "Methods: Genotype calls and Quality control (call rates, calling thresholds)"
        + (f"; platform: {platform}" if platform else "; genotyping platform: " + NOT_PROVIDED)
        + ("; laboratory QC: Methods" if defs.get("genotyping_qc") else "; laboratory QC: " + NOT_PROVIDED),
        "9": "Methods: Missing data and population stratification; haplogroup caveat in Methods: Variants; "
        "pharmacotherapy bias: " + NOT_PROVIDED,
        "10": NOT_PROVIDED + " (no power or sample-size calculation); analysed n per test in every table",
        "11": "Methods: Association tests (continuous outcomes in their units, per-allele and genotype "
        "codings); treatment effects: " + NOT_PROVIDED,
        "12": "Methods (all paragraphs): software versions, HWE, haplotype inference, ancestry covariates "
        + ("used" if ancestry else "not supplied")
        + ", primary and exploratory families, missing data (complete cases); relatedness: "
        + NOT_PROVIDED,
        "13": "Participant flow (section 1) and participant_flow.tsv: phenotype table, genotype files, "
        "sample call rate, each stratum and model"
        + (
            f" ({facts.in_both} genotyped of {facts.in_phenotypes}; {facts.analysed} analysed)"
            if facts is not None and facts.in_phenotypes
            else ""
        ),
        "14": "Table 1 (section 3); Genotype distributions (section 4); missing values per variable in "
        "Table 1",
        "15": "Association results: counts or means (SD) by genotype, from each model's own sample",
        "16": "Association results: unadjusted tests and covariate-adjusted models with 95% CIs; family, "
        "BH-adjusted p and Bonferroni columns",
        "17": "Association results: strata, interaction tests, haplotypes; every test in association.tsv "
        "(shareable tables in the archive)",
        "18": AUTHORS,
        "19": AUTHORS + "; the report lists not-estimated tests and the haplogroup caveat",
        "20": AUTHORS,
        "21": AUTHORS,
        "22": AUTHORS,
    }
    return [
        {"item": i, "section": sec, "topic": topic, "recommendation": rec, "where": where[i]}
        for i, sec, topic, rec in STREGA_ITEMS
    ]


def flow_summary(flow: pd.DataFrame, *, outcome: str, stratum: str = "all") -> dict:
    """The flow diagram of one outcome and stratum: ``head`` (the shared steps: phenotype table,
    genotype files, sample QC, stratum, outcome) as ``{'kind', 'reason', 'n'}`` rows and
    ``variants``: per variant its own exclusions and its analysed n (the genetic models' n)."""
    f = flow.fillna({"outcome": "", "stratum": "", "variant": ""})
    head = f[f["outcome"] == ""]
    part = f[(f["outcome"] == outcome) & (f["stratum"] == stratum)]
    shared = part[part["variant"] == ""]
    steps = [
        {"kind": r.kind, "reason": r.reason, "n": int(r.n)} for r in pd.concat([head, shared]).itertuples()
    ]
    variants = []
    for variant, own in part[part["variant"] != ""].groupby("variant", sort=False):
        excluded = [
            {"reason": r.reason, "n": int(r.n)}
            for r in own.itertuples()
            if r.kind == "excluded" and int(r.n) > 0
        ]
        variants.append({"variant": variant, "excluded": excluded, "n": int(own["n"].iloc[-1])})
    return {"outcome": outcome, "stratum": stratum, "steps": steps, "variants": variants}
