# The self-contained HTML report (aggregate statistics only).


rule report:
    input:
        run=run_path("run.json"),
        tables=shareable_tables(),
    output:
        report(
            run_path("report", "report.html"),
            caption="../report/report.rst",
            category="Report",
        ),
    log:
        run_path("logs", "report.log"),
    conda:
        "../envs/vdrbone.yaml"
    params:
        config=CFG,
        run_id=RUN_ID,
    script:
        "../scripts/report.py"
