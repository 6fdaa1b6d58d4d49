"""Snakemake adapter: code and validate the phenotype table, match it to the VCF samples."""

from vdrbone.phenotypes import covariate_warnings, match_samples, read_phenotypes
from vdrbone.tables import snakemake_logging, write_tsv
from vdrbone.vcf_reader import vcf_samples

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    pheno = read_phenotypes(
        sm.input.phenotypes,
        sample_column=sm.params.sample_column,
        coding=sm.params.coding,
        outcomes=sm.params.outcomes,
        covariates=list(sm.params.covariates),
    )
    for warning in pheno.attrs.get("warnings", []):
        log.warning("%s", warning)
    vcf_ids = vcf_samples(list(sm.input.vcf))
    summary, matched = match_samples(
        list(pheno["sample"]),
        vcf_ids,
        min_overlap=sm.params.min_overlap,
        pheno_path=sm.input.phenotypes,
        vcf_path=", ".join(sm.input.vcf),
        sample_column=sm.params.sample_column,
    )
    pheno = pheno.set_index("sample").loc[matched].reset_index()
    log.info("%d samples in both the phenotype table and the VCF", len(pheno))
    for warning in covariate_warnings(
        pheno, list(sm.params.covariates), list(sm.params.strata), path=sm.input.phenotypes
    ):
        log.warning("%s", warning)
    write_tsv(pheno, sm.output.phenotypes)
    write_tsv(summary, sm.output.examples)  # example ids: individual-level, stays in work/
    write_tsv(summary.drop(columns=["examples"]), sm.output.matching)
