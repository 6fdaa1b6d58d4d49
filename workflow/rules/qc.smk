# Sample QC (call rate; failing samples leave every analysis), then variant QC on the analysed
# samples: call rates, effect-allele frequencies, genotype counts, exact HWE per stratum, and
# differential missingness between cases and controls (PLINK --test-missing).


rule qc:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        extraction=run_path("tables", "extraction.tsv"),
        phenotypes=run_path("work", "phenotypes.tsv"),
        panel=CFG["panel"],
    output:
        variants=run_path("tables", "qc_variants.tsv"),
        samples=run_path("work", "qc_samples.tsv"),
        summary=run_path("tables", "qc_samples_summary.tsv"),
        test_missing=run_path("tables", "qc_test_missing.tsv"),
        analysed=run_path("work", "analysed_phenotypes.tsv"),
    log:
        run_path("logs", "qc.log"),
    benchmark:
        run_path("benchmarks", "qc.tsv")
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
