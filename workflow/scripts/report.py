"""Snakemake adapter: the run's report (HTML and PDF) and the small-cell-suppressed copies of its tables."""

import json
import os

from vdrbone.disclosure import write_shareable_table
from vdrbone.panel import read_panel
from vdrbone.report import drawn_figures, pdf_writer_ready, pdf_written_aside, render_html, report_context
from vdrbone.settings import check_config, settings_from_config, suppress_below
from vdrbone.tables import snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    config = sm.params.config
    with open(sm.input.run, encoding="utf-8") as fh:
        run = json.load(fh)
    k = suppress_below(config)
    tables = {os.path.basename(p).removesuffix(".tsv"): p for p in sm.input.tables}
    panel = read_panel(sm.input.panel).select(list(settings_from_config(config).variants))
    cache = {}
    if os.path.exists(sm.params.checksum_cache):
        with open(sm.params.checksum_cache, encoding="utf-8") as fh:
            cache = json.load(fh)
    # figures drawn by sm.threads processes while the context is built (PNG copies first); the PDF
    # is written by a forked process once the PNGs are in (WeasyPrint set up meanwhile), while
    # this one finishes the HTML page and tables
    with drawn_figures(workers=sm.threads):
        context = report_context(
            run=run,
            config=config,
            tables=tables,
            suppress_below=k,
            panel=panel,
            inputs={
                "Genotypes": list(sm.input.genotypes),
                "Phenotypes": [sm.input.phenotype_table],
                "Variant panel": [sm.input.panel],
            },
            logs=list(sm.input.logs),
            populations=sm.input.populations,
            warnings=[f"config: {m}" for m in check_config(config, panel.ids)],
            checksum_cache=cache,
            tscore_reference=sm.input.tscore_reference,
        )
        pdf_writer_ready()
        with pdf_written_aside(render_html(context, medium="print"), sm.output.pdf):
            html = render_html(context)
            with open(sm.output.html, "w", encoding="utf-8") as fh:
                fh.write(html)
            by_name = {os.path.basename(p): p for p in sm.input.tables}
            for out in sm.output.tables:
                write_shareable_table(by_name[os.path.basename(out)], out, suppress_below=k)
    log.info("report written: %s (%d bytes; small-cell threshold %d)", sm.output.html, len(html), k)
    log.info("report written: %s (%d bytes)", sm.output.pdf, os.path.getsize(sm.output.pdf))
    log.info("%d shareable table(s) written (small-cell threshold %d)", len(sm.output.tables), k)
