# Table 1, the self-contained HTML report (and the same pages as PDF) and the shareable (small-cell-suppressed) copies of the tables,
# both aggregate statistics only; the archive packs these copies, never the tables/ originals.


# Suppressed copies of the shareable tables (shareable/tables/ in the run folder), for the archive.
SHAREABLE_COPIES = [run_path("shareable", "tables", os.path.basename(p)) for p in shareable_tables()]


# Table 1: aggregates of the coded phenotypes by T2DM status and sex (the report reads only this).
rule table1:
    input:
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
    output:
        table=run_path("tables", "table1.tsv"),
    log:
        run_path("logs", "table1.log"),
    benchmark:
        run_path("benchmarks", "table1.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 1),
        runtime=runtime_min(2, 0.01),
    params:
        config=run_config,
    script:
        "../scripts/table1.py"


rule report:
    input:
        run=run_path("run.json"),
        tables=shareable_tables(),
        populations=os.path.join(workflow.basedir, "resources", "populations.tsv"),
    output:
        html=report(
            run_path("report", "report.html"),
            caption="../report/report.rst",
            category="Report",
        ),
        pdf=report(
            run_path("report", "report.pdf"),
            caption="../report/report.rst",
            category="Report",
        ),
        tables=[
            report(path, caption="../report/shareable_table.rst", category="Shareable tables")
            for path in SHAREABLE_COPIES
        ],
    log:
        run_path("logs", "report.log"),
    benchmark:
        run_path("benchmarks", "report.tsv")
    conda:
        "../envs/vdrbone.yaml"
    params:
        config=run_config,
        extra_logs=simulate_logs,
        inputs=cohort_input_roles,
        checksum_cache=".snakemake/vdrbone-sha256-cache.json",
    script:
        "../scripts/report.py"
