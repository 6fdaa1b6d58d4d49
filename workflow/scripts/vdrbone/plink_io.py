"""PLINK 1 (``.bed/.bim/.fam``) and PLINK 2 (``.pgen/.pvar/.psam``) genotype files.

Only the panel variants are read: their rows are found in the ``.bim``/``.pvar`` by contig and
position, and just those variants of the genotype matrix are decoded (bed-reader for ``.bed``,
PLINK 2's own ``pgenlib`` for ``.pgen``). Each becomes the record the VCF reader gives
(:class:`vdrbone.vcf_reader.Record`): REF/ALT as in the file (``.bim``: A2 is REF, A1 is ALT, the
allele that bed-reader counts), GT as allele indices, so harmonisation (swapped, flipped,
multi-allelic, mtDNA ploidy) is the VCF's. PLINK writes haploid (chrM, code 26) calls as
homozygous diploid calls; they are read as ``k/k``, which is a haploid call.

Sample ids are the IIDs (``.fam`` column 2, ``.psam`` IID column). PLINK files carry no genome
build (a ``.pvar`` may have ``##contig`` lines with lengths, which are used).

Checks, each naming the file: the ``.bim``/``.fam`` (``.pvar``/``.psam``) beside the file, the
``.bed`` magic bytes and size (3 + ceil(samples / 4) x variants bytes), and the ``.pgen``
header's sample and variant counts against the ``.psam`` and ``.pvar``.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from vdrbone.errors import InputError
from vdrbone.genotype_files import check_exists, companion, panel_contig
from vdrbone.record_quality import imputation_quality

_BED_MAGIC = b"\x6c\x1b\x01"
_MISSING_ALLELES = {"0", ".", ""}


def _order(file_samples: list[str], samples: list[str]):
    if file_samples == samples:
        return None
    where = {s: i for i, s in enumerate(file_samples)}
    return np.array([where[s] for s in samples])


def _select(chroms: pd.Series, positions: np.ndarray, targets) -> tuple[np.ndarray, list[str]]:
    """Rows whose (panel contig, position) is a target, and their panel contigs."""
    mapping = {c: panel_contig(str(c)) for c in pd.unique(chroms)}
    contig = chroms.map(mapping)
    wanted = {pos for _, pos in targets}
    rows = np.flatnonzero(contig.notna().to_numpy() & np.isin(positions, list(wanted)))
    rows = [i for i in rows if (contig.iat[i], int(positions[i])) in targets]
    return np.asarray(rows, dtype=np.int64), [contig.iat[i] for i in rows]


def _read_table(path: str, *, names: list[str], what: str, comment_rows: int = 0) -> pd.DataFrame:
    try:
        table = pd.read_csv(
            path, sep=r"\s+", header=None, names=names, dtype=str, skiprows=comment_rows,
            engine="c", keep_default_na=False,
        )  # fmt: skip
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the {what} file is empty") from None
    except Exception as err:  # noqa: BLE001 - pandas parser errors name the line
        raise InputError(f"{path}: cannot read the {what} file ({err})") from None
    if table.isna().any().any():
        row = int(np.flatnonzero(table.isna().any(axis=1).to_numpy())[0])
        raise InputError(f"{path}: row {row + 1 + comment_rows} has fewer than {len(names)} columns ({what})")
    return table


def _fam_samples(path: str) -> list[str]:
    fam = _read_table(path, names=["fid", "iid", "father", "mother", "sex", "pheno"], what=".fam")
    return fam["iid"].tolist()


def _gt_from_counts(counts: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """(n, 2) allele indices from ALT counts 0/1/2 (0/0, 0/1, 1/1; -1 missing)."""
    gt = np.column_stack([(counts >= 2), (counts >= 1)]).astype(np.int16)
    gt[missing] = -1
    return gt


class BedSource:
    """A PLINK 1 binary file set (see the module docstring)."""

    def __init__(self, path, bim, fam, variants, samples):
        self.path, self.bim, self.fam = path, bim, fam
        self.variants, self.samples = variants, samples
        self.contigs = {c: None for c in {panel_contig(x) for x in pd.unique(variants["chrom"])} if c}
        self.refs: list[str] = []

    @classmethod
    def open(cls, path: str) -> BedSource:
        check_exists(path)
        bim = companion(path, ".bim", role="variant (.bim)")
        fam = companion(path, ".fam", role="sample (.fam)")
        variants = _read_table(bim, names=["chrom", "id", "cm", "pos", "a1", "a2"], what=".bim")
        samples = _fam_samples(fam)
        try:
            positions = variants["pos"].astype(np.int64).to_numpy()
        except ValueError:
            raise InputError(
                f"{bim}: column 4 (base-pair position) holds a value that is not an integer"
            ) from None
        variants = variants.assign(pos=positions)
        with open(path, "rb") as fh:
            magic = fh.read(3)
        if magic != _BED_MAGIC:
            raise InputError(
                f"{path} is not a variant-major PLINK 1 .bed file (its first bytes are {magic.hex()}, "
                f"expected 6c1b01)"
            )
        expected = 3 + -(-len(samples) // 4) * len(variants)
        size = os.path.getsize(path)
        if size != expected:
            raise InputError(
                f"{path} has {size} bytes, but {len(variants)} variants ({bim}) x {len(samples)} samples "
                f"({fam}) need {expected}: the .bed does not belong to this .bim/.fam, or it is cut short"
            )
        return cls(path, bim, fam, variants, samples)

    def read_positions(self, targets, samples, logger) -> dict:
        from bed_reader import open_bed

        from vdrbone.vcf_reader import Record

        rows, contigs = _select(self.variants["chrom"], self.variants["pos"].to_numpy(), targets)
        found: dict = {}
        if not len(rows):
            return found
        with open_bed(self.path, iid_count=len(self.samples), sid_count=len(self.variants)) as bed:
            values = bed.read(index=np.s_[:, rows], dtype="int8", order="F")  # counts of A1
        order = _order(self.samples, samples)
        for j, (row, contig) in enumerate(zip(rows, contigs, strict=True)):
            v = self.variants.iloc[row]
            counts = values[:, j] if order is None else values[order, j]
            a1 = v["a1"]
            gt = _gt_from_counts(counts, counts < 0)
            record = Record(
                file=self.path, chrom=v["chrom"], pos=int(v["pos"]), id=v["id"], ref=v["a2"],
                alts=[] if a1 in _MISSING_ALLELES else [a1], gt=gt, af=None, gp=None, ds=None,
            )  # fmt: skip
            found.setdefault((contig, int(v["pos"])), []).append(record)
        return found


def _pvar_table(path: str) -> tuple[pd.DataFrame, dict[str, int | None], list[str]]:
    """The ``.pvar`` (or headerless, ``.bim``-like) variant table, contig lengths, reference lines."""
    skip, contigs, refs, header = 0, {}, [], None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("##"):
                skip += 1
                if line.startswith("##contig=<"):
                    m_id = re.search(r"[<,]ID=([^,>]+)", line)
                    m_len = re.search(r"[<,]length=(\d+)", line)
                    if m_id and panel_contig(m_id.group(1)):
                        contigs[panel_contig(m_id.group(1))] = int(m_len.group(1)) if m_len else None
                elif line.startswith(("##reference=", "##assembly=")):
                    refs.append(line.split("=", 1)[1].strip())
                continue
            if line.startswith("#CHROM"):
                header = line[1:].split()
                skip += 1
            break
    if header is None:  # no header line: the .bim column order
        table = _read_table(
            path, names=["CHROM", "ID", "CM", "POS", "ALT", "REF"], what=".pvar", comment_rows=skip
        )
    else:
        table = _read_table(path, names=header, what=".pvar", comment_rows=skip)
        missing = [c for c in ("CHROM", "POS", "ID", "REF", "ALT") if c not in table]
        if missing:
            raise InputError(f"{path}: the #CHROM header line lacks the column(s) {', '.join(missing)}")
    try:
        table["POS"] = table["POS"].astype(np.int64)
    except ValueError:
        raise InputError(f"{path}: column POS holds a value that is not an integer") from None
    return table, contigs, refs


def _psam_samples(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    if first.startswith(("#FID", "#IID", "FID", "IID")):
        header = first.lstrip("#").split()
        table = _read_table(path, names=header, what=".psam", comment_rows=1)
        return table["IID"].tolist()
    return _fam_samples(path)


class PgenSource:
    """A PLINK 2 file set (see the module docstring)."""

    def __init__(self, path, pvar, psam, variants, samples, contigs, refs, offsets):
        self.path, self.pvar, self.psam = path, pvar, psam
        self.variants, self.samples, self.refs = variants, samples, refs
        present = {c for c in (panel_contig(x) for x in pd.unique(variants["CHROM"])) if c}
        self.contigs = {c: contigs.get(c) for c in present | set(contigs)}
        self.allele_offsets = offsets

    @classmethod
    def open(cls, path: str) -> PgenSource:
        import pgenlib

        check_exists(path)
        pvar = companion(path, ".pvar", role="variant (.pvar)")
        psam = companion(path, ".psam", role="sample (.psam)")
        variants, contigs, refs = _pvar_table(pvar)
        samples = _psam_samples(psam)
        n_alts = variants["ALT"].str.count(",").to_numpy() + 1
        offsets = None
        if (n_alts > 1).any():
            offsets = np.zeros(len(variants) + 1, dtype=np.uintp)
            offsets[1:] = np.cumsum(n_alts + 1)
        try:
            reader = pgenlib.PgenReader(path.encode())
            n_variants, n_samples = reader.get_variant_ct(), reader.get_raw_sample_ct()
            reader.close()
        except RuntimeError as err:
            raise InputError(f"{path} is not a readable PLINK 2 .pgen file: {err}") from None
        if n_variants != len(variants):
            raise InputError(
                f"{path} holds {n_variants} variants but its {pvar} lists {len(variants)}: the .pgen does "
                f"not belong to this .pvar (or one of them is cut short)"
            )
        if n_samples != len(samples):
            raise InputError(
                f"{path} holds {n_samples} samples but its {psam} lists {len(samples)}: the .pgen does "
                f"not belong to this .psam"
            )
        return cls(path, pvar, psam, variants, samples, contigs, refs, offsets)

    def read_positions(self, targets, samples, logger) -> dict:
        import pgenlib

        from vdrbone.vcf_reader import Record

        rows, contigs = _select(self.variants["CHROM"], self.variants["POS"].to_numpy(), targets)
        found: dict = {}
        if not len(rows):
            return found
        n = len(self.samples)
        reader = pgenlib.PgenReader(
            self.path.encode(), raw_sample_ct=n, allele_idx_offsets=self.allele_offsets
        )
        alleles = np.empty((len(rows), 2 * n), dtype=np.int32)
        reader.read_alleles_list(np.asarray(rows, dtype=np.uint32), alleles)
        order = _order(self.samples, samples)
        has_filter, has_info = "FILTER" in self.variants, "INFO" in self.variants
        dosage = np.empty(n, dtype=np.float64)
        for j, (row, contig) in enumerate(zip(rows, contigs, strict=True)):
            v = self.variants.iloc[row]
            gt = alleles[j].reshape(n, 2).astype(np.int16)
            gt[gt < 0] = -1
            alts = [] if v["ALT"] in _MISSING_ALLELES else v["ALT"].split(",")
            ds = None
            if len(alts) == 1:  # dosages (imputed data imported with plink2): kept when not hard calls
                reader.read_dosages(int(row), dosage)
                hard = np.where((gt < 0).any(axis=1), -9.0, gt.sum(axis=1))
                if not np.array_equal(dosage, hard):
                    ds = np.where(dosage < 0, np.nan, dosage)[:, None]
            if order is not None:
                gt = gt[order]
                ds = ds[order] if ds is not None else None
            info_text = v["INFO"] if has_info else ""
            fields = dict(kv.split("=", 1) for kv in info_text.split(";") if "=" in kv)
            info, info_key = imputation_quality(fields.get)
            record = Record(
                file=self.path, chrom=v["CHROM"], pos=int(v["POS"]), id=v["ID"], ref=v["REF"], alts=alts,
                gt=gt, af=None, gp=None, ds=ds, filter=v["FILTER"] if has_filter else ".", info=info,
                info_key=info_key,
            )  # fmt: skip
            found.setdefault((contig, int(v["POS"])), []).append(record)
        reader.close()
        return found
