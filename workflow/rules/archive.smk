# Manifest (config, checksums, versions) and the run's archive; neither is ever overwritten.


rule archive:
    input:
        run="results/runs/{run_id}/run.json",
        report="results/runs/{run_id}/report/report.html",
        pdf="results/runs/{run_id}/report/report.pdf",
        tables=SHAREABLE_COPIES,
        matching="results/runs/{run_id}/tables/sample_matching.tsv",
        inputs=cohort_inputs,
    output:
        manifest=protected("results/runs/{run_id}/manifest.json"),
        archive=protected("results/archive/{run_id}.tar.gz"),
    log:
        "results/runs/{run_id}/logs/archive.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/archive.tsv"
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 1),
        runtime=runtime_min(2, 0.01),
    params:
        run_dir=run_dir_of,
        config=run_config,
        workflow_dir=workflow.basedir,
        index="results/runs/index.tsv",
    script:
        "../scripts/archive.py"
