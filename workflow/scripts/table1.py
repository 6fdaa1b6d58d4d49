"""Snakemake adapter: Table 1 (descriptive statistics by T2DM status and sex) as tables/table1.tsv."""

from vdrbone.descriptive import TABLE1_GROUPS, table_one
from vdrbone.settings import settings_from_config
from vdrbone.strata import strata_labels
from vdrbone.tables import read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    groups = list(dict.fromkeys([*TABLE1_GROUPS, *strata_labels(list(settings.strata))]))
    table = table_one(
        read_tsv(sm.input.phenotypes),
        outcomes=settings.outcomes,
        covariates=list(settings.covariates),
        groups=groups,
    )
    write_tsv(table, sm.output.table)
    log.info("table1 written: %s (%d rows, %d groups)", sm.output.table, len(table), len(groups))
