"""Snakemake adapter for ld_haplotypes: pairwise LD and EM haplotype frequencies per stratum."""

from vdrbone.haplotypes import empty_tables, ld_and_frequency_tables
from vdrbone.harmonise import unavailable_variants
from vdrbone.panel import read_panel
from vdrbone.settings import settings_from_config
from vdrbone.tables import read_parquet, read_tsv, snakemake_logging, write_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    empty = empty_tables()
    ld, freqs = empty["ld"], empty["haplotypes"]
    if settings.haplotypes.enabled:
        # the genotype matrices need only these columns; sample and variant as categories
        labels = ["sample", "variant"]
        calls = read_parquet(sm.input.calls, columns=[*labels, "effect_count"], categorical=labels)
        pheno = read_tsv(sm.input.phenotypes)
        panel = read_panel(sm.input.panel).select(settings.variants)
        unavailable = unavailable_variants(read_tsv(sm.input.extraction))  # "not in the genotype files"
        ld, freqs = ld_and_frequency_tables(calls, pheno, panel, settings=settings, unavailable=unavailable)
    else:
        log.info("haplotypes.enabled is false: ld.tsv and haplotypes.tsv have their headers only")
    log.info("%d LD rows, %d haplotype frequency rows", len(ld), len(freqs))
    write_tsv(ld, sm.output.ld)
    write_tsv(freqs, sm.output.haplotypes)
