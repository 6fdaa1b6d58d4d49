"""The variant panel: the bundled file's facts and validation messages (vdrbone.panel)."""

import pytest
from conftest import REPO

from vdrbone.errors import InputError
from vdrbone.panel import PANEL_COLUMNS, read_panel

PANEL = REPO / "resources" / "vdr_snps.tsv"


def test_bundled_panel_facts():
    """Positions, alleles and RFLP letters as in ../shared/VARIANTS.md."""
    panel = read_panel(PANEL)
    taq, apa, bsm, fok = (panel[i] for i in ("rs731236", "rs7975232", "rs1544410", "rs2228570"))
    assert (taq.pos_grch37, taq.pos_grch38, taq.ref, taq.alt) == (48238757, 47844974, "A", "G")
    assert (apa.pos_grch37, apa.pos_grch38, apa.ref, apa.alt) == (48238837, 47845054, "C", "A")
    assert (bsm.pos_grch37, bsm.pos_grch38, bsm.ref, bsm.alt) == (48239835, 47846052, "C", "T")
    assert (fok.pos_grch37, fok.pos_grch38, fok.ref, fok.alt) == (48272895, 47879112, "A", "G")
    for v in (taq, apa, bsm, fok):
        assert v.pos_grch37 - v.pos_grch38 == 393783
    # capital letter = restriction site absent
    assert (taq.label("A"), taq.label("G")) == ("T", "t")
    assert (apa.label("A"), apa.label("C")) == ("A", "a")
    assert (bsm.label("T"), bsm.label("C")) == ("B", "b")
    assert (fok.label("G"), fok.label("A")) == ("F", "f")
    assert bsm.genotype_names(1) == ("C/T", "Bb")
    assert taq.genotype_names(2) == ("G/G", "tt")
    assert fok.reference_genotype() == "A/A (ff)"
    mt = panel["m.4823"]
    assert (mt.chrom, mt.ploidy, mt.ref, mt.alt, mt.pos("GRCh37")) == ("MT", 1, "T", "C", 4823)
    assert panel["m.15885"].genotype_names(1) == ("T", "T")
    assert not panel["rs11568820"].verified and panel["rs4516035"].panel == "optional"


def _write(tmp_path, rows):
    path = tmp_path / "panel.tsv"
    path.write_text("\t".join(PANEL_COLUMNS) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    return path


GOOD = ["rs1", "X", "VDR", "12", "100", "200", "A", "G", "G", "TaqI", "T", "t", "2", "core", "yes", ""]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("ref", "N", "line 2, column 'ref': got 'N', expected one of A, C, G, T"),
        ("effect_allele", "C", "column 'effect_allele': got 'C', expected the ref (A) or alt (G) allele"),
        ("pos_grch38", "12a", "column 'pos_grch38': got '12a', expected a positive integer"),
        ("ploidy", "3", "column 'ploidy': got '3', expected 1 (mtDNA) or 2"),
        ("alt_label", ".", "column 'alt_label': got '.', expected a label for both alleles"),
    ],
)
def test_bad_panel_rows_are_named(tmp_path, column, value, message):
    row = list(GOOD)
    row[PANEL_COLUMNS.index(column)] = value
    with pytest.raises(InputError, match="panel.tsv line 2") as err:
        read_panel(_write(tmp_path, [row]))
    assert message in str(err.value)


def test_duplicate_id_and_missing_column(tmp_path):
    with pytest.raises(InputError, match="line 3, column 'id'.*unique"):
        read_panel(_write(tmp_path, [GOOD, GOOD]))
    path = tmp_path / "short.tsv"
    path.write_text("id\tname\nrs1\tX\n")
    with pytest.raises(InputError, match="header lacks column"):
        read_panel(path)


def test_select_unknown_id():
    with pytest.raises(InputError, match="rs123 not in the panel"):
        read_panel(PANEL).select(["rs731236", "rs123"])
