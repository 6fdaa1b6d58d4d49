"""Snakemake adapter: all association tests of one outcome, over variants and strata."""

from vdrbone.association import CALL_COLUMNS, associate_outcome, design_messages
from vdrbone.panel import read_panel
from vdrbone.settings import settings_from_config
from vdrbone.tables import read_parquet, read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    panel = read_panel(sm.input.panel).select(settings.variants)
    result = associate_outcome(
        read_parquet(sm.input.calls, columns=CALL_COLUMNS),
        read_tsv(sm.input.phenotypes),
        panel,
        outcome=sm.wildcards.outcome,
        settings=settings,
        qc=read_tsv(sm.input.qc),
    )
    log.info("%d association rows for %s", len(result.association), sm.wildcards.outcome)
    for message in design_messages(result.covariate_design):
        log.warning("%s", message)
    write_tsv(result.association, sm.output.association)
    write_tsv(result.genotype_counts, sm.output.genotype_counts)
    write_tsv(result.bmd_by_genotype, sm.output.bmd_by_genotype)
    write_tsv(result.kaplan_meier, sm.output.kaplan_meier)
    write_tsv(result.power, sm.output.power)
    write_tsv(result.covariate_design, sm.output.covariate_design)
    write_tsv(result.flow, sm.output.flow)
