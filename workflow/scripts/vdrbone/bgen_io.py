"""BGEN 1.2 genotype files (layouts 1 and 2; zlib, zstd or uncompressed) with ``.bgi`` and ``.sample``.

Read with the ``bgen`` package (PyPI; C++ reader of the BGEN 1.1/1.2 specification). cbgen
(the reader under bgen-reader) was tried first and left aside: version 1.0.6 crashes
(segmentation fault) on layout-1 files and cannot open uncompressed layout-2 files.

Only the panel variants are read: their offsets come from the ``.bgi`` index (the SQLite file
that bgenix and UK Biobank provide), looked up by contig and position; without a ``.bgi`` the
variant headers are walked once (a warning says so) and only the panel variants' probabilities
are decoded. Each variant becomes the record the VCF reader gives (:class:`vdrbone.vcf_reader.Record`)
with genotype probabilities as FORMAT GP (unphased order; phased haplotype probabilities are
combined into genotype probabilities) and no GT, so calls come from ``genotypes.gp_threshold``
and dosages from the probabilities, exactly as for an imputed VCF with GP only. A sample flagged
missing (or whose probabilities are all zero) is missing. The imputation quality of a bi-allelic
variant is the IMPUTE info score of its probabilities (:func:`vdrbone.record_quality.impute_info`).

Sample ids come from the ``.sample`` file (``cohort.sample_file``, else the ``.sample`` of the same
name beside the ``.bgen``; column ``ID_2``, PLINK 2's IID, else the first column), or from the
ids inside the file when there is no ``.sample``. A ``.sample`` with another number of samples
than the ``.bgen`` is an InputError naming both files.
"""

from __future__ import annotations

import os

import numpy as np

from vdrbone.errors import InputError
from vdrbone.genotype_files import check_exists, panel_contig
from vdrbone.record_quality import impute_info

# contig spellings tried in .bgi look-ups, per panel contig (UK Biobank writes chromosome 12 as "12")
_CONTIG_NAMES = {"12": ("12", "chr12", "012", "0012"), "MT": ("MT", "chrM", "chrMT", "M", "26", "026")}


def read_sample_file(path: str) -> list[str]:
    """Sample ids of an Oxford ``.sample`` file: two header lines, then one line per sample."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.split() for line in fh if line.strip()]
    if len(lines) < 2:
        raise InputError(f"{path}: a .sample file needs a header line and a column-type line")
    header = lines[0]
    column = header.index("ID_2") if "ID_2" in header else 0
    if lines[1][0] != "0":
        raise InputError(
            f"{path}: line 2 should be the column-type line (starting with 0), found {' '.join(lines[1])!r}"
        )
    ids = []
    for i, fields in enumerate(lines[2:], start=3):
        if len(fields) <= column:
            raise InputError(f"{path}: line {i} has {len(fields)} column(s); expected {header[column]}")
        ids.append(fields[column])
    return ids


def _genotype_probabilities(probs: np.ndarray, n_alleles: int, phased: bool, ploidy: int) -> np.ndarray:
    """Unphased genotype probabilities (VCF/BGEN order) from BGEN probabilities."""
    if not phased or ploidy == 1:
        return probs
    from vdrbone.genotype_coding import diploid_genotype_order

    h1, h2 = probs[:, :n_alleles], probs[:, n_alleles : 2 * n_alleles]
    table = diploid_genotype_order(n_alleles)
    out = np.empty((len(probs), len(table)))
    for g, (j, k) in enumerate(table):
        out[:, g] = h1[:, j] * h2[:, k] + (h1[:, k] * h2[:, j] if j != k else 0)
    return out


class BgenSource:
    """A BGEN file with its index and sample file (see the module docstring)."""

    def __init__(self, path, reader, samples, index):
        self.path, self.reader, self.samples, self.index = path, reader, samples, index
        self.contigs: dict[str, int | None] = {}
        self.refs: list[str] = []

    @classmethod
    def open(cls, path: str, *, sample_file: str | None = None) -> BgenSource:
        from bgen import BgenReader

        check_exists(path)
        index = path + ".bgi"
        index = index if os.path.isfile(index) else None
        try:
            reader = BgenReader(path, delay_parsing=True)
            header = reader.header
        except Exception as err:  # noqa: BLE001 - the C++ reader raises ValueError/OSError
            raise InputError(f"{path} is not a readable BGEN file: {err}") from None
        stem = os.path.splitext(path)[0]
        if sample_file is None and os.path.isfile(stem + ".sample"):
            sample_file = stem + ".sample"
        if sample_file is not None:
            if not os.path.isfile(sample_file):
                raise InputError(f"{path}: its sample file {sample_file} (cohort.sample_file) does not exist")
            samples = read_sample_file(sample_file)
            if len(samples) != header.nsamples:
                raise InputError(
                    f"{path} holds {header.nsamples} samples but its sample file {sample_file} lists "
                    f"{len(samples)}: the .sample does not belong to this .bgen (set cohort.sample_file)"
                )
        elif header.has_sample_ids:
            samples = list(reader.samples)
        else:
            raise InputError(
                f"{path} has no sample ids inside and no {stem}.sample beside it; set cohort.sample_file"
            )
        return cls(path, reader, samples, index)

    def _variants_at(self, contig: str, pos: int, logger):
        if self.index is None:
            if not hasattr(self, "_walked"):
                logger.warning(
                    "%s has no .bgi index: walking its variant headers once; index it (bgenix -g %s -index) "
                    "to read only the panel variants",
                    self.path, self.path,
                )  # fmt: skip
                self._walked = {}
                for var in self.reader:
                    key = (panel_contig(var.chrom), var.pos)
                    self._walked.setdefault(key, []).append(var)
            return self._walked.get((contig, pos), [])
        out = []
        for name in _CONTIG_NAMES[contig]:
            try:
                out += list(self.reader.fetch(name, pos, pos))
            except ValueError:
                continue  # no such chromosome in the index
        return [v for v in out if v.pos == pos]

    def read_positions(self, targets, samples, logger) -> dict:
        from vdrbone.vcf_reader import Record

        order = None
        if self.samples != samples:
            where = {s: i for i, s in enumerate(self.samples)}
            order = np.array([where[s] for s in samples])
        found: dict = {}
        for contig, pos in sorted(targets):
            for var in self._variants_at(contig, pos, logger):
                alleles = list(var.alleles)
                probs = np.asarray(var.probabilities, dtype=float)
                ploidy = np.asarray(var.ploidy)
                common = int(np.bincount(ploidy).argmax()) if len(ploidy) else 2
                gp = _genotype_probabilities(probs, len(alleles), var.is_phased, common)
                gp = np.array(gp, dtype=float)
                unusable = (ploidy != common) | ~(np.nan_to_num(gp, nan=0.0).sum(axis=1) > 0)
                if (ploidy != common).any():
                    logger.warning(
                        "%s %s:%d: %d sample(s) of ploidy other than %d set missing",
                        self.path, var.chrom, pos, int((ploidy != common).sum()), common,
                    )  # fmt: skip
                gp[unusable] = np.nan
                gp = gp[:, : (common + 1 if len(alleles) == 2 else gp.shape[1])]
                info = impute_info(gp, ploidy=common) if len(alleles) == 2 and common in (1, 2) else np.nan
                if order is not None:
                    gp = gp[order]
                record = Record(
                    file=self.path, chrom=var.chrom, pos=int(var.pos), id=var.rsid or var.varid,
                    ref=alleles[0], alts=alleles[1:], gt=None, af=None, gp=gp, ds=None,
                    info=info, info_key="IMPUTE info" if info == info else "",
                )  # fmt: skip
                found.setdefault((contig, pos), []).append(record)
        return found
