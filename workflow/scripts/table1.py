"""Snakemake adapter: Table 1 (descriptive statistics by T2DM status and sex) as tables/table1.tsv."""

from vdrbone.descriptive import TABLE1_GROUPS, table_one
from vdrbone.phenotypes import strata_labels
from vdrbone.tables import read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    config = sm.params.config
    groups = list(dict.fromkeys([*TABLE1_GROUPS, *strata_labels(list(config.get("strata", ["all"])))]))
    table = table_one(
        read_tsv(sm.input.phenotypes),
        outcomes=config["outcomes"],
        covariates=list(config.get("covariates", [])),
        groups=groups,
    )
    write_tsv(table, sm.output.table)
    log.info("table1 written: %s (%d rows, %d groups)", sm.output.table, len(table), len(groups))
