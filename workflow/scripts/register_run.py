"""Snakemake adapter: record the run's id, fingerprint, start time and resolved config."""

import datetime
import json

from vdrbone.tables import snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    record = {
        "run_id": snakemake.wildcards.run_id,  # noqa: F821
        "fingerprint": snakemake.params.fingerprint,  # noqa: F821
        "started_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": snakemake.params.config,  # noqa: F821
    }
    with open(snakemake.output[0], "w", encoding="utf-8") as fh:  # noqa: F821
        json.dump(record, fh, indent=2, default=str)
    log.info("registered run %s", record["run_id"])
