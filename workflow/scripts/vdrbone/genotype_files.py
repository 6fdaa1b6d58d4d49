"""Genotype file formats: which reader reads a file, and the build of files without contig lengths.

The format of each file in ``cohort.genotypes`` comes from its extension, or from
``cohort.format`` for every file:

========  =========================================  =========================================
format    files                                      reader
========  =========================================  =========================================
``vcf``   ``.vcf``, ``.vcf.gz``, ``.vcf.bgz``        :mod:`vdrbone.vcf_reader` (pysam, cyvcf2)
``bcf``   ``.bcf``                                   :mod:`vdrbone.vcf_reader` (cyvcf2)
``bed``   ``.bed`` with ``.bim``/``.fam`` beside it  :mod:`vdrbone.plink_io` (bed-reader)
``pgen``  ``.pgen`` with ``.pvar``/``.psam``         :mod:`vdrbone.plink_io` (pgenlib)
``bgen``  ``.bgen`` with ``.bgi`` and ``.sample``    :mod:`vdrbone.bgen_io` (cbgen)
========  =========================================  =========================================

Every reader returns an object with ``path``, ``samples``, ``contigs`` (panel contig -> length
or None), ``refs`` (header text naming a build) and, for PLINK and BGEN, ``read_positions``,
which gives the same records (:class:`vdrbone.vcf_reader.Record`) as the VCF reader: harmonisation,
record filters and the ``extraction.tsv`` audit are shared.

PLINK and BGEN files name no genome build. The build is then ``cohort.build``; with ``auto`` it
is inferred from the panel (:func:`infer_build`).
"""

from __future__ import annotations

import os
import re

from vdrbone.errors import InputError
from vdrbone.panel import BUILDS, Panel

FORMATS = ("vcf", "bcf", "bed", "pgen", "bgen")
VCF_FORMATS = ("vcf", "bcf")
_EXTENSIONS = (
    (".vcf.gz", "vcf"), (".vcf.bgz", "vcf"), (".vcf", "vcf"), (".bcf", "bcf"), (".bed", "bed"),
    (".pgen", "pgen"), (".bgen", "bgen"),
)  # fmt: skip


def file_formats(paths: list[str], *, declared: str = "auto") -> list[str]:
    """The format of each file: ``declared`` (``cohort.format``) or from the extension.

    Raises InputError naming a file whose extension names no format (with ``auto``).
    """
    if declared != "auto":
        if declared not in FORMATS:
            raise InputError(f"cohort.format is {declared!r}; expected auto or one of {', '.join(FORMATS)}")
        return [declared] * len(paths)
    out = []
    for path in paths:
        fmt = next((f for ext, f in _EXTENSIONS if path.lower().endswith(ext)), None)
        if fmt is None:
            if path.lower().endswith(".gz"):
                fmt = "vcf"  # a gzipped VCF with another name: the VCF reader tells if it is not
            else:
                raise InputError(
                    f"cohort.genotypes: cannot tell the format of {path} from its extension (expected "
                    ".vcf, .vcf.gz, .bcf, .bed, .pgen or .bgen); set cohort.format"
                )
        out.append(fmt)
    return out


def open_source(path: str, fmt: str, *, sample_file: str | None = None):
    """Open a PLINK 1/2 or BGEN file set (checks companions and counts; reads no genotypes)."""
    if fmt == "bed":
        from vdrbone.plink_io import BedSource

        return BedSource.open(path)
    if fmt == "pgen":
        from vdrbone.plink_io import PgenSource

        return PgenSource.open(path)
    if fmt == "bgen":
        from vdrbone.bgen_io import BgenSource

        return BgenSource.open(path, sample_file=sample_file)
    raise InputError(f"{path}: format {fmt!r} is not read by open_source")


def companion(path: str, ext: str, *, role: str) -> str:
    """The file beside ``path`` with extension ``ext`` in place of its own (``x.bed`` -> ``x.bim``).

    Raises InputError naming both files when it does not exist.
    """
    stem, _ = os.path.splitext(path)
    other = stem + ext
    if not os.path.isfile(other):
        raise InputError(
            f"{path}: its {role} file {other} does not exist; a {os.path.splitext(path)[1]} file is read "
            f"with the {ext} file of the same name beside it"
        )
    return other


def check_exists(path: str) -> None:
    if not os.path.exists(path):
        raise InputError(f"genotype file {path} does not exist (check cohort.genotypes in the config)")
    if os.path.isdir(path):
        raise InputError(f"genotype path {path} is a directory; expected a genotype file")


_MT_NAMES = {"MT", "M", "26", "CHRM", "CHRMT", "NC_012920.1"}


def panel_contig(name: str) -> str | None:
    """The panel contig (``12`` or ``MT``) of a contig name as PLINK/BGEN files write it.

    ``chr12``, ``12`` and UK Biobank's zero-padded ``012``/``12`` are chromosome 12; ``MT``,
    ``M``, ``chrM``, ``26`` (PLINK's numeric code) are the mitochondrion. Others: None.
    """
    upper = name.strip().upper()
    if upper in _MT_NAMES:
        return "MT"
    bare = re.sub(r"^CHR", "", upper).lstrip("0")
    return "12" if bare == "12" else "MT" if bare in {"MT", "M", "26"} else None


def build_source(declared: str, build: str | None) -> str:
    """How the build was decided, for extraction.tsv and the report (None: still to infer)."""
    if declared != "auto":
        return "cohort.build"
    if build is None:
        return ""
    return "detected from the file headers (contig lengths or reference lines)"


def infer_build(panel: Panel, by_file, paths: list[str]) -> tuple[str, str]:
    """The build whose panel positions carry the panel alleles, for files that name no build.

    Every panel variant is looked up at its GRCh37 and its GRCh38 position; a build scores a
    variant when a record there has the panel alleles (exact, swapped, flipped or multi-allelic;
    :func:`vdrbone.genotype_coding.match_alleles`). mtDNA positions (rCRS) are the same in both builds and
    do not count. The build with more such variants wins; a tie (including no variant at all) is an
    InputError asking for ``cohort.build``.

    Returns (build, the sentence saying so for the report and ``extraction.tsv``).
    """
    from vdrbone.genotype_coding import match_alleles

    score = dict.fromkeys(BUILDS, 0)
    nuclear = [pv for pv in panel if not pv.is_mt]
    for pv in nuclear:
        for build in BUILDS:
            key = (pv.chrom, pv.pos(build))
            records = [r for _, recs in by_file for r in recs.get(key, [])]
            if any(match_alleles(r.ref, r.alts, pv.ref, pv.alt).ok for r in records):
                score[build] += 1
    (best, n_best), (other, n_other) = sorted(score.items(), key=lambda kv: -kv[1])
    if n_best == n_other:
        raise InputError(
            f"cannot tell the genome build of {', '.join(paths)}: the files name none, and "
            f"{n_best} of the {len(nuclear)} chr12 panel variants carry the panel alleles at their "
            f"GRCh37 positions and {n_other} at their GRCh38 positions; set cohort.build to GRCh37 or GRCh38"
        )
    return best, (
        f"inferred from the panel alleles (cohort.build: auto): {n_best} of {len(nuclear)} chr12 panel "
        f"variants carry them at their {best} positions, {n_other} at their {other} positions"
    )


def genotype_samples(
    paths: list[str], *, file_format: str = "auto", sample_file: str | None = None
) -> list[str]:
    """Sample ids of the genotype files (order of the first file); all must carry the same set.

    VCF/BCF: the ``#CHROM`` line; ``.bed``: ``.fam`` IIDs; ``.pgen``: ``.psam`` IIDs; ``.bgen``:
    the ``.sample`` file (or the ids inside). Raises InputError as :func:`vdrbone.vcf_reader.vcf_samples`.
    """
    from vdrbone import vcf_reader

    paths = [str(p) for p in paths]
    if not paths:
        raise InputError("cohort.genotypes lists no genotype files")
    headers = [
        vcf_reader.read_header(path)
        if fmt in VCF_FORMATS
        else open_source(path, fmt, sample_file=sample_file)
        for path, fmt in zip(paths, file_formats(paths, declared=file_format), strict=True)
    ]
    return vcf_reader.samples_of(headers)


def companion_files(path: str, *, file_format: str = "auto", sample_file: str | None = None) -> list[str]:
    """The files read with ``path`` that exist: VCF/BCF index, ``.bim``/``.fam``, ``.pvar``/``.psam``,
    ``.bgi``/``.sample`` (for Snakemake inputs and run fingerprints; missing ones are reported by
    the readers, naming the file)."""
    try:
        fmt = file_formats([path], declared=file_format)[0]
    except InputError:
        return []  # the extract step names the file
    stem = os.path.splitext(path)[0]
    candidates = {
        "vcf": [path + ".tbi", path + ".csi"],
        "bcf": [path + ".csi"],
        "bed": [stem + ".bim", stem + ".fam"],
        "pgen": [stem + ".pvar", stem + ".psam"],
        "bgen": [path + ".bgi", sample_file or stem + ".sample"],
    }[fmt]
    return [p for p in candidates if os.path.exists(p)]
