# Association per outcome (one job each, so --cores and cluster executors run them in
# parallel), then one tidy table with multiple-testing adjustment per family (the primary family
# spans outcomes, so it is adjusted at the merge) and the participant flow.


rule associate:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
        qc=run_path("tables", "qc_variants.tsv"),
        panel=CFG["panel"],
    output:
        association=run_path("work", "association", "{outcome}.tsv"),
        genotype_counts=run_path("work", "association", "{outcome}.genotype_counts.tsv"),
        bmd_by_genotype=run_path("work", "association", "{outcome}.bmd_by_genotype.tsv"),
        covariate_design=run_path("work", "association", "{outcome}.covariate_design.tsv"),
        flow=run_path("work", "association", "{outcome}.flow.tsv"),
        kaplan_meier=run_path("work", "association", "{outcome}.kaplan_meier.tsv"),
        power=run_path("work", "association", "{outcome}.power.tsv"),
    log:
        run_path("logs", "associate.{outcome}.log"),
    benchmark:
        run_path("benchmarks", "associate.{outcome}.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(500, 10),
        runtime=runtime_min(10, 0.2),
    params:
        config=run_config,
    script:
        "../scripts/associate.py"


# SNP x SNP interaction of every variant pair (SNPassoc interactionPval, log-additive), all
# outcomes and strata in one job (a few hundred small fits).
rule epistasis:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
        qc=run_path("tables", "qc_variants.tsv"),
        panel=CFG["panel"],
    output:
        epistasis=run_path("tables", "epistasis.tsv"),
    log:
        run_path("logs", "epistasis.log"),
    benchmark:
        run_path("benchmarks", "epistasis.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(500, 10),
        runtime=runtime_min(5, 0.2),
    params:
        config=run_config,
    script:
        "../scripts/epistasis.py"


# Permutation p-values (PLINK --mperm max(T) EMP1/EMP2, adaptive --perm EMP1) of the allelic /
# QT tests of every outcome, variant and stratum; outcome labels permuted within strata cells.
rule permutation:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
        qc=run_path("tables", "qc_variants.tsv"),
        panel=CFG["panel"],
    output:
        permutation=run_path("tables", "permutation.tsv"),
    log:
        run_path("logs", "permutation.log"),
    benchmark:
        run_path("benchmarks", "permutation.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(500, 20),
        runtime=runtime_min(5, 0.1),
    params:
        config=run_config,
    script:
        "../scripts/permutation.py"


rule merge_association:
    input:
        association=expand(
            run_path("work", "association", "{outcome}.tsv"), outcome=OUTCOMES, allow_missing=True
        ),
        genotype_counts=expand(
            run_path("work", "association", "{outcome}.genotype_counts.tsv"),
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        bmd_by_genotype=expand(
            run_path("work", "association", "{outcome}.bmd_by_genotype.tsv"),
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        kaplan_meier=expand(
            run_path("work", "association", "{outcome}.kaplan_meier.tsv"),
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        power=expand(
            run_path("work", "association", "{outcome}.power.tsv"),
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        covariate_design=expand(
            run_path("work", "association", "{outcome}.covariate_design.tsv"),
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        flow=expand(
            run_path("work", "association", "{outcome}.flow.tsv"), outcome=OUTCOMES, allow_missing=True
        ),
        matching=run_path("tables", "sample_matching.tsv"),
        samples=run_path("tables", "qc_samples_summary.tsv"),
        panel=CFG["panel"],
    output:
        association=run_path("tables", "association.tsv"),
        genotype_counts=run_path("tables", "genotype_counts.tsv"),
        bmd_by_genotype=run_path("tables", "bmd_by_genotype.tsv"),
        covariate_design=run_path("tables", "covariate_design.tsv"),
        flow=run_path("tables", "participant_flow.tsv"),
        kaplan_meier=run_path("tables", "kaplan_meier.tsv"),
        power=run_path("tables", "power.tsv"),
    log:
        run_path("logs", "merge_association.log"),
    benchmark:
        run_path("benchmarks", "merge_association.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 2),
        runtime=runtime_min(2, 0.01),
    params:
        config=run_config,
    script:
        "../scripts/merge_association.py"
