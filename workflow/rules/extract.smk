# Run registration, genotype extraction and harmonisation, phenotype coding and sample matching.


rule register_run:
    output:
        run_path("run.json"),
    log:
        run_path("logs", "register_run.log"),
    benchmark:
        run_path("benchmarks", "register_run.tsv")
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
        run=run_path("run.json"),
        genotypes=genotype_inputs,
        panel=CFG["panel"],
    output:
        calls=run_path("work", "calls.tsv.gz"),
        extraction=run_path("tables", "extraction.tsv"),
    log:
        run_path("logs", "extract.log"),
    benchmark:
        run_path("benchmarks", "extract.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 5),
        runtime=runtime_min(5, 0.05),
    params:
        genotypes=run_genotypes,
        cohort=run_cohort,
        variants=CFG["variants"],
        settings=CFG["genotypes"],
    script:
        "../scripts/extract.py"


rule phenotypes:
    input:
        run=run_path("run.json"),
        phenotypes=phenotype_table,
        genotypes=genotype_inputs,
        tscore_reference=tscore_reference_table,
    output:
        phenotypes=run_path("work", "phenotypes.tsv"),
        matching=run_path("tables", "sample_matching.tsv"),
        examples=run_path("work", "sample_matching_examples.tsv"),
    log:
        run_path("logs", "phenotypes.log"),
    benchmark:
        run_path("benchmarks", "phenotypes.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 2),
        runtime=runtime_min(2, 0.02),
    params:
        genotypes=run_genotypes,
        cohort=run_cohort,
        coding=CFG["phenotype_coding"],
        outcomes=CFG["outcomes"],
        covariates=model_covariates(CFG),
        interactions=CFG["interactions"],
        strata=CFG["strata"],
        min_overlap=CFG["qc"]["min_sample_overlap"],
    script:
        "../scripts/phenotypes.py"
