"""vdrbone: VDR and mtDNA candidate-gene association analysis for bone health in T2DM.

Modules by concern (README.md, "Code map", names each in one line): ``settings`` (the typed
settings, the only reader of the config), ``provenance`` (run ids, manifest, archive, index),
``files`` (atomic writes, checksums), ``tables`` (tidy TSV I/O), ``panel`` (the variant panel),
``simulate`` (synthetic cohorts), ``vcf_reader`` (VCF/BCF reading), ``genotype_coding``
(allele classes to counts and statuses), ``harmonise`` (matching to the panel), ``phenotypes``
(phenotype table), ``strata`` (stratum labels, names, masks, design), ``qc`` (call rates,
frequencies, exact HWE), ``contingency`` and ``regression`` (statistical tests, the one IRLS),
``association`` (per outcome x stratum tables), ``haplotypes`` (LD and haplotypes), ``meta``
(across cohorts), ``methods``, ``plots`` and ``report`` (the report).
"""

__version__ = "0.1.0"
