"""Reading VCF/BCF files: samples, contigs and build from the headers, and the records at the
panel positions, checked for integrity first.

:func:`vcf_samples`, :func:`detect_build` and :func:`extract_panel`. With
a ``.tbi``/``.csi`` index only the panel positions are read (region queries), so the cost does
not grow with the size of the file; without an index the file is streamed once (cyvcf2).
Bgzipped VCF text with an index is read as text lines through pysam.TabixFile (header from
the ``#CHROM`` line; panel positions in one 16 kb index window share a fetch) and the sample
columns are parsed with numpy on the line's bytes (:func:`_fast_record`: single-digit
haploid/diploid GT, FORMAT AF); a position with any record outside that (multi-digit
alleles, polyploid calls, GP/DS, ...) and BCF files are read with cyvcf2 (htslib). Both
readers give identical tables (tests/test_vcfio.py; benchmarks/extract_bench.py checks it
on 100,000 samples).

The reader is an explicit choice (``reader``): ``"auto"`` reads indexed bgzipped VCF text
through pysam.TabixFile and numpy and everything else with cyvcf2; ``"cyvcf2"`` reads every
file with cyvcf2 (htslib).

Integrity of the files (:func:`check_integrity`, before any record is read): a BGZF file (bgzipped
VCF, BCF) must end with the 28-byte BGZF end-of-file block, and bgzipped or plain VCF text must
end with a complete record (a newline, and the header's number of columns when the last line
lies in the last block); a plain-gzip stream, which is read whole, is checked while it is read.
A file cut short (an interrupted copy) is an InputError naming the file and where it ends.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np

from vdrbone.errors import InputError
from vdrbone.genotype_coding import CLASS_ABSENT, CLASS_MISSING
from vdrbone.panel import BUILDS
from vdrbone.record_quality import imputation_quality

READERS = ("auto", "cyvcf2")
CONTIG_ALIASES = {"12": ("12", "chr12"), "MT": ("MT", "chrM", "chrMT", "NC_012920.1")}
CHR12_LENGTHS = {133851895: "GRCh37", 133275309: "GRCh38"}
RCRS_LENGTH = 16569
HG19_CHRM_LENGTH = 16571
_BUILD_PATTERNS = (
    ("GRCh38", re.compile(r"GRCh38|hg38|hs38|GCA_000001405\.(1[5-9]|2\d)|b38", re.IGNORECASE)),
    ("GRCh37", re.compile(r"GRCh37|hg19|hs37|b37|human_g1k_v37|GCA_000001405\.([1-9]|1[0-4])\b", re.I)),
)

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ headers, samples, build


def check_path(path: str) -> None:
    if not os.path.exists(path):
        raise InputError(f"VCF file {path} does not exist (check cohort.genotypes in the config)")
    if os.path.isdir(path):
        raise InputError(f"VCF path {path} is a directory; expected a .vcf, .vcf.gz or .bcf file")


def _open(path: str):
    from cyvcf2 import VCF

    check_path(path)
    try:
        vcf = VCF(path)
    except Exception as err:  # noqa: BLE001 - htslib raises plain OSError / Exception
        raise InputError(
            f"{path} is not a readable VCF/BCF file (expected plain VCF, bgzipped VCF or BCF with a "
            f"'#CHROM' header line): {err}"
        ) from None
    return vcf


@dataclass
class Header:
    """One file: its samples and contigs, and the readers (opened once, cyvcf2 only on demand).

    ``tabix`` is a :class:`pysam.TabixFile` for bgzipped VCF text with a ``.tbi``/``.csi`` index
    (the fast path of :func:`read_positions`), else None; ``vcf`` is the cyvcf2 reader, opened
    on first use (opening parses every sample name into htslib's header: ~40 ms at 10^5 samples).
    """

    path: str
    samples: list[str]
    contigs: dict[str, int | None]
    header_text: str | None = None
    tabix: object | None = None
    _vcf: object | None = None
    _refs: list[str] | None = None

    @property
    def vcf(self):
        if self._vcf is None:
            self._vcf = _open(self.path)
        return self._vcf

    @property
    def refs(self) -> list[str]:
        """``##reference`` / ``##assembly`` values and contig ``assembly=`` tags."""
        if self._refs is None:
            self._refs = []
            text = self.header_text if self.header_text is not None else self.vcf.raw_header
            for line in text.split("\n#CHROM", 1)[0].splitlines():
                if line.startswith("##contig=<"):
                    m_asm = re.search(r"[<,]assembly=([^,>]+)", line)
                    if m_asm:
                        self._refs.append(m_asm.group(1))
                elif line.startswith(("##reference=", "##assembly=")):
                    self._refs.append(line.split("=", 1)[1])
        return self._refs


_CONTIG_ID = re.compile(r"[<,]ID=([^,>]+)")
_CONTIG_LENGTH = re.compile(r"[<,]length=(\d+)")


def _tabix_header(path: str, index: str) -> Header | None:
    """Header of a bgzipped VCF read through its tabix/CSI index; None when not bgzipped VCF text."""
    import gzip

    import pysam

    try:
        with gzip.open(path, "rb") as fh:
            if fh.read(16) != b"##fileformat=VCF"[:16]:
                return None  # BCF (b"BCF\2"), or VCF text without the fileformat line: cyvcf2
        tbx = pysam.TabixFile(path, index=index)
        lines = list(tbx.header)
    except Exception:  # noqa: BLE001 - not BGZF, broken index: the cyvcf2 path reports it
        return None
    if not lines or not lines[-1].startswith("#CHROM\t"):
        return None
    columns = lines[-1].rstrip("\r\n").split("\t")
    if len(columns) < 10 or columns[8] != "FORMAT":
        return None
    contigs: dict[str, int | None] = {}
    for line in lines:
        if line.startswith("##contig=<"):
            m_id, m_len = _CONTIG_ID.search(line), _CONTIG_LENGTH.search(line)
            if m_id:
                length = int(m_len.group(1)) if m_len else 0
                contigs[m_id.group(1)] = length if length > 0 else None
    return Header(path, columns[9:], contigs, header_text="\n".join(lines), tabix=tbx)


def read_header(path: str, *, reader: str = "auto") -> Header:
    """Samples and contigs of one file, with its reader: ``reader="auto"`` opens indexed bgzipped
    VCF text through pysam.TabixFile (records parsed by :func:`_fast_record`), anything else with
    cyvcf2; ``reader="cyvcf2"`` opens every file with cyvcf2."""
    if reader not in READERS:
        raise ValueError(f"reader {reader!r}: expected one of {', '.join(READERS)}")
    check_path(path)
    index = _index_of(path)
    if reader == "auto" and index:
        header = _tabix_header(path, index)
        if header is not None:
            return header
    vcf = _open(path)
    names = list(vcf.seqnames)
    try:
        lengths = list(vcf.seqlens)
    except Exception:  # noqa: BLE001 - no contig lengths in the header
        lengths = [-1] * len(names)
    contigs = {n: (int(x) if x and x > 0 else None) for n, x in zip(names, lengths, strict=False)}
    return Header(path, list(vcf.samples), contigs, _vcf=vcf)


def vcf_samples(paths: list[str], *, reader: str = "auto") -> list[str]:
    """Sample ids of the VCF files (order of the first file); all files must carry the same set.

    Raises InputError naming both files and the first ids that differ, or duplicated ids.
    """
    if not paths:
        raise InputError("cohort.genotypes lists no genotype files")
    return samples_of([read_header(str(p), reader=reader) for p in paths])


def samples_of(headers: list[Header]) -> list[str]:
    first = None
    for h in headers:
        path, samples = h.path, h.samples
        if not samples:
            raise InputError(f"{path}: the VCF has no samples (no columns after FORMAT)")
        if len(set(samples)) != len(samples):
            seen, dup = set(), []
            for s in samples:
                if s in seen:
                    dup.append(s)
                seen.add(s)
            raise InputError(f"{path}: duplicated sample ids in the #CHROM line: {', '.join(dup[:5])}")
        if first is None:
            first = (path, samples)
            continue
        a, b = set(first[1]), set(samples)
        if a != b:
            only_a, only_b = sorted(a - b), sorted(b - a)
            raise InputError(
                f"VCF files {first[0]} and {path} carry different samples "
                f"({len(a)} vs {len(b)}); only in {first[0]}: {', '.join(only_a[:5]) or '-'}"
                f"{' ...' if len(only_a) > 5 else ''}; only in {path}: {', '.join(only_b[:5]) or '-'}"
                f"{' ...' if len(only_b) > 5 else ''}"
            )
    return list(first[1])


def detect_build(paths: list[str], *, declared: str = "auto", logger=None, reader: str = "auto") -> str:
    """The genome build ('GRCh37' or 'GRCh38') of the VCF files.

    Evidence, strongest first: the ``##contig`` length of chr12 (GRCh37 133,851,895; GRCh38
    133,275,309), then ``##reference`` / ``##assembly`` lines and contig ``assembly=`` tags.
    A declared build (config ``cohort.build``) wins over header text but must agree with the
    contig lengths. A mitochondrial contig of 16,571 bp (hg19 UCSC chrM, the Yoruba sequence
    NC_001807, not rCRS) is refused. Files with only mtDNA contigs carry no build information.
    """
    headers = [read_header(str(p), reader=reader) for p in paths]
    return build_of(headers, declared=declared, logger=logger or log)


def build_of(headers: list[Header], *, declared: str, logger, required: bool = True) -> str | None:
    """The build from the headers (see :func:`detect_build`); None when they carry no build
    information, ``declared`` is auto and ``required`` is False."""
    if declared not in ("auto", *BUILDS):
        raise InputError(f"cohort.build is {declared!r}; expected auto, GRCh37 or GRCh38")
    by_length: dict[str, list[str]] = {}
    for h in headers:
        for name, length in h.contigs.items():
            if name in CONTIG_ALIASES["MT"] and length == HG19_CHRM_LENGTH:
                raise InputError(
                    f"{h.path}: contig {name} has length {HG19_CHRM_LENGTH}: this is hg19's UCSC chrM "
                    f"(the Yoruba sequence NC_001807), not the revised Cambridge Reference Sequence "
                    f"(rCRS, NC_012920.1, {RCRS_LENGTH} bp) that mtDNA positions such as m.4823 and "
                    f"m.15885 refer to; positions would be shifted. Lift the mtDNA calls over to rCRS "
                    f"or use an rCRS-based VCF (b37/hs37d5 'MT' or GRCh38 'chrM'); if this file holds "
                    f"no mtDNA calls, drop the {name} line from its header (bcftools reheader)."
                )
            if name == "chrM" and length is None and any(re.search(r"hg19|ucsc", t, re.I) for t in h.refs):
                raise InputError(
                    f"{h.path}: contig chrM has no length and the header names hg19/UCSC: hg19's "
                    f"chrM is the Yoruba sequence (NC_001807, {HG19_CHRM_LENGTH} bp), not the rCRS "
                    f"(NC_012920.1, {RCRS_LENGTH} bp) that m.4823 and m.15885 refer to. Lift the mtDNA "
                    f"calls over to rCRS, or, if they are already on rCRS, declare it in the header "
                    f"(##contig=<ID=chrM,length={RCRS_LENGTH}>, bcftools reheader)."
                )
            if name in CONTIG_ALIASES["12"] and length is not None:
                build = CHR12_LENGTHS.get(length)
                if build is None:
                    raise InputError(
                        f"{h.path}: contig {name} has length {length}, which is neither GRCh37 "
                        f"(133851895) nor GRCh38 (133275309); the VCF must be on GRCh37 or GRCh38"
                    )
                by_length.setdefault(build, []).append(h.path)
    if len(by_length) > 1:
        raise InputError(
            "VCF files are on different builds by their chr12 contig length: "
            + "; ".join(f"{b}: {', '.join(sorted(set(p)))}" for b, p in by_length.items())
        )
    from_length = next(iter(by_length), None)
    if from_length:
        if declared not in ("auto", from_length):
            raise InputError(
                f"cohort.build is {declared} but the chr12 contig length in "
                f"{', '.join(sorted(set(by_length[from_length])))} is that of {from_length}; "
                f"set cohort.build to {from_length} or auto, or use a {declared} VCF"
            )
        return from_length
    # no contig lengths: header text (##reference, ##assembly, contig assembly= tags)
    by_text: dict[str, list[str]] = {}
    for h in headers:
        for text in h.refs:
            for build, pattern in _BUILD_PATTERNS:
                if pattern.search(text):
                    by_text.setdefault(build, []).append(h.path)
                    break
    if declared != "auto":
        other = [b for b in by_text if b != declared]
        if other:
            logger.warning(
                "cohort.build is %s but header lines of %s name %s; using %s",
                declared, ", ".join(sorted(set(by_text[other[0]]))), other[0], declared,
            )  # fmt: skip
        return declared
    if len(by_text) > 1:
        raise InputError(
            "VCF header lines name different builds: "
            + "; ".join(f"{b}: {', '.join(sorted(set(p)))}" for b, p in by_text.items())
            + "; set cohort.build to GRCh37 or GRCh38"
        )
    if by_text:
        return next(iter(by_text))
    if not required:
        return None
    raise InputError(
        f"cannot tell the genome build of {', '.join(h.path for h in headers)}: no chr12 ##contig "
        f"length and no ##reference/##assembly line; set cohort.build to GRCh37 or GRCh38 in the config"
    )


# ------------------------------------------------------------------ reading records


@dataclass
class Record:
    file: str
    chrom: str
    pos: int
    id: str
    ref: str
    alts: list[str]
    gt: np.ndarray | None  # (n, 2) int16 allele indices, -1 missing, -2 absent
    af: np.ndarray | None  # (n, n_alt)
    gp: np.ndarray | None
    ds: np.ndarray | None
    extra: np.ndarray | None = None  # (n,) bool: the call has more than two allele slots
    filter: str = "."  # FILTER column (``PASS``, ``.`` or the failed filters, ``;``-separated)
    info: float = float("nan")  # imputation quality (INFO R2/DR2/INFO, or computed), NaN if none
    info_key: str = ""  # where ``info`` comes from (``R2``, ``DR2``, ``INFO``, ``IMPUTE info``)


def _format(variant, key: str, fields, order):
    if key not in fields:
        return None
    values = variant.format(key)
    if values is None:
        return None
    values = np.asarray(values, dtype=float)
    return values if order is None else values[order]


def _snapshot(variant, path: str, order) -> Record:
    gt = extra = None
    fields = set(variant.FORMAT)
    if "GT" in fields:
        arr = variant.genotype.array()[:, :-1]  # slots beyond a call's ploidy are -2 (vector end)
        if order is not None:
            arr = arr[order]
        if arr.shape[1] == 1:
            arr = np.column_stack([arr, np.full(len(arr), CLASS_ABSENT, dtype=arr.dtype)])
        gt = np.ascontiguousarray(arr[:, :2], dtype=np.int16)
        if arr.shape[1] > 2:
            extra = (arr[:, 2:] != CLASS_ABSENT).any(axis=1)
    quality = imputation_quality(variant.INFO.get)
    return Record(
        file=path,
        chrom=variant.CHROM,
        pos=variant.POS,
        id=variant.ID or ".",
        ref=variant.REF,
        alts=list(variant.ALT),
        gt=gt,
        af=_format(variant, "AF", fields, order),
        gp=_format(variant, "GP", fields, order),
        ds=_format(variant, "DS", fields, order),
        extra=extra,
        filter=";".join(variant.FILTERS) or ".",
        info=quality[0],
        info_key=quality[1],
    )


def check_index(path: str, index: str) -> str:
    """Check that ``index`` can answer region queries for ``path``; return a warning or "".

    A ``.tbi``/``.csi`` beside a gzip file that is not BGZF-compressed would make every query
    come back empty (every variant "not in the genotype files"): an InputError naming the file and the fix. An
    index older than its file may be stale (the file rewritten after indexing) or merely copied
    first (``cp`` without ``-p``): a warning, as htslib gives.
    """
    with open(path, "rb") as fh:
        head = fh.read(18)
    bgzf = head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"
    if path.endswith(".gz") and not bgzf:
        raise InputError(
            f"{path} has the index {index} but is not BGZF-compressed (plain gzip?), so the index "
            "cannot be used; recompress it with bgzip (zcat FILE | bgzip > FILE.vcf.gz) and index it "
            "again (tabix -p vcf or bcftools index)"
        )
    if os.path.getmtime(index) < os.path.getmtime(path):
        return (
            f"the index {index} is older than {path}: if the file was changed after it was indexed, "
            "region queries may miss records; index it again (tabix -f -p vcf or bcftools index -f)"
        )
    return ""


# ------------------------------------------------------------------ integrity of the files

# The empty BGZF block that bgzip, htslib and BCF writers put at the end of every file (SAM/BAM
# specification, section 4.1.2): a file without it was cut short (or written by a plain gzip).
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_RECOPY = (
    "copy it again from the source (an interrupted copy leaves a file cut short) and check its size "
    "or checksum"
)


def _is_bgzf(head: bytes) -> bool:
    return head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def check_integrity(path: str) -> None:
    """Refuse a BGZF file (bgzipped VCF, BCF) that is cut short, before its header is read.

    Cheap at any size: the file must end with the 28-byte BGZF end-of-file block
    (:data:`BGZF_EOF`). Without it the message gives the byte where the file ends, the last
    complete block and, when it can be decompressed, the last complete record (CHROM:POS).
    Records cut mid-line are found by :func:`check_last_record`. Plain gzip (not BGZF) cannot be
    checked without reading it whole; it is read whole anyway (no index can be used), and a
    stream that ends early is reported while it is read (:func:`read_positions`).

    Raises InputError naming the file and where it ends, and suggesting to copy it again.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(18)
        fh.seek(max(0, size - len(BGZF_EOF)))
        tail = fh.read()
    if _is_bgzf(head) and tail != BGZF_EOF:
        raise InputError(f"{path} is cut short: {_bgzf_end(path, size)}; {_RECOPY}")


def _bgzf_blocks(path: str, size: int):
    """(offset, length) of the complete BGZF blocks from the start, and the offset of the first
    block that is cut (or not a BGZF block); walks the block headers only (one seek per ~64 kB)."""
    blocks, offset = [], 0
    with open(path, "rb") as fh:
        while offset < size:
            fh.seek(offset)
            head = fh.read(18)
            if len(head) < 18 or not _is_bgzf(head):
                break
            length = int.from_bytes(head[16:18], "little") + 1
            if offset + length > size:
                break
            blocks.append((offset, length))
            offset += length
    return blocks, offset


def _inflate(path: str, blocks) -> bytes:
    import zlib

    out = []
    blocks = [b for b in blocks if b is not None]
    with open(path, "rb") as fh:
        for offset, length in blocks:
            fh.seek(offset)
            data = fh.read(length)
            try:
                out.append(zlib.decompress(data[18:-8], -15))
            except zlib.error:
                return b""
    return b"".join(out)


def _record_label(line: bytes) -> str:
    fields = line.split(b"\t", 2)
    text = ":".join(f.decode("utf-8", "replace") for f in fields[:2])
    return text if len(fields) > 2 else text[:40]


def _bgzf_end(path: str, size: int) -> str:
    """Where a BGZF file without its end-of-file block ends, for the message."""
    blocks, cut = _bgzf_blocks(path, size)
    if cut >= size:
        where = (
            f"it ends at byte {size} after {len(blocks)} complete BGZF blocks, without the end-of-file block"
        )
    else:
        where = f"it ends at byte {size}, inside the BGZF block that starts at byte {cut}"
    text = _inflate(path, blocks[-3:]) if blocks else b""
    lines = text.split(b"\n")[1:-1]  # the first may have begun in an earlier block
    records = [ln for ln in lines if ln and not ln.startswith(b"#")]
    if records:
        where += f"; the last complete record is {_record_label(records[-1])}"
    elif blocks and lines:
        where += "; it ends within the header"
    return where + " (bgzip files end with a 28-byte empty block)"


def check_last_record(path: str, n_samples: int) -> None:
    """Refuse a VCF text file whose last record is cut mid-line (wrong number of columns).

    Bgzipped VCF: the last data block (before the end-of-file block) is decompressed; plain VCF
    text: its last megabyte is read. The data must end with a newline, and the last line, when
    it starts in what was read, must have ``9 + n_samples`` columns. BCF and plain gzip pass
    (plain gzip is checked while it is read whole).
    """
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        head = fh.read(18)
        if _is_bgzf(head):
            text = _inflate(path, [_last_data_block(fh, size)] if size > len(BGZF_EOF) else [])
            if not text or _starts_bcf(path):
                return
        elif head[:2] == b"\x1f\x8b" or head[:3] == b"BCF":
            return
        else:
            fh.seek(max(0, size - 1_000_000))
            text = fh.read()
    if not text.endswith(b"\n"):
        lines = text.split(b"\n")
        prev = f" (the last complete record is {_record_label(lines[-2])})" if len(lines) > 2 else ""
        raise InputError(
            f"{path} is cut short: its last record has no newline at the end of the data (byte {size} "
            f"of the file), so it was cut mid-line{prev}; {_RECOPY}. If the file is complete and only "
            f"lacks the final newline, add it"
        )
    lines = text.split(b"\n")
    if len(lines) < 3 or lines[-2].startswith(b"#"):
        return  # the last line may begin before what was read, or there are no records
    n_columns = lines[-2].count(b"\t") + 1
    if n_columns != 9 + n_samples:
        raise InputError(
            f"{path} is cut short or damaged: its last record {_record_label(lines[-2])} has {n_columns} "
            f"columns, but the header has {9 + n_samples} (9 + {n_samples} samples); {_RECOPY}"
        )


def _last_data_block(fh, size: int) -> tuple[int, int] | None:
    """(offset, length) of the BGZF block that ends where the end-of-file block starts."""
    end = size - len(BGZF_EOF)
    start = max(0, end - 65536 - 18)
    fh.seek(start)
    chunk = fh.read(end - start)
    at = chunk.rfind(b"\x1f\x8b\x08\x04")
    while at >= 0:
        length = int.from_bytes(chunk[at + 16 : at + 18], "little") + 1
        if chunk[at + 12 : at + 14] == b"BC" and length == len(chunk) - at:
            return start + at, length
        at = chunk.rfind(b"\x1f\x8b\x08\x04", 0, at)
    return None


def _gzip_end(path: str) -> str | None:
    """Where a gzip stream ends early (None when it is complete): read it whole with zlib.

    Used only after htslib failed on a plain-gzip file, to tell a truncated stream (and its last
    complete record) from a damaged record."""
    import zlib

    size, n_out, n_lines, tail, last = os.path.getsize(path), 0, 0, b"", b""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            while chunk:
                try:
                    out = inflater.decompress(chunk)
                except zlib.error as err:
                    return f"its gzip data are damaged after {n_out} decompressed bytes ({err})"
                n_out += len(out)
                n_lines += out.count(b"\n")
                text = tail + out
                end = text.rfind(b"\n")
                if end >= 0:
                    last, tail = text[text.rfind(b"\n", 0, end) + 1 : end], text[end + 1 :]
                else:
                    tail = text
                chunk = inflater.unused_data
                if inflater.eof and chunk:  # a further gzip member (concatenated gzip files)
                    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                else:
                    break
    if inflater.eof:
        return None
    label = (
        f"; the last complete record is {_record_label(last)}" if last and not last.startswith(b"#") else ""
    )
    return (
        f"its gzip stream ends early, at byte {size}, {n_out} bytes into the decompressed data "
        f"(after {n_lines} complete lines){label}"
    )


def _read_error(path: str, err: Exception, where: str) -> InputError:
    """The error for a file htslib could not read through: a cut gzip stream or a damaged record."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] == b"\x1f\x8b" and not _is_bgzf(head) and (end := _gzip_end(path)):
        return InputError(f"{path} is cut short: {end}; {_RECOPY}")
    return InputError(
        f"{path} could not be read {where} ({err}): the file is damaged or cut short; {_RECOPY}"
    )


def _starts_bcf(path: str) -> bool:
    import gzip

    with gzip.open(path, "rb") as fh:
        return fh.read(3) == b"BCF"


def _index_of(path: str) -> str | None:
    for ext in (".tbi", ".csi"):
        if os.path.exists(path + ext):
            return path + ext
    return None


# VCF GT bytes -> allele index: '0'-'9' -> 0-9, '.' -> -1 (missing), anything else -> -99 (not handled)
_GT_ALLELE = np.full(256, -99, dtype=np.int16)
_GT_ALLELE[ord("0") : ord("9") + 1] = np.arange(10)
_GT_ALLELE[ord(".")] = CLASS_MISSING
_TAB, _COLON, _SLASH, _PIPE = 9, ord(":"), ord("/"), ord("|")


def _fast_record(line: str, path: str, n: int, order) -> Record | None:
    """Parse one VCF text line of ``n`` samples with numpy on its bytes; None when not handled.

    Handled: FORMAT starting with GT, every sample's GT a single-digit diploid call (``a/b``,
    ``a|b``, any of them ``.``) or a single-digit haploid call (``a``, ``.``), mixed in any way;
    haploid calls get a -2 (absent) second slot, as htslib/cyvcf2 report them. FORMAT AF
    (mtDNA heteroplasmy levels) is parsed, rounded to float32 as htslib stores it, for the
    samples that carry a non-reference allele (the only ones whose AF is ever looked at; NaN
    elsewhere). Anything else - multi-digit allele indices, polyploid calls, FORMAT GP or DS,
    an AF with another number of values than ALTs, non-ASCII text, a wrong number of
    columns - returns None, and the caller reads the position with cyvcf2 instead.
    """
    parts = line.rstrip("\n").split("\t", 9)
    if len(parts) != 10:
        return None
    chrom, pos, vid, ref, alt, _qual, filter_, info_text, fmt, text = parts
    keys = fmt.split(":")
    if keys[0] != "GT" or "GP" in keys or "DS" in keys:
        return None
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    alts = [] if alt == "." else alt.split(",")
    gt = _gt_diploid_only(buf, n) if len(keys) == 1 else None
    af = None
    if gt is None:
        tabs = np.flatnonzero(buf == _TAB)
        if len(tabs) != n - 1:
            return None
        starts = np.empty(n, dtype=np.intp)
        starts[0], starts[1:] = 0, tabs + 1
        ends = np.empty(n, dtype=np.intp)
        ends[:-1], ends[-1] = tabs, len(buf)
        # GT is 1 byte (haploid) or 3 bytes (a/b) when followed by the field's end or ':'
        padded = np.concatenate([buf, np.full(4, _TAB, dtype=np.uint8)])  # the line ends a field
        colon = _COLON if len(keys) > 1 else _TAB
        after1, after3 = padded[starts + 1], padded[starts + 3]
        haploid = (after1 == colon) | (after1 == _TAB)
        diploid = ((after1 == _SLASH) | (after1 == _PIPE)) & ((after3 == colon) | (after3 == _TAB))
        a = _GT_ALLELE[padded[starts]]
        b = np.where(haploid, CLASS_ABSENT, _GT_ALLELE[padded[starts + 2]]).astype(np.int16)
        if not ((a > -9) & (b > -9) & (haploid | diploid)).all():
            return None
        gt = np.column_stack([a, b])
        if "AF" in keys:
            # AF follows the (k)th ':' of the field; it is read for carriers of a non-REF allele
            colons = np.flatnonzero(buf == _COLON)
            stops = np.append(colons, len(buf))  # end of the subfield after colons[j - 1]
            carriers = np.flatnonzero((a > 0) | (b > 0))
            at = np.searchsorted(colons, starts[carriers]) + keys.index("AF") - 1
            has = stops[np.minimum(at, len(colons))] < ends[carriers]
            rows, at = carriers[has], at[has]
            lo, hi = colons[at] + 1, np.minimum(stops[at + 1], ends[rows])
            af = np.full((n, len(alts)), np.nan, dtype=np.float32)
            values = _af_values(raw, padded, lo, hi, len(alts))
            if values is None:
                return None
            af[rows] = values
            af = af.astype(float)
    if order is not None:
        gt = gt[order]
        af = af[order] if af is not None else None
    fields = dict(kv.split("=", 1) for kv in info_text.split(";") if "=" in kv)
    info, info_key = imputation_quality(fields.get)
    return Record(
        file=path, chrom=chrom, pos=int(pos), id=vid, ref=ref, alts=alts, gt=gt, af=af, gp=None, ds=None,
        filter=filter_, info=info, info_key=info_key,
    )  # fmt: skip


def _gt_diploid_only(buf: np.ndarray, n: int) -> np.ndarray | None:
    """GT of a GT-only record in which every sample field is 3 bytes (``a/b``): one (n, 4) view."""
    if len(buf) != 4 * n - 1:
        return None
    cells = np.empty(4 * n, dtype=np.uint8)
    cells[:-1], cells[-1] = buf, _TAB
    cells = cells.reshape(n, 4)
    if not (cells[:, 3] == _TAB).all():
        return None
    a, sep, b = _GT_ALLELE[cells[:, 0]], cells[:, 1], _GT_ALLELE[cells[:, 2]]
    if not (((sep == _SLASH) | (sep == _PIPE)) & (a > -9) & (b > -9)).all():
        return None  # a field that is not a single-digit diploid GT: the general parser decides
    return np.column_stack([a, b])


def _af_values(raw: bytes, padded: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_alt: int):
    """FORMAT AF values ``raw[lo:hi]`` as (len(lo), n_alt) float32 (htslib: double rounded to float);
    ``.`` is NaN. None when a value list does not have n_alt values or does not parse."""
    width = hi - lo
    if n_alt == 1 and len(lo) and width.max() <= 32:  # vectorised: fixed-width byte strings
        w = int(max(width.max(), 3))
        take = lo[:, None] + np.arange(w)
        mat = np.where(np.arange(w) < width[:, None], padded[np.minimum(take, len(padded) - 1)], 0)
        strings = np.ascontiguousarray(mat, dtype=np.uint8).view(f"S{w}").ravel()
        if (mat == ord(",")).any():
            return None
        strings = np.where(strings == b".", b"nan", strings)
        try:
            return strings.astype(np.float64).astype(np.float32)[:, None]
        except ValueError:
            return None
    out = np.full((len(lo), n_alt), np.nan, dtype=np.float32)
    for i, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
        values = raw[a:b].split(b",")
        if values == [b"."]:
            if n_alt > 1:
                return None
            continue
        if len(values) != n_alt:
            return None
        try:
            out[i] = [np.nan if v == b"." else float(v) for v in values]
        except ValueError:
            return None
    return out


def _cyvcf2_records(vcf, contigs: list[str], pos: int, path: str, order) -> list[Record]:
    records = []
    for contig in contigs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                for v in vcf(f"{contig}:{pos}-{pos}"):
                    if v.POS == pos:
                        records.append(_snapshot(v, path, order))
            except Exception as err:  # noqa: BLE001 - htslib: a damaged block or record in the region
                raise _read_error(path, err, f"in the region {contig}:{pos}") from None
    return records


# Positions in the same 16 kb window (tabix and default CSI indices, min_shift 14) share one fetch:
# a fetch starts at the first record of the window, so separate fetches would decompress the
# records before each position again, while one fetch reads each of them once.
_WINDOW_SHIFT = 14


def _tabix_records(header: Header, contigs: list[str], positions: list[int], order):
    """Records at ``positions`` through pysam.TabixFile and :func:`_fast_record`.

    Returns {pos: list of records} with None for a position holding a record that
    :func:`_fast_record` does not handle (the caller reads that position with cyvcf2).
    Positions in the same 16 kb index window are read with one fetch.
    """
    tbx, n = header.tabix, len(header.samples)
    indexed = set(tbx.contigs)
    wanted = sorted(set(positions))
    runs: list[list[int]] = []
    for pos in wanted:
        if runs and (pos - 1) >> _WINDOW_SHIFT == (runs[-1][0] - 1) >> _WINDOW_SHIFT:
            runs[-1].append(pos)
        else:
            runs.append([pos])
    found: dict[int, list[Record] | None] = {pos: [] for pos in wanted}
    for contig in contigs:
        if contig not in indexed:
            continue  # no records on it (a fetch would raise)
        for run in runs:
            try:
                lines = list(tbx.fetch(contig, run[0] - 1, run[-1]))
            except (OSError, ValueError) as err:  # a damaged BGZF block in the region (htslib error)
                raise _read_error(header.path, err, f"in the region {contig}:{run[0]}-{run[-1]}") from None
            for line in lines:
                pos = int(line.split("\t", 2)[1])
                if found.get(pos, None) is None:
                    continue  # not a target (or a longer record overlapping one), or already failed
                rec = _fast_record(line, header.path, n, order)
                found[pos] = None if rec is None else found[pos] + [rec]
    return found


def read_positions(header: Header, targets, samples, logger) -> dict[tuple[str, int], list[Record]]:
    """Records at the target (panel contig, pos) positions: region queries or one streaming pass.

    Indexed bgzipped VCF text is read with pysam.TabixFile and parsed by :func:`_fast_record`;
    a position with any record it does not handle, BCF and other indexed files are read with
    cyvcf2 region queries; unindexed files are streamed once with cyvcf2.
    """
    path = header.path
    file_samples = header.samples
    order = None
    if file_samples != samples:
        where = {s: i for i, s in enumerate(file_samples)}
        order = np.array([where[s] for s in samples])
    found: dict[tuple[str, int], list[Record]] = {}
    names = set(header.contigs)
    index = _index_of(path)
    if index and (stale := check_index(path, index)):
        logger.warning(stale)
    if header.tabix is not None or index:
        for panel_chrom in sorted({chrom for chrom, _ in targets}):
            contigs = [c for c in CONTIG_ALIASES[panel_chrom] if c in names] or (
                [] if names else list(CONTIG_ALIASES[panel_chrom])
            )
            positions = sorted(pos for chrom, pos in targets if chrom == panel_chrom)
            fast = {}
            if header.tabix is not None:
                fast = _tabix_records(header, contigs, positions, order)
            for pos in positions:
                records = fast.get(pos)
                if records is None:
                    records = _cyvcf2_records(header.vcf, contigs, pos, path, order)
                if records:
                    found[(panel_chrom, pos)] = records
    else:
        logger.warning(
            "%s has no .tbi/.csi index: streaming the whole file once; index it "
            "(bgzip + `tabix -p vcf`, or `bcftools index`) to read only the panel regions",
            path,
        )
        alias = {c: k for k, cs in CONTIG_ALIASES.items() for c in cs}
        wanted = set(targets)
        last = None
        try:  # a plain-gzip stream that ends early, or a damaged record, stops htslib here
            for v in header.vcf:
                last = (v.CHROM, v.POS)
                key = (alias.get(v.CHROM), v.POS)
                if key in wanted:
                    found.setdefault(key, []).append(_snapshot(v, path, order))
        except Exception as err:  # noqa: BLE001 - cyvcf2 raises a plain Exception
            where = f"after the record {last[0]}:{last[1]}" if last else "at its first record"
            raise _read_error(path, err, where) from None
    return found
