# LD between the diploid panel variants, EM haplotype frequencies of the BsmI-ApaI-TaqI block
# (both cheap: one job, ld_haplotypes), and haplotype association per outcome (one job each), merged into
# one table with the global tests adjusted per outcome.


rule ld_haplotypes:
    input:
        calls="results/runs/{run_id}/work/calls.parquet",
        extraction="results/runs/{run_id}/tables/extraction.tsv",
        phenotypes="results/runs/{run_id}/work/analysed_phenotypes.tsv",
        panel=CFG["panel"],
    output:
        ld="results/runs/{run_id}/tables/ld.tsv",
        haplotypes="results/runs/{run_id}/tables/haplotypes.tsv",
    log:
        "results/runs/{run_id}/logs/ld_haplotypes.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/ld_haplotypes.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 5),
        runtime=runtime_min(5, 0.05),
    params:
        config=run_config,
    script:
        "../scripts/haplotypes.py"


rule haplotype_assoc:
    input:
        calls="results/runs/{run_id}/work/calls.parquet",
        extraction="results/runs/{run_id}/tables/extraction.tsv",
        phenotypes="results/runs/{run_id}/work/analysed_phenotypes.tsv",
        panel=CFG["panel"],
    output:
        association="results/runs/{run_id}/work/haplotypes/{outcome}.tsv",
    log:
        "results/runs/{run_id}/logs/haplotype_assoc.{outcome}.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/haplotype_assoc.{outcome}.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(500, 10),
        runtime=runtime_min(10, 0.2),
    params:
        config=run_config,
    script:
        "../scripts/haplotypes.py"


rule merge_haplotypes:
    input:
        association=expand(
            "results/runs/{run_id}/work/haplotypes/{outcome}.tsv",
            outcome=HAPLOTYPE_OUTCOMES,
            allow_missing=True,
        ),
    output:
        association="results/runs/{run_id}/tables/haplotype_association.tsv",
    log:
        "results/runs/{run_id}/logs/merge_haplotypes.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/merge_haplotypes.tsv"
    conda:
        "../envs/vdrbone.yaml"
    params:
        config=run_config,
    script:
        "../scripts/haplotypes.py"
