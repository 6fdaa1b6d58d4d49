# Table 1, the self-contained HTML report (and the same pages as PDF) and the shareable
# (small-cell-suppressed) copies of the tables, all aggregate statistics only; the archive packs
# these copies, never the tables/ originals.


# Table 1: aggregates of the coded phenotypes by T2DM status and sex (the report reads only this).
rule table1:
    input:
        phenotypes="results/runs/{run_id}/work/analysed_phenotypes.tsv",
    output:
        table="results/runs/{run_id}/tables/table1.tsv",
    log:
        "results/runs/{run_id}/logs/table1.log",
    benchmark:
        "results/runs/{run_id}/benchmarks/table1.tsv"
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
        run="results/runs/{run_id}/run.json",
        tables=SHAREABLE_TABLES,
        panel=CFG["panel"],
        populations=os.path.join(workflow.basedir, "resources", "populations.tsv"),
        logs=run_logs,
        genotypes=run_genotypes,
        phenotype_table=phenotype_table,
        tscore_reference=tscore_reference_table,
    output:
        html=report(
            "results/runs/{run_id}/report/report.html",
            caption="../report/report.rst",
            category="Report",
        ),
        pdf=report(
            "results/runs/{run_id}/report/report.pdf",
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
    threads: 2  # the figures are drawn by this many processes
    params:
        config=run_config,
        checksum_cache=".snakemake/vdrbone-sha256-cache.json",
    script:
        "../scripts/report.py"
