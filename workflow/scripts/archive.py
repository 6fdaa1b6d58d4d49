"""Snakemake adapter: write the run manifest and the run archive (never overwriting either)."""

import json
import os
import sys

from vdrbone.provenance import append_run_index, build_manifest, write_archive, write_json_atomic
from vdrbone.tables import read_tsv, snakemake_logging

with snakemake_logging(snakemake.log[0]) as log:  # noqa: F821
    sm = snakemake  # noqa: F821
    run_dir = sm.params.run_dir
    with open(sm.input.run, encoding="utf-8") as fh:
        run = json.load(fh)
    shareable = [sm.input.report, sm.input.pdf, *sm.input.tables]
    manifest = build_manifest(
        run_id=sm.wildcards.run_id,
        config=sm.params.config,
        inputs=list(sm.input.inputs),
        outputs=shareable,
        run_dir=run_dir,
        started_utc=run["started_utc"],
        command=sys.argv,
        workflow_dir=sm.params.workflow_dir,
    )
    write_json_atomic(manifest, sm.output.manifest)
    write_archive(run_dir, [os.path.relpath(p, run_dir) for p in shareable], manifest, sm.output.archive)
    matching = read_tsv(sm.input.matching)
    n = matching.loc[matching["measure"] == "in_both", "n"]
    append_run_index(
        sm.params.index,
        {
            "run_id": sm.wildcards.run_id,
            "date_utc": manifest["finished_utc"],
            "cohort": sm.params.config["cohort"]["name"],
            "n_samples": int(n.iloc[0]) if len(n) else "NA",
            "status": "complete",
            "archive": sm.output.archive,
        },
    )
    log.info("archive %s written", sm.output.archive)
