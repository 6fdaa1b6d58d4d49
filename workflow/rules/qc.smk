# Sample QC (call rate; failing samples leave every analysis), then variant QC on the analysed
# samples: call rates, effect-allele frequencies, genotype counts, exact HWE per stratum, and
# differential missingness between cases and controls (PLINK --test-missing).


rule qc:
    input:
        calls="results/runs/{run_id}/work/calls.parquet",
        extraction="results/runs/{run_id}/tables/extraction.tsv",
        phenotypes="results/runs/{run_id}/work/phenotypes.tsv",
        panel=CFG["panel"],
    output:
        variants="results/runs/{run_id}/tables/qc_variants.tsv",
        samples="results/runs/{run_id}/work/qc_samples.tsv",
        summary="results/runs/{run_id}/tables/qc_samples_summary.tsv",
        test_missing="results/runs/{run_id}/tables/qc_test_missing.tsv",
        analysed="results/runs/{run_id}/work/analysed_phenotypes.tsv",
    log:
        "results/runs/{run_id}/logs/qc.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/qc.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 8),
        runtime=runtime_min(5, 0.05),
    params:
        variants=CFG["variants"],
        strata=CFG["strata"],
        outcomes=CFG["outcomes"],
        qc=CFG["qc"],
    script:
        "../scripts/qc.py"
