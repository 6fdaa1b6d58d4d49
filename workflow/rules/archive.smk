# Manifest (config, checksums, versions) and the run's archive; neither is ever overwritten.


rule archive:
    input:
        run=run_path("run.json"),
        report=run_path("report", "report.html"),
        pdf=run_path("report", "report.pdf"),
        tables=SHAREABLE_COPIES,
        inputs=cohort_inputs,
    output:
        manifest=protected(run_path("manifest.json")),
        archive=protected("results/archive/{run_id}.tar.gz"),
    log:
        run_path("logs", "archive.log"),
    benchmark:
        run_path("benchmarks", "archive.tsv")
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
