# Run registration, genotype extraction and harmonisation, phenotype coding and sample matching.


rule register_run:
    output:
        "results/runs/{run_id}/run.json",
    log:
        "results/runs/{run_id}/logs/register_run.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/register_run.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(100, 0),
        runtime=runtime_min(2, 0.01),
    params:
        fingerprint=run_fingerprint,
        config=run_config,
    script:
        "../scripts/register_run.py"


rule extract:
    input:
        run="results/runs/{run_id}/run.json",
        genotypes=run_genotypes,
        companions=genotype_companions,
        sample_file=bgen_sample_file,
        panel=CFG["panel"],
    output:
        calls="results/runs/{run_id}/work/calls.parquet",
        extraction="results/runs/{run_id}/tables/extraction.tsv",
    log:
        "results/runs/{run_id}/logs/extract.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/extract.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 5),
        runtime=runtime_min(5, 0.05),
    params:
        build=run_build,
        file_format=run_format,
        variants=CFG["variants"],
        genotypes=CFG["genotypes"],
    script:
        "../scripts/extract.py"


rule phenotypes:
    input:
        run="results/runs/{run_id}/run.json",
        phenotypes=phenotype_table,
        genotypes=run_genotypes,
        companions=genotype_companions,
        sample_file=bgen_sample_file,
        tscore_reference=tscore_reference_table,
    output:
        phenotypes="results/runs/{run_id}/work/phenotypes.tsv",
        matching="results/runs/{run_id}/tables/sample_matching.tsv",
        examples="results/runs/{run_id}/work/sample_matching_examples.tsv",
    log:
        "results/runs/{run_id}/logs/phenotypes.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/phenotypes.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 2),
        runtime=runtime_min(2, 0.02),
    params:
        sample_column=run_sample_column,
        phenotype_sheet=run_phenotype_sheet,
        file_format=run_format,
        coding=CFG["phenotype_coding"],
        outcomes=CFG["outcomes"],
        covariates=model_covariates(CFG),
        interactions=CFG["interactions"],
        strata=CFG["strata"],
        min_overlap=CFG["qc"]["min_sample_overlap"],
    script:
        "../scripts/phenotypes.py"
