# LD between the diploid panel variants, EM haplotype frequencies of the BsmI-ApaI-TaqI block
# (both cheap: one job), and haplotype association per outcome (one job each), merged into
# one table with the global tests adjusted per outcome.


rule haplotype_frequencies:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        phenotypes=run_path("work", "phenotypes.tsv"),
        panel=CFG["panel"],
    output:
        ld=run_path("tables", "ld.tsv"),
        haplotypes=run_path("tables", "haplotypes.tsv"),
    log:
        run_path("logs", "haplotype_frequencies.log"),
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        config=CFG,
    script:
        "../scripts/haplotypes.py"


rule haplotype_association:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        phenotypes=run_path("work", "phenotypes.tsv"),
        panel=CFG["panel"],
    output:
        association=run_path("work", "haplotypes", "{outcome}.tsv"),
    log:
        run_path("logs", "haplotype_association.{outcome}.log"),
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        config=CFG,
    script:
        "../scripts/haplotypes.py"


rule merge_haplotype_association:
    input:
        association=expand(run_path("work", "haplotypes", "{outcome}.tsv"), outcome=OUTCOMES),
    output:
        association=run_path("tables", "haplotype_association.tsv"),
    log:
        run_path("logs", "merge_haplotype_association.log"),
    conda:
        "../envs/vdrbone.yaml"
    params:
        config=CFG,
    script:
        "../scripts/haplotypes.py"
