"""Snakemake adapter: side-by-side summary, fixed- and random-effects meta-analysis across cohorts."""

from vdrbone.meta import meta_tables, side_by_side, suppress_combined
from vdrbone.tables import read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    tables = {
        name: read_tsv(path) for name, path in zip(sm.params.cohorts, sm.input.association, strict=True)
    }
    k = sm.params.suppress_below
    summary = suppress_combined(side_by_side(tables), k)
    meta, weights = meta_tables(
        tables, tau2_method=sm.params.tau2_method, hartung_knapp=sm.params.hartung_knapp
    )
    meta, weights = suppress_combined(meta, k), suppress_combined(weights, k)
    log.info("%d cohorts: %d summary rows, %d meta-analysis rows", len(tables), len(summary), len(meta))
    write_tsv(summary, sm.output.summary)
    write_tsv(meta, sm.output.meta)
    write_tsv(weights, sm.output.cohorts)
