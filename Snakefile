# VDR / mtDNA candidate-gene association workflow for bone health in type 2 diabetes.
# Usage: snakemake --cores 8 [--configfile my_cohort.yaml]; see README.md.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/extract.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/associate.smk"
include: "workflow/rules/haplotypes.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/archive.smk"
include: "workflow/rules/combine.smk"


localrules:
    all,
    register_run,
    merge_association,
    report,
    archive,
    combine,
    combined_report,


rule all:
    default_target: True
    input:
        final_outputs,
