"""Snakemake adapter: code and validate the phenotype table, match it to the genotype samples."""

from vdrbone.genotype_files import genotype_samples
from vdrbone.phenotypes import covariate_warnings, match_samples, read_phenotypes
from vdrbone.tables import snakemake_logging, write_tsv
from vdrbone.tscore import read_reference

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    pheno = read_phenotypes(
        sm.input.phenotypes,
        sample_column=sm.params.sample_column,
        coding=sm.params.coding,
        outcomes=sm.params.outcomes,
        covariates=list(sm.params.covariates),
        interactions=list(sm.params.interactions),
        tscore_reference=read_reference(sm.input.tscore_reference),
        sheet=sm.params.phenotype_sheet,
    )
    for warning in pheno.attrs.get("warnings", []):
        log.warning("%s", warning)
    vcf_ids = genotype_samples(
        list(sm.input.genotypes),
        file_format=sm.params.file_format,
        sample_file=sm.input.sample_file[0] if sm.input.sample_file else None,
    )
    summary, matched = match_samples(
        list(pheno["sample"]),
        vcf_ids,
        min_overlap=sm.params.min_overlap,
        pheno_path=sm.input.phenotypes,
        vcf_path=", ".join(sm.input.genotypes),
        sample_column=sm.params.sample_column,
    )
    pheno = pheno.set_index("sample").loc[matched].reset_index()
    log.info("%d samples in both the phenotype table and the genotype files", len(pheno))
    for warning in covariate_warnings(
        pheno, list(sm.params.covariates), list(sm.params.strata), path=sm.input.phenotypes
    ):
        log.warning("%s", warning)
    write_tsv(pheno, sm.output.phenotypes)
    write_tsv(summary, sm.output.examples)  # example ids: individual-level, stays in work/
    write_tsv(summary.drop(columns=["examples"]), sm.output.matching)
