# Synthetic cohort: VCFs (bgzipped + tabix index), phenotype table and truth of planted effects.
# Only defined when simulate.enabled is true; the cohort files must then lie in simulate.outdir.
if CFG.get("simulate", {}).get("enabled"):
    SIM_DIR = CFG["simulate"]["outdir"]

    rule simulate:
        output:
            chr12=f"{SIM_DIR}/chr12.vcf.gz",
            chr12_tbi=f"{SIM_DIR}/chr12.vcf.gz.tbi",
            chrM=f"{SIM_DIR}/chrM.vcf.gz",
            chrM_tbi=f"{SIM_DIR}/chrM.vcf.gz.tbi",
            phenotypes=f"{SIM_DIR}/phenotypes.tsv",
            truth=f"{SIM_DIR}/truth.tsv",
        log:
            f"{SIM_DIR}/simulate.log",
        conda:
            "../envs/vdrbone.yaml"
        resources:
            mem_mb=mem_mb(300, 5),
            runtime=runtime_min(2, 0.05),
        params:
            config=CFG,
        script:
            "../scripts/simulate.py"
