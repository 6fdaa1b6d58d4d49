# LD between the diploid panel variants and EM haplotype frequencies of the BsmI-ApaI-TaqI block
# (both cheap: one job). The haplotype association of each outcome is fitted in that outcome's
# `associate` job and merged by `merge_association` (associate.smk).


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
