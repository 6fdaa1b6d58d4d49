# The self-contained HTML report and the shareable (small-cell-suppressed) copies of the tables,
# both aggregate statistics only; the archive packs these copies, never the tables/ originals.


# Suppressed copies of the shareable tables (shareable/tables/ in the run folder), for the archive.
SHAREABLE_COPIES = [run_path("shareable", "tables", os.path.basename(p)) for p in shareable_tables()]


rule report:
    input:
        run=run_path("run.json"),
        tables=shareable_tables(),
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
        populations=os.path.join(workflow.basedir, "resources", "populations.tsv"),
    output:
        html=report(
            run_path("report", "report.html"),
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
