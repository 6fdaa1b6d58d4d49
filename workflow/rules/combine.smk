# Across cohorts (only with several cohorts under `cohorts`): each cohort's estimates side by
# side and an inverse-variance fixed-effect meta-analysis with Cochran's Q and I2.


rule combine:
    input:
        association=expand("results/runs/{run_id}/tables/association.tsv", run_id=RUN_IDS),
    output:
        summary=f"results/combined/{COMBINED_ID}/summary.tsv",
        meta=f"results/combined/{COMBINED_ID}/meta_analysis.tsv",
    log:
        f"results/combined/{COMBINED_ID}/combine.log",
    benchmark:
        f"results/combined/{COMBINED_ID}/combine.benchmark.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 1),
        runtime=runtime_min(2, 0.01),
    params:
        cohorts=[RUNS[run_id]["cohort"]["name"] for run_id in RUN_IDS],
        suppress_below=max(suppress_below(cfg) for cfg in COHORTS),
    script:
        "../scripts/combine.py"
