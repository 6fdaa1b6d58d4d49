# LD between the diploid panel variants, EM haplotype frequencies of the BsmI-ApaI-TaqI block
# (both cheap: one job, ld_haplotypes), and haplotype association per outcome (one job each), merged into
# one table with the global tests adjusted per outcome.


rule ld_haplotypes:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        extraction=run_path("tables", "extraction.tsv"),
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
        panel=CFG["panel"],
    output:
        ld=run_path("tables", "ld.tsv"),
        haplotypes=run_path("tables", "haplotypes.tsv"),
    log:
        run_path("logs", "ld_haplotypes.log"),
    benchmark:
        run_path("benchmarks", "ld_haplotypes.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(300, 5),
        runtime=runtime_min(5, 0.05),
    params:
        config=run_config,
    script:
        "../scripts/haplotypes.py"


rule haplotype_assoc:
    input:
        calls=run_path("work", "calls.tsv.gz"),
        extraction=run_path("tables", "extraction.tsv"),
        phenotypes=run_path("work", "analysed_phenotypes.tsv"),
        panel=CFG["panel"],
    output:
        association=run_path("work", "haplotypes", "{outcome}.tsv"),
    log:
        run_path("logs", "haplotype_assoc.{outcome}.log"),
    benchmark:
        run_path("benchmarks", "haplotype_assoc.{outcome}.tsv")
    conda:
        "../envs/vdrbone.yaml"
    resources:
        mem_mb=mem_mb(500, 10),
        runtime=runtime_min(10, 0.2),
    params:
        config=run_config,
    script:
        "../scripts/haplotypes.py"


rule merge_haplotypes:
    input:
        association=expand(
            run_path("work", "haplotypes", "{outcome}.tsv"),
            outcome=HAPLOTYPE_OUTCOMES,
            allow_missing=True,
        ),
    output:
        association=run_path("tables", "haplotype_association.tsv"),
    log:
        run_path("logs", "merge_haplotypes.log"),
    benchmark:
        run_path("benchmarks", "merge_haplotypes.tsv")
    conda:
        "../envs/vdrbone.yaml"
    params:
        config=run_config,
    script:
        "../scripts/haplotypes.py"
