"""Snakemake adapter: the run's HTML report and the small-cell-suppressed copies of its tables."""

import json
import os

from vdrbone.panel import read_panel
from vdrbone.report import render_report, write_shareable_table
from vdrbone.settings import check_config, settings_from_config, suppress_below
from vdrbone.tables import snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    config = sm.params.config
    with open(sm.input.run, encoding="utf-8") as fh:
        run = json.load(fh)
    k = suppress_below(config)
    tables = {os.path.basename(p).removesuffix(".tsv"): p for p in sm.input.tables}
    for name in ("ld", "haplotypes", "haplotype_association"):
        if name in sm.input.keys():
            tables[name] = sm.input[name]
    panel = read_panel(sm.input.panel).select(list(settings_from_config(config).variants))
    logs = list(sm.input.logs)
    cache = {}
    if os.path.exists(sm.params.checksum_cache):
        with open(sm.params.checksum_cache, encoding="utf-8") as fh:
            cache = json.load(fh)
    html = render_report(
        run=run,
        config=config,
        tables=tables,
        suppress_below=k,
        panel=panel,
        phenotypes=sm.input.phenotypes,
        inputs={
            "Genotypes": list(sm.input.genotypes),
            "Phenotypes": [sm.input.phenotype_table],
            "Variant panel": [sm.input.panel],
        },
        logs=logs,
        populations=sm.input.populations,
        warnings=[f"config: {m}" for m in check_config(config, panel.ids)],
        checksum_cache=cache,
    )
    with open(sm.output.html, "w", encoding="utf-8") as fh:
        fh.write(html)
    log.info("report written: %s (%d bytes; small-cell threshold %d)", sm.output.html, len(html), k)
    by_name = {os.path.basename(p): p for p in sm.input.tables}
    for out in sm.output.tables:
        write_shareable_table(by_name[os.path.basename(out)], out, suppress_below=k)
    log.info("%d shareable table(s) written (small-cell threshold %d)", len(sm.output.tables), k)
