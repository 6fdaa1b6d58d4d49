"""Snakemake adapter: all association tests of one outcome, over variants and strata, and the
haplotype association of that outcome (haplo.glm-style GLMs; none for a time-to-event outcome)."""

from vdrbone.association import CALL_COLUMNS, associate_outcome, design_messages
from vdrbone.haplotypes import association_table, empty_tables
from vdrbone.harmonise import unavailable_variants
from vdrbone.panel import read_panel
from vdrbone.phenotypes import outcome_kind
from vdrbone.settings import settings_from_config
from vdrbone.tables import read_parquet, read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    outcome = sm.wildcards.outcome
    panel = read_panel(sm.input.panel).select(settings.variants)
    # the haplotype models use a subset of these columns (sample, variant, effect_count)
    calls, pheno = (
        read_parquet(sm.input.calls, columns=CALL_COLUMNS, categorical=["sample", "variant"]),
        read_tsv(sm.input.phenotypes),
    )
    result = associate_outcome(
        calls, pheno, panel, outcome=outcome, settings=settings, qc=read_tsv(sm.input.qc)
    )
    log.info("%d association rows for %s", len(result.association), outcome)
    for message in design_messages(result.covariate_design):
        log.warning("%s", message)
    write_tsv(result.association, sm.output.association)
    write_tsv(result.genotype_counts, sm.output.genotype_counts)
    write_tsv(result.bmd_by_genotype, sm.output.bmd_by_genotype)
    write_tsv(result.kaplan_meier, sm.output.kaplan_meier)
    write_tsv(result.power, sm.output.power)
    write_tsv(result.covariate_design, sm.output.covariate_design)
    write_tsv(result.flow, sm.output.flow)
    del result
    haplotypes = empty_tables()["association"]
    if not settings.haplotypes.enabled:
        log.info("haplotypes.enabled is false: no haplotype association")
    elif outcome_kind(settings.outcomes[outcome]) == "time_to_event":
        log.info("%s: time-to-event outcome, no haplotype association (no Cox haplotype model)", outcome)
    else:
        unavailable = unavailable_variants(read_tsv(sm.input.extraction))  # "not in the genotype files"
        haplotypes = association_table(
            calls, pheno, panel, outcome=outcome, settings=settings, unavailable=unavailable
        )
        log.info("%d haplotype association rows for %s", len(haplotypes), outcome)
        if "covariate_design" in haplotypes.attrs:
            for message in design_messages(haplotypes.attrs["covariate_design"], models="haplotype models"):
                log.warning("%s", message)
    write_tsv(haplotypes, sm.output.haplotypes)
