"""The variant panel (``resources/vdr_snps.tsv``): reading, validation and allele labels.

The panel is the single source of truth for which allele is the effect allele, which
forward-strand allele carries which RFLP letter, and where each variant sits in GRCh37 and
GRCh38. Every other module takes a :class:`Panel` (or one of its rows, a :class:`PanelVariant`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from vdrbone.errors import InputError

PANEL_COLUMNS = [
    "id",
    "name",
    "gene",
    "chrom",
    "pos_grch37",
    "pos_grch38",
    "ref",
    "alt",
    "effect_allele",
    "rflp_enzyme",
    "ref_label",
    "alt_label",
    "ploidy",
    "panel",
    "verified",
    "note",
]
# Optional columns (empty or '.' when unknown): coding-strand HGVS name (c. for VDR, m. for mtDNA),
# protein change, and the allele (letter) the literature usually counts.
OPTIONAL_COLUMNS = ["hgvs_c", "hgvs_p", "literature_allele"]
BUILDS = ("GRCh37", "GRCh38")
NUCLEOTIDES = set("ACGT")
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


@dataclass(frozen=True)
class PanelVariant:
    """One panel row, with the allele bookkeeping the rest of the package needs.

    ``ref``/``alt`` are forward-strand (VCF) alleles in the reference genome. The effect
    allele is one of them; ``other_allele`` is the other. ``ref_label``/``alt_label`` are the
    literature letters (RFLP: capital = restriction site absent), or ``None`` when the
    literature has none, in which case nucleotides are used.
    """

    id: str
    name: str
    gene: str
    chrom: str
    pos_grch37: int
    pos_grch38: int
    ref: str
    alt: str
    effect_allele: str
    rflp_enzyme: str | None
    ref_label: str | None
    alt_label: str | None
    ploidy: int
    panel: str
    verified: bool
    note: str
    hgvs_c: str | None = None
    hgvs_p: str | None = None
    literature_allele: str | None = None

    @property
    def literature_relation(self) -> str:
        """``same`` when the effect allele is the allele the literature usually counts,
        ``opposite`` when it is the other one (estimates are then inverted relative to most
        papers), ``""`` when the panel names no literature allele."""
        if not self.literature_allele:
            return ""
        return "same" if self.label(self.effect_allele) == self.literature_allele else "opposite"

    @property
    def other_allele(self) -> str:
        return self.alt if self.effect_allele == self.ref else self.ref

    @property
    def is_mt(self) -> bool:
        return self.ploidy == 1

    def pos(self, build: str) -> int:
        """1-based position in ``build`` (GRCh37 or GRCh38)."""
        if build == "GRCh37":
            return self.pos_grch37
        if build == "GRCh38":
            return self.pos_grch38
        raise ValueError(f"unknown build {build!r}; expected one of {BUILDS}")

    def label(self, allele: str) -> str:
        """Literature letter of a forward allele (nucleotide when the panel has no letter)."""
        if allele == self.ref and self.ref_label:
            return self.ref_label
        if allele == self.alt and self.alt_label:
            return self.alt_label
        return allele

    def genotype_names(self, effect_count: int) -> tuple[str, str]:
        """Nucleotide and literature names of the genotype with ``effect_count`` effect alleles.

        Diploid: 0 -> other/other, 1 -> het, 2 -> effect/effect; nucleotides in panel order
        ``ref/alt`` (``"A/G"``), letters capital first (``"Tt"``). Haploid: 0 -> other allele,
        1 -> effect allele.
        """
        e, o = self.effect_allele, self.other_allele
        if self.ploidy == 1:
            if effect_count not in (0, 1):
                raise ValueError(f"{self.id}: haploid effect count must be 0 or 1, got {effect_count}")
            allele = e if effect_count == 1 else o
            return allele, self.label(allele)
        if effect_count not in (0, 1, 2):
            raise ValueError(f"{self.id}: diploid effect count must be 0, 1 or 2, got {effect_count}")
        alleles = [o] * (2 - effect_count) + [e] * effect_count
        nuc = "/".join(sorted(alleles, key=lambda a: (a != self.ref, a)))
        labels = sorted((self.label(a) for a in alleles), key=lambda s: (not s.isupper(), s))
        return nuc, "".join(labels) if self.ref_label or self.alt_label else nuc

    def reference_genotype(self) -> str:
        """Reference genotype of the genetic models (0 effect alleles), as ``"C/C (bb)"``."""
        nuc, lab = self.genotype_names(0)
        return nuc if lab == nuc else f"{nuc} ({lab})"


@dataclass(frozen=True)
class Panel:
    """The validated panel, in file order."""

    variants: tuple[PanelVariant, ...]
    path: str = ""

    def __iter__(self):
        return iter(self.variants)

    def __len__(self) -> int:
        return len(self.variants)

    @property
    def ids(self) -> list[str]:
        return [v.id for v in self.variants]

    def __getitem__(self, variant_id: str) -> PanelVariant:
        for v in self.variants:
            if v.id == variant_id:
                return v
        raise KeyError(variant_id)

    def select(self, ids: list[str]) -> Panel:
        """The sub-panel of ``ids`` (in the order given); unknown ids raise InputError."""
        unknown = [i for i in ids if i not in self.ids]
        if unknown:
            raise InputError(
                f"variants: {', '.join(unknown)} not in the panel {self.path or ''}; "
                f"known ids: {', '.join(self.ids)}"
            )
        return Panel(tuple(self[i] for i in ids), self.path)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([v.__dict__ for v in self.variants])


def _none_if_dot(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", ".") else value


def read_panel(path: str | Path) -> Panel:
    """Read and validate a panel TSV; raise :class:`InputError` naming the line and column."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"panel file {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        header = reader.fieldnames or []
        missing = [c for c in PANEL_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{path}: header lacks column(s) {', '.join(missing)}; expected {PANEL_COLUMNS}")
        rows = list(reader)
    variants = []
    seen: set[str] = set()
    for lineno, row in enumerate(rows, start=2):
        where = f"{path} line {lineno}"

        def bad(column: str, expected: str, row=row, where=where) -> InputError:
            return InputError(f"{where}, column {column!r}: got {row[column]!r}, expected {expected}")

        vid = row["id"].strip()
        if not vid:
            raise bad("id", "a non-empty variant id")
        if vid in seen:
            raise bad("id", "a unique id (it appears twice)")
        seen.add(vid)
        for col in ("ref", "alt"):
            if row[col].strip().upper() not in NUCLEOTIDES:
                raise bad(col, "one of A, C, G, T (forward strand, single nucleotide)")
        ref, alt = row["ref"].strip().upper(), row["alt"].strip().upper()
        if ref == alt:
            raise bad("alt", f"an allele different from ref {ref}")
        effect = row["effect_allele"].strip().upper() or alt
        if effect not in (ref, alt):
            raise bad("effect_allele", f"the ref ({ref}) or alt ({alt}) allele")
        positions = {}
        for col in ("pos_grch37", "pos_grch38"):
            try:
                positions[col] = int(row[col])
            except ValueError:
                raise bad(col, "a positive integer (1-based position)") from None
            if positions[col] < 1:
                raise bad(col, "a positive integer (1-based position)")
        try:
            ploidy = int(row["ploidy"])
        except ValueError:
            raise bad("ploidy", "1 (mtDNA) or 2") from None
        if ploidy not in (1, 2):
            raise bad("ploidy", "1 (mtDNA) or 2")
        chrom = row["chrom"].strip()
        if ploidy == 1 and chrom != "MT":
            raise bad("chrom", "MT for a haploid (ploidy 1) variant")
        if row["panel"].strip() not in ("core", "optional"):
            raise bad("panel", "core or optional")
        if row["verified"].strip() not in ("yes", "no"):
            raise bad("verified", "yes or no")
        ref_label, alt_label = _none_if_dot(row["ref_label"]), _none_if_dot(row["alt_label"])
        optional = {c: _none_if_dot(row.get(c) or "") for c in OPTIONAL_COLUMNS}
        lit = optional["literature_allele"]
        names = {ref_label or ref, alt_label or alt}
        if lit is not None and lit not in names:
            raise bad("literature_allele", f"one of the allele names {sorted(names)} or '.'")
        if (ref_label is None) != (alt_label is None):
            raise bad("alt_label", "a label for both alleles or '.' for both")
        if ref_label is not None and ref_label == alt_label:
            raise bad("alt_label", f"a label different from ref_label {ref_label}")
        variants.append(
            PanelVariant(
                id=vid,
                name=row["name"].strip() or vid,
                gene=row["gene"].strip(),
                chrom=chrom,
                pos_grch37=positions["pos_grch37"],
                pos_grch38=positions["pos_grch38"],
                ref=ref,
                alt=alt,
                effect_allele=effect,
                rflp_enzyme=_none_if_dot(row["rflp_enzyme"]),
                ref_label=ref_label,
                alt_label=alt_label,
                ploidy=ploidy,
                panel=row["panel"].strip(),
                verified=row["verified"].strip() == "yes",
                note=row["note"].strip(),
                **optional,
            )
        )
    if not variants:
        raise InputError(f"{path}: the panel has no rows")
    return Panel(tuple(variants), str(path))
