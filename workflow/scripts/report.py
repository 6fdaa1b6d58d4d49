"""Snakemake adapter: render the run's self-contained HTML report from its shareable tables."""

import json
import os

from vdrbone.configuration import suppress_below
from vdrbone.report import render_report
from vdrbone.tables import snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    with open(sm.input.run, encoding="utf-8") as fh:
        run = json.load(fh)
    tables = {os.path.basename(p).removesuffix(".tsv"): p for p in sm.input.tables}
    html = render_report(
        run=run,
        config=sm.params.config,
        tables=tables,
        suppress_below=suppress_below(sm.params.config),
    )
    with open(sm.output[0], "w", encoding="utf-8") as fh:
        fh.write(html)
    log.info("report written: %s (%d bytes)", sm.output[0], len(html))
