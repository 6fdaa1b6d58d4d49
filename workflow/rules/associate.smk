# Association per outcome (one job each, so --cores and cluster executors run them in
# parallel): the single-variant tests and the haplotype association of that outcome in one job
# (they read the same inputs), then one tidy table with multiple-testing adjustment per family
# (the primary family spans outcomes, so it is adjusted at the merge), the haplotype table with
# its global tests adjusted per outcome, and the participant flow.


rule associate:
    input:
        calls="results/runs/{run_id}/work/calls.parquet",
        phenotypes="results/runs/{run_id}/work/analysed_phenotypes.tsv",
        qc="results/runs/{run_id}/tables/qc_variants.tsv",
        extraction="results/runs/{run_id}/tables/extraction.tsv",
        panel=CFG["panel"],
    output:
        association="results/runs/{run_id}/work/association/{outcome}.tsv",
        haplotypes="results/runs/{run_id}/work/haplotypes/{outcome}.tsv",
        genotype_counts="results/runs/{run_id}/work/association/{outcome}.genotype_counts.tsv",
        bmd_by_genotype="results/runs/{run_id}/work/association/{outcome}.bmd_by_genotype.tsv",
        covariate_design="results/runs/{run_id}/work/association/{outcome}.covariate_design.tsv",
        flow="results/runs/{run_id}/work/association/{outcome}.flow.tsv",
        kaplan_meier="results/runs/{run_id}/work/association/{outcome}.kaplan_meier.tsv",
        power="results/runs/{run_id}/work/association/{outcome}.power.tsv",
    log:
        "results/runs/{run_id}/logs/associate.{outcome}.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/associate.{outcome}.tsv"
    priority: associate_priority
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(500, 10),
        runtime=runtime_min(20, 0.4),  # single-variant and haplotype models
    params:
        config=run_config,
    script:
        "../scripts/associate.py"


# SNP x SNP interaction of every variant pair (SNPassoc interactionPval, log-additive), all
# outcomes and strata in one job (a few hundred small fits).
rule epistasis:
    input:
        calls="results/runs/{run_id}/work/calls.parquet",
        phenotypes="results/runs/{run_id}/work/analysed_phenotypes.tsv",
        qc="results/runs/{run_id}/tables/qc_variants.tsv",
        panel=CFG["panel"],
    output:
        epistasis="results/runs/{run_id}/tables/epistasis.tsv",
    log:
        "results/runs/{run_id}/logs/epistasis.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/epistasis.tsv"
    priority: epistasis_priority
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
        calls="results/runs/{run_id}/work/calls.parquet",
        phenotypes="results/runs/{run_id}/work/analysed_phenotypes.tsv",
        qc="results/runs/{run_id}/tables/qc_variants.tsv",
        panel=CFG["panel"],
    output:
        permutation="results/runs/{run_id}/tables/permutation.tsv",
    log:
        "results/runs/{run_id}/logs/permutation.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/permutation.tsv"
    priority: permutation_priority
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
            "results/runs/{run_id}/work/association/{outcome}.tsv", outcome=OUTCOMES, allow_missing=True
        ),
        genotype_counts=expand(
            "results/runs/{run_id}/work/association/{outcome}.genotype_counts.tsv",
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        bmd_by_genotype=expand(
            "results/runs/{run_id}/work/association/{outcome}.bmd_by_genotype.tsv",
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        kaplan_meier=expand(
            "results/runs/{run_id}/work/association/{outcome}.kaplan_meier.tsv",
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        power=expand(
            "results/runs/{run_id}/work/association/{outcome}.power.tsv",
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        covariate_design=expand(
            "results/runs/{run_id}/work/association/{outcome}.covariate_design.tsv",
            outcome=OUTCOMES,
            allow_missing=True,
        ),
        flow=expand(
            "results/runs/{run_id}/work/association/{outcome}.flow.tsv", outcome=OUTCOMES, allow_missing=True
        ),
        haplotypes=expand(
            "results/runs/{run_id}/work/haplotypes/{outcome}.tsv", outcome=OUTCOMES, allow_missing=True
        ),
        matching="results/runs/{run_id}/tables/sample_matching.tsv",
        samples="results/runs/{run_id}/tables/qc_samples_summary.tsv",
        panel=CFG["panel"],
    output:
        association="results/runs/{run_id}/tables/association.tsv",
        genotype_counts="results/runs/{run_id}/tables/genotype_counts.tsv",
        bmd_by_genotype="results/runs/{run_id}/tables/bmd_by_genotype.tsv",
        covariate_design="results/runs/{run_id}/tables/covariate_design.tsv",
        flow="results/runs/{run_id}/tables/participant_flow.tsv",
        kaplan_meier="results/runs/{run_id}/tables/kaplan_meier.tsv",
        power="results/runs/{run_id}/tables/power.tsv",
        haplotype_association="results/runs/{run_id}/tables/haplotype_association.tsv",
    log:
        "results/runs/{run_id}/logs/merge_association.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/merge_association.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 2),
        runtime=runtime_min(2, 0.01),
    params:
        config=run_config,
    script:
        "../scripts/merge_association.py"
