"""Snakemake adapter: one association table (and descriptive tables) across outcomes."""

import pandas as pd

from vdrbone.tables import read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    for key in ("association", "genotype_counts", "bmd_by_genotype"):
        frames = [read_tsv(path) for path in sm.input[key]]
        merged = (
            pd.concat([f for f in frames if len(f.columns)], ignore_index=True) if frames else pd.DataFrame()
        )
        write_tsv(merged, sm.output[key])
        log.info("%s: %d rows", key, len(merged))
