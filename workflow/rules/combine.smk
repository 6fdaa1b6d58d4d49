# Across cohorts (only with several cohorts under `cohorts`): each cohort's estimates side by
# side, an inverse-variance fixed-effect meta-analysis with Cochran's Q and I2 beside a
# random-effects one (DL or REML tau2, optional Hartung-Knapp, prediction interval), the cohorts'
# weights, and a combined report with a forest plot per effect.


rule combine:
    input:
        association=expand("results/runs/{run_id}/tables/association.tsv", run_id=RUN_IDS),
    output:
        summary=f"results/combined/{COMBINED_ID}/summary.tsv",
        meta=f"results/combined/{COMBINED_ID}/meta_analysis.tsv",
        cohorts=f"results/combined/{COMBINED_ID}/meta_cohorts.tsv",
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
        tau2_method=CFG["meta"]["tau2_method"],
        hartung_knapp=CFG["meta"]["hartung_knapp"],
    script:
        "../scripts/combine.py"


rule combined_report:
    input:
        meta=f"results/combined/{COMBINED_ID}/meta_analysis.tsv",
        cohorts=f"results/combined/{COMBINED_ID}/meta_cohorts.tsv",
    output:
        html=report(
            f"results/combined/{COMBINED_ID}/report.html",
            caption="../report/meta_report.rst",
            category="Meta-analysis",
        ),
    log:
        f"results/combined/{COMBINED_ID}/combined_report.log",
    conda:
        "../envs/vdrbone.yaml"
    params:
        cohorts=[RUNS[run_id]["cohort"]["name"] for run_id in RUN_IDS],
        tau2_method=CFG["meta"]["tau2_method"],
        hartung_knapp=CFG["meta"]["hartung_knapp"],
        forest_models=CFG["meta"]["forest_models"],
        forest_strata=CFG["meta"]["forest_strata"],
    script:
        "../scripts/combined_report.py"
