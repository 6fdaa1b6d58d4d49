"""vdrbone: VDR and mtDNA candidate-gene association analysis for bone health in T2DM.

Modules by concern: ``panel`` (the variant panel), ``simulate`` (synthetic cohorts),
``vcfio`` (VCF reading and harmonisation), ``phenotypes`` (phenotype table), ``qc`` (call rates,
frequencies, exact HWE), ``contingency`` and ``regression`` (statistical tests),
``association`` (per outcome x stratum tables), ``runs`` (run ids and fingerprints),
``report`` and ``manifest`` (shareable outputs).
"""

__version__ = "0.1.0"
