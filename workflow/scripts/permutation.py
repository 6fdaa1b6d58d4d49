"""Snakemake adapter: permutation p-values (max(T) EMP1/EMP2, adaptive EMP1) of every outcome."""

from vdrbone.results import PERMUTATION_COLUMNS
from vdrbone.settings import settings_from_config
from vdrbone.tables import snakemake_logging, write_header_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    perm = settings.permutation
    if perm.n or perm.adaptive:
        # pandas and the models' modules are imported only when used (a job that is off
        # starts without them)
        import pandas as pd

        from vdrbone.panel import read_panel
        from vdrbone.permutation import permutation_outcome
        from vdrbone.phenotypes import outcome_kind
        from vdrbone.tables import read_parquet, read_tsv, write_tsv

        panel = read_panel(sm.input.panel).select(settings.variants)
        calls, pheno, qc = read_parquet(sm.input.calls), read_tsv(sm.input.phenotypes), read_tsv(sm.input.qc)
        parts = []
        for k, (outcome, spec) in enumerate(settings.outcomes.items()):
            if outcome_kind(spec) == "time_to_event":
                log.info(
                    "%s: time-to-event outcome, not permuted (PLINK --assoc has no survival test)", outcome
                )
                continue
            parts.append(
                permutation_outcome(
                    calls, pheno, panel, outcome=outcome, outcome_index=k, settings=settings, qc=qc
                )
            )
            log.info(
                "%s: %d max(T) permutations%s, seed %s",
                outcome,
                perm.n,
                f", adaptive up to {perm.adaptive_max}" if perm.adaptive else "",
                perm.seed,
            )
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=PERMUTATION_COLUMNS)
        write_tsv(table, sm.output.permutation)
    else:
        log.info("permutation.n is 0 and permutation.adaptive is false: permutation.tsv has its header only")
        write_header_tsv(PERMUTATION_COLUMNS, sm.output.permutation)
