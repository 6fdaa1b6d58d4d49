# Synthetic cohorts: VCFs (bgzipped + tabix index), phenotype table and truth of planted effects,
# one set per cohort with simulate.enabled (written into that cohort's simulate.outdir).
if SIMS:

    rule simulate:
        input:
            panel=CFG["panel"],
            populations=os.path.join(workflow.basedir, "resources", "populations.tsv"),
        output:
            chr12="{simdir}/chr12.vcf.gz",
            chr12_tbi="{simdir}/chr12.vcf.gz.tbi",
            chrM="{simdir}/chrM.vcf.gz",
            chrM_tbi="{simdir}/chrM.vcf.gz.tbi",
            phenotypes="{simdir}/phenotypes.tsv",
            truth="{simdir}/truth.tsv",
        log:
            "{simdir}/simulate.log",
        benchmark:
            "{simdir}/simulate.benchmark.tsv"
        conda:
            "../envs/vdrbone.yaml"
        resources:
            mem_mb=mem_mb(300, 5),
            runtime=runtime_min(2, 0.05),
        params:
            config=simulate_config,
        script:
            "../scripts/simulate.py"
