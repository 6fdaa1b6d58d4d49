"""Snakemake adapter: extract and harmonise the panel's calls from the cohort's genotype files."""

from vdrbone.panel import read_panel
from vdrbone.tables import snakemake_logging, write_tsv
from vdrbone.vcfio import extract_panel

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    panel = read_panel(sm.input.panel).select(sm.params.variants)
    geno, cohort = sm.params.settings, sm.params.cohort
    extraction = extract_panel(
        list(sm.params.genotypes),
        panel,
        build=cohort["build"],
        file_format=cohort["format"],
        sample_file=cohort.get("sample_file"),
        heteroplasmy_threshold=geno["heteroplasmy_threshold"],
        gp_threshold=geno["gp_threshold"],
        mt_alt=geno["mt_alt"],
        absent_variants=geno["absent_variants"],
        require_pass=geno["require_pass"],
        min_info=geno["min_info"],
        logger=log,
    )
    log.info(
        "build %s (%s); %d samples; %d calls",
        extraction.build,
        extraction.build_source,
        len(extraction.samples),
        len(extraction.calls),
    )
    write_tsv(extraction.calls, sm.output.calls)
    write_tsv(
        extraction.variants.assign(build=extraction.build, build_source=extraction.build_source),
        sm.output.extraction,
    )
