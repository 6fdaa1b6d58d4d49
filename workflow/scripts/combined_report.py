"""Snakemake adapter: the combined report (forest plots with fixed and random-effects diamonds)."""

from vdrbone.meta_report import render_combined_report
from vdrbone.tables import read_tsv, snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    html = render_combined_report(
        read_tsv(sm.input.meta),
        read_tsv(sm.input.cohorts),
        cohort_names=list(sm.params.cohorts),
        models=list(sm.params.forest_models),
        strata=list(sm.params.forest_strata),
        tau2_method=sm.params.tau2_method,
        hartung_knapp=sm.params.hartung_knapp,
    )
    with open(sm.output.html, "w", encoding="utf-8") as fh:
        fh.write(html)
    log.info("combined report: %d bytes", len(html))
