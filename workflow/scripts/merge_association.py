"""Snakemake adapter: one association table (and descriptive tables) across outcomes."""

from vdrbone.tables import concat_tsv, snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    for key in (
        "association",
        "genotype_counts",
        "bmd_by_genotype",
        "covariate_design",
        "kaplan_meier",
        "power",
    ):
        n = concat_tsv(list(sm.input[key]), sm.output[key])
        log.info("%s: %d rows", key, n)
