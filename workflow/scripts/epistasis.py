"""Snakemake adapter: SNP x SNP interaction of every variant pair, for every outcome."""

from vdrbone.results import EPISTASIS_COLUMNS
from vdrbone.settings import settings_from_config
from vdrbone.tables import snakemake_logging, write_header_tsv

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    settings = settings_from_config(sm.params.config)
    if settings.epistasis.enabled:
        # pandas and the models' modules are imported only when used (a job that is off
        # starts without them)
        import pandas as pd

        from vdrbone.epistasis import epistasis_outcome
        from vdrbone.panel import read_panel
        from vdrbone.phenotypes import outcome_kind
        from vdrbone.tables import read_parquet, read_tsv, write_tsv

        panel = read_panel(sm.input.panel).select(settings.variants)
        calls, pheno, qc = read_parquet(sm.input.calls), read_tsv(sm.input.phenotypes), read_tsv(sm.input.qc)
        parts = []
        for outcome, spec in settings.outcomes.items():
            if outcome_kind(spec) == "time_to_event":
                log.info(
                    "%s: time-to-event outcome, no SNP x SNP interaction test (Cox not offered)", outcome
                )
                continue
            parts.append(epistasis_outcome(calls, pheno, panel, outcome=outcome, settings=settings, qc=qc))
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=EPISTASIS_COLUMNS)
        log.info(
            "%d SNP x SNP interaction rows (%d estimable)", len(table), int(table["p_value"].notna().sum())
        )
        write_tsv(table, sm.output.epistasis)
    else:
        log.info("epistasis.enabled is false: epistasis.tsv written with its header only")
        write_header_tsv(EPISTASIS_COLUMNS, sm.output.epistasis)
