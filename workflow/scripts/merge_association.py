"""Snakemake adapter: one association table across outcomes (families adjusted over all of them),
the descriptive tables, the participant flow, and one haplotype association table (global tests
adjusted per outcome)."""

import pandas as pd

from vdrbone.families import adjust_global, merge_outcomes, primary_spec
from vdrbone.flow import FLOW_COLUMNS, flow_head, flow_paths
from vdrbone.panel import read_panel
from vdrbone.settings import settings_from_config
from vdrbone.tables import concat_tsv, read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    panel = read_panel(sm.input.panel).select(settings.variants)
    counts = {"n": "Int64", "n_cases": "Int64", "n_controls": "Int64", "variant": str}
    parts = [read_tsv(p, dtype=counts) for p in sm.input.association]
    spec = primary_spec(settings, diploid=[v.id for v in panel if v.ploidy == 2])
    table = merge_outcomes(parts, spec=spec)
    write_tsv(table, sm.output.association)
    log.info("association: %d rows; families: %s", len(table), table["family"].value_counts().to_dict())
    for key in ("genotype_counts", "bmd_by_genotype", "covariate_design", "kaplan_meier", "power"):
        n = concat_tsv(list(sm.input[key]), sm.output[key])
        log.info("%s: %d rows", key, n)
    head = flow_head(read_tsv(sm.input.matching), read_tsv(sm.input.samples))
    text = {c: str for c in ("outcome", "stratum", "variant", "kind", "reason")}
    flow = pd.concat([head, *(read_tsv(p, dtype=text) for p in sm.input.flow)], ignore_index=True)
    flow = flow.fillna({c: "" for c in text})[FLOW_COLUMNS]
    flow_paths(flow)  # every path adds up, or the job fails naming it
    write_tsv(flow, sm.output.flow)
    log.info("participant flow: %d rows", len(flow))
    # a time-to-event outcome's haplotype table has no rows (no Cox haplotype model): left out
    haplotype_parts = [read_tsv(p) for p in sm.input.haplotypes]
    if settings.haplotypes.enabled:
        fitted = [part for part in haplotype_parts if len(part)] or haplotype_parts[:1]
        haplotypes = adjust_global(pd.concat(fitted, ignore_index=True))
    else:
        haplotypes = haplotype_parts[0]
    write_tsv(haplotypes, sm.output.haplotype_association)
    log.info("haplotype association: %d rows", len(haplotypes))
