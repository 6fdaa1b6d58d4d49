"""Snakemake adapter: extract and harmonise the panel's calls from the cohort VCFs."""

from vdrbone.harmonise import extract_panel
from vdrbone.panel import read_panel
from vdrbone.tables import snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    panel = read_panel(sm.input.panel).select(sm.params.variants)
    geno = sm.params.genotypes
    extraction = extract_panel(
        list(sm.input.vcf),
        panel,
        build=sm.params.build,
        heteroplasmy_threshold=geno["heteroplasmy_threshold"],
        gp_threshold=geno["gp_threshold"],
        mt_alt=geno["mt_alt"],
        absent_variants=geno["absent_variants"],
        logger=log,
    )
    log.info(
        "build %s; %d samples; %d calls", extraction.build, len(extraction.samples), len(extraction.calls)
    )
    write_tsv(extraction.calls, sm.output.calls)
    write_tsv(extraction.variants.assign(build=extraction.build), sm.output.extraction)
