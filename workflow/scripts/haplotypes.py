"""Snakemake adapter for the haplotype rules: LD and frequencies, association of one outcome, merge."""

import pandas as pd

from vdrbone.association import design_messages
from vdrbone.haplotypes import (
    adjust_global,
    association_table,
    empty_tables,
    haplotype_frequency_table,
    ld_table,
)
from vdrbone.harmonise import unavailable_variants
from vdrbone.panel import read_panel
from vdrbone.settings import settings_from_config
from vdrbone.tables import read_parquet, read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    enabled = settings.haplotypes.enabled
    if sm.rule == "merge_haplotypes":
        parts = [read_tsv(p) for p in sm.input.association]
        table = adjust_global(pd.concat(parts, ignore_index=True)) if enabled else parts[0]
        log.info("%d haplotype association rows", len(table))
        write_tsv(table, sm.output.association)
    else:
        calls, pheno = read_parquet(sm.input.calls), read_tsv(sm.input.phenotypes)
        panel = read_panel(sm.input.panel).select(settings.variants)
        unavailable = unavailable_variants(read_tsv(sm.input.extraction))  # "not in the genotype files"
        empty = empty_tables()
        if sm.rule == "ld_haplotypes":
            ld = (
                ld_table(calls, pheno, panel, settings=settings, unavailable=unavailable)
                if enabled
                else empty["ld"]
            )
            freqs = (
                haplotype_frequency_table(calls, pheno, panel, settings=settings, unavailable=unavailable)
                if enabled
                else empty["haplotypes"]
            )
            log.info("%d LD rows, %d haplotype frequency rows", len(ld), len(freqs))
            write_tsv(ld, sm.output.ld)
            write_tsv(freqs, sm.output.haplotypes)
        else:
            outcome = sm.wildcards.outcome
            table = (
                association_table(
                    calls, pheno, panel, outcome=outcome, settings=settings, unavailable=unavailable
                )
                if enabled
                else empty["association"]
            )
            log.info("%d haplotype association rows for %s", len(table), outcome)
            if "covariate_design" in table.attrs:
                for message in design_messages(table.attrs["covariate_design"], models="haplotype models"):
                    log.warning("%s", message)
            write_tsv(table, sm.output.association)
