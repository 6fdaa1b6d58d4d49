# The self-contained HTML report and the shareable (small-cell-suppressed) copies of the tables,
# both aggregate statistics only; the archive packs these copies, never the tables/ originals.


rule report:
    input:
        run="results/runs/{run_id}/run.json",
        tables=SHAREABLE_TABLES,
        phenotypes="results/runs/{run_id}/work/phenotypes.tsv",
        panel=CFG["panel"],
        populations=os.path.join(workflow.basedir, "resources", "populations.tsv"),
        logs=run_logs,
        genotypes=run_genotypes,
        phenotype_table=phenotype_table,
    output:
        html=report(
            "results/runs/{run_id}/report/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
        tables=[
            report(path, caption="../report/shareable_table.rst", category="Shareable tables")
            for path in SHAREABLE_COPIES
        ],
    log:
        "results/runs/{run_id}/logs/report.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/report.tsv"
    conda:
        "../envs/vdrbone.yaml"
    params:
        config=run_config,
        checksum_cache=".snakemake/vdrbone-sha256-cache.json",
    script:
        "../scripts/report.py"
