"""Snakemake adapter: extract and harmonise the panel's calls from the cohort's genotype files."""

from vdrbone.harmonise import extract_panel
from vdrbone.panel import read_panel
from vdrbone.tables import snakemake_logging, write_parquet, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    panel = read_panel(sm.input.panel).select(sm.params.variants)
    geno = sm.params.genotypes
    extraction = extract_panel(
        list(sm.input.genotypes),
        panel,
        build=sm.params.build,
        file_format=sm.params.file_format,
        sample_file=sm.input.sample_file[0] if sm.input.sample_file else None,
        heteroplasmy_threshold=geno["heteroplasmy_threshold"],
        gp_threshold=geno["gp_threshold"],
        mt_alt=geno["mt_alt"],
        absent_variants=geno["absent_variants"],
        require_pass=geno["require_pass"],
        min_info=geno["min_info"],
        categorical=True,  # text columns stored in Parquet as their dictionaries
        logger=log,
    )
    log.info(
        "build %s (%s); %d samples; %d calls",
        extraction.build,
        extraction.build_source,
        len(extraction.samples),
        len(extraction.calls),
    )
    write_parquet(extraction.calls, sm.output.calls)
    write_tsv(
        extraction.variants.assign(build=extraction.build, build_source=extraction.build_source),
        sm.output.extraction,
    )
