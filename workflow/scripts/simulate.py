"""Snakemake adapter: write the synthetic cohort configured in `simulate`."""

import os

from vdrbone.settings import settings_from_config
from vdrbone.simulate import write_cohort
from vdrbone.tables import snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    outdir = os.path.dirname(snakemake.output.chr12)  # noqa: F821
    paths = write_cohort(
        settings_from_config(snakemake.params.config),  # noqa: F821
        outdir,
        panel=snakemake.input.panel,  # noqa: F821
        populations=snakemake.input.populations,  # noqa: F821
    )  # noqa: F821
    for name, path in sorted(paths.items()):
        log.info("wrote %s: %s", name, path)
