"""Snakemake adapter: sample QC (call rate), then variant QC per stratum on the analysed samples."""

from vdrbone.harmonise import unavailable_variants
from vdrbone.panel import read_panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.qc import (
    add_test_missing_verdict,
    analysed_samples,
    hwe_subsets,
    qc_samples,
    qc_samples_summary,
    qc_test_missing,
    qc_variants,
)
from vdrbone.tables import read_parquet, read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    panel = read_panel(sm.input.panel).select(sm.params.variants)
    pheno = read_tsv(sm.input.phenotypes)
    calls = read_parquet(
        sm.input.calls,
        columns=["sample", "variant", "effect_count", "status"],
        categorical=["sample", "variant", "status"],
    )
    calls = calls[calls["sample"].isin(pheno["sample"])]
    min_rate = sm.params.qc["min_sample_call_rate"]
    samples = qc_samples(calls, min_call_rate=min_rate)
    pheno = analysed_samples(pheno, samples)
    log.info(
        "sample QC: %d of %d samples analysed (call rate >= %g over the panel)",
        len(pheno),
        len(samples),
        min_rate,
    )
    calls = calls[calls["sample"].isin(pheno["sample"])]
    unavailable = unavailable_variants(read_tsv(sm.input.extraction))  # "not in the genotype files"
    binary = [key for key, spec in sm.params.outcomes.items() if outcome_kind(spec) == "binary"]
    table = qc_variants(
        calls,
        pheno,
        panel,
        strata=list(sm.params.strata),
        binary_outcomes=binary,
        min_call_rate=sm.params.qc["min_call_rate"],
        hwe_p=sm.params.qc["hwe_p"],
        hwe_samples=sm.params.qc["hwe_samples"],
        unavailable=unavailable,
    )
    test_missing = qc_test_missing(
        calls,
        pheno,
        panel,
        strata=list(sm.params.strata),
        binary_outcomes=binary,
        p_threshold=sm.params.qc["test_missing_p"],
        unavailable=unavailable,
    )
    table = add_test_missing_verdict(table, test_missing)
    verdict = table[
        (table["stratum"] == "all") & (table["subset"] == "all") & (table["flag"].fillna("") != "")
    ]
    log.info(
        "%d variant(s) failing QC (HWE read in: %s; test-missing p < %s): %s",
        len(verdict),
        ", ".join(hwe_subsets(sm.params.qc["hwe_samples"], binary)),
        sm.params.qc["test_missing_p"],
        "; ".join(f"{r.variant} ({r.reason})" for r in verdict.itertuples()) or "none",
    )
    write_tsv(table, sm.output.variants)
    write_tsv(samples, sm.output.samples)
    write_tsv(qc_samples_summary(samples, min_call_rate=min_rate), sm.output.summary)
    write_tsv(pheno, sm.output.analysed)
    write_tsv(test_missing, sm.output.test_missing)
