"""Static figures of the report: forest plots, BMD by genotype, LD heatmap, haplotype frequencies.

Every figure is drawn with matplotlib (Agg backend) in black and greys with distinct marker shapes
and printed numbers, so nothing is encoded by colour alone and the figures stay readable in a
black-and-white print. :func:`figure_data_uri` turns a figure into a ``data:image/svg+xml;base64``
URI to inline in the HTML report (no external file, deterministic bytes); inside
:func:`drawn_in_parallel` a figure can also come as a PNG (:func:`png_data_uri`) for the PDF.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import math
import multiprocessing
import os
import queue

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from vdrbone.strata import stratum_name  # noqa: E402

STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9,
    "font.family": "DejaVu Sans",
    "svg.fonttype": "none",  # text stays text: small files, selectable, crisp in print
    "svg.hashsalt": "vdrbone",  # deterministic element ids
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MARKERS = ("o", "s", "^", "D")
RATIO_NAMES = {"OR": "Odds ratio", "HR": "Hazard ratio"}
LINESTYLES = ("-", "--", ":")
GREYS = ("#000000", "#555555", "#999999")


class PendingFigure:
    """A figure requested inside :func:`drawn_in_parallel`: its SVG data URI (``str`` and Jinja's
    ``__html__`` give it) and :attr:`raster`, its PNG copy for the print medium (``None`` when
    none was asked for). Using either waits for its drawing (the PNG may come before the SVG);
    true while pending, so callers' ``if plot`` checks hold."""

    def __init__(self, job: tuple, drawing: _Drawing | None = None) -> None:
        self._job = job  # (function name, args, kwargs, raster dpi or None)
        self._drawing = drawing  # the block's drawing processes, None: drawn here when first used
        self._svg: str | None = None
        self._png: str | None = None
        self.raster_dpi: int | None = job[3]

    def _drawn(self) -> tuple[str, str | None]:
        if self._svg is None:
            if self._drawing is not None:
                self._drawing.wait(self, "svg")
            else:
                self._svg, self._png = _draw(self._job)
        return self._svg, self._png

    def __str__(self) -> str:
        return self._drawn()[0]

    __html__ = __str__

    @property
    def raster(self) -> str | None:
        """The PNG data URI drawn at :attr:`raster_dpi` (same area as the SVG), or ``None``."""
        if self.raster_dpi is None:
            return None
        if self._png is None and self._drawing is not None:
            self._drawing.wait(self, "png")
        return self._drawn()[1] if self._png is None else self._png

    def __bool__(self) -> bool:
        return self._svg is None or bool(self._svg)


# Drawing processes run at this lower priority: the caller and the PDF writer it forks (the
# report's critical path) get the cores first, the figures the rest.
DRAWING_NICENESS = 10


class _Drawing:
    """The figures requested inside one :func:`drawn_in_parallel` block and the processes drawing
    them: jobs go out in the order requested (screen-only ones once the caller first waits, after
    the figures with a PNG copy), each result comes back as ``(index, kind, uri)``."""

    def __init__(self, workers: int, raster_dpi: int | None, screen_only: tuple[str, ...]) -> None:
        self.workers, self.raster_dpi, self.screen_only = workers, raster_dpi, set(screen_only)
        self.procs: list = []
        self.jobs = self.results = None
        self.tokens: list[PendingFigure] = []
        self.deferred: list[int] = []  # screen-only jobs not yet sent

    def request(self, name: str, args: tuple, kwargs: dict) -> PendingFigure:
        screen_only = name in self.screen_only
        job = (name, args, kwargs, None if screen_only else self.raster_dpi)
        if self.workers <= 1:  # drawn here when first used
            token = PendingFigure(job)
            self.tokens.append(token)
            return token
        token = PendingFigure(job, self)
        self.tokens.append(token)
        if not self.procs:
            ctx = multiprocessing.get_context("fork")
            self.jobs, self.results = ctx.Queue(), ctx.Queue()
            self.procs = [
                ctx.Process(target=_work, args=(self.jobs, self.results), daemon=True, name="draw")
                for _ in range(self.workers)
            ]
            for proc in self.procs:
                proc.start()
        if screen_only:
            self.deferred.append(len(self.tokens) - 1)
        else:
            self.jobs.put((len(self.tokens) - 1, job))
        return token

    def wait(self, token: PendingFigure, kind: str) -> None:
        """Receive results until ``token`` has its ``kind`` (``"svg"`` or ``"png"``)."""
        for index in self.deferred:
            self.jobs.put((index, self.tokens[index]._job))
        self.deferred.clear()
        while (token._svg if kind == "svg" else token._png) is None:
            try:
                index, got, uri = self.results.get(timeout=1.0)
            except queue.Empty:
                if any(proc.exitcode not in (None, 0) for proc in self.procs):
                    raise RuntimeError("a figure-drawing process died") from None
                continue
            if got == "error":
                raise RuntimeError(f"drawing a figure failed in a drawing process:\n{uri}")
            setattr(self.tokens[index], f"_{got}", uri)

    def close(self, *, failed: bool) -> None:
        if not failed:
            for token in self.tokens:
                token._drawn()
                token.raster  # noqa: B018 (waits for the PNG copy)
        for _ in self.procs:
            self.jobs.put(None)
        for proc in self.procs:
            if failed:
                proc.terminate()
            proc.join()


_DRAWING: _Drawing | None = None  # inside drawn_in_parallel
# while _draw draws a figure with a PNG copy: {"dpi": ..., "uri": None, "hold": bool, "svg": ...}
_RASTER: dict | None = None


def _deferrable(func):
    """Inside :func:`drawn_in_parallel`, request the figure and return a :class:`PendingFigure`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _DRAWING is None:
            return func(*args, **kwargs)
        return _DRAWING.request(func.__name__, args, kwargs)

    return wrapper


def _draw(job: tuple, *, hold: bool = False):
    """(SVG data URI, PNG data URI or None) of one requested figure. With ``hold`` (and a PNG
    copy), (PNG data URI, a function returning the SVG data URI): the figure stays open until
    that is called."""
    global _RASTER
    name, args, kwargs, dpi = job
    _RASTER = {"dpi": dpi, "uri": None, "hold": hold, "svg": None} if dpi else None
    try:
        svg = globals()[name].__wrapped__(*args, **kwargs)
        if not _RASTER:
            return svg, None
        return (_RASTER["uri"], _RASTER["svg"]) if hold else (svg, _RASTER["uri"])
    finally:
        _RASTER = None


def _work(jobs, results) -> None:
    """A drawing process: draws the jobs it takes, a figure with a PNG copy first as PNG (sent at
    once, for the PDF) and its SVG later, when no job is waiting or a job without a PNG copy
    comes (the PNGs of the jobs sent before it are all taken); stops at ``None``."""
    global _DRAWING
    _DRAWING = None
    os.nice(DRAWING_NICENESS)
    held: list[tuple[int, object]] = []  # (index, the SVG of an open figure)

    def flush():
        for index, svg in held:
            results.put((index, "svg", svg()))
        held.clear()

    while True:
        try:
            item = jobs.get_nowait()
        except queue.Empty:
            flush()
            item = jobs.get()
        if item is None:
            flush()
            return
        index, job = item
        try:
            if job[3] is None:
                flush()
                results.put((index, "svg", _draw(job)[0]))
            else:
                png, svg = _draw(job, hold=True)
                results.put((index, "png", png))
                held.append((index, svg))
        except Exception:  # noqa: BLE001 (reported to the caller, who raises)
            import traceback

            results.put((index, "error", traceback.format_exc()))


@contextlib.contextmanager
def drawn_in_parallel(workers: int, *, raster_dpi: int | None = None, screen_only: tuple[str, ...] = ()):
    """Figures requested in the block are drawn by ``workers`` forked processes (matplotlib draws
    one figure at a time per process; they run at :data:`DRAWING_NICENESS`) while the caller goes
    on, or in turn when first used with one worker; all are drawn when the block ends. The bytes
    are those of drawing them in turn (``svg.hashsalt`` is fixed).

    With ``raster_dpi``, each figure is also drawn as a PNG at that resolution for the print
    medium (:attr:`PendingFigure.raster`; WeasyPrint lays out a PNG far faster than it walks an
    SVG), before its SVG, except the figures of the functions named in ``screen_only``: those
    are drawn (SVG only) once the caller first waits for a figure, after the PNG copies (the
    report: the PDF, written once the PNGs are in, does not wait for them)."""
    global _DRAWING
    if _DRAWING is not None:
        raise RuntimeError("drawn_in_parallel() does not nest")
    _DRAWING = drawing = _Drawing(workers, raster_dpi, screen_only)
    failed = True
    try:
        yield
        failed = False
    finally:
        _DRAWING = None
        drawing.close(failed=failed)


class _TightBox(Exception):
    """Raised from inside ``savefig`` with what it has measured, before anything is written."""


def tight_box(fig):
    """The tight bounding box that ``savefig(format="svg", bbox_inches="tight")`` finds and where
    its layout pass leaves the axes (their original and active positions), from that same pass;
    nothing is written. :func:`_svg_uri` with both writes the bytes of ``bbox_inches="tight"``
    without that pass; pad with ``savefig.pad_inches`` for the area it saves."""
    tight = fig.get_tightbbox

    def found(*args, **kwargs):
        box = tight(*args, **kwargs)
        axes = [(ax, ax.get_position(original=True), ax.get_position(original=False)) for ax in fig.axes]
        raise _TightBox(box, axes)

    fig.get_tightbbox = found  # savefig(bbox_inches="tight") asks once, after its layout pass
    try:
        fig.savefig(io.BytesIO(), format="svg", bbox_inches="tight")
    except _TightBox as measured:
        return measured.args
    finally:
        del fig.get_tightbbox
    raise RuntimeError("savefig did not ask for the tight bounding box")


def _svg_uri(fig, measured=None) -> str:
    """``fig`` as an SVG data URI (``bbox_inches="tight"``); closes it. ``measured`` (from
    :func:`tight_box`) stands in for savefig's layout pass: the axes go back where that pass
    left them (a PNG drawn since may have moved them: aspect, constrained layout at its dpi), the
    pass itself is skipped (it still sets up the SVG canvas, as the bytes need) and its box used."""
    if measured is not None:
        box, axes = measured
        for ax, original, active in axes:
            ax.set_position(original, which="original")
            ax.set_position(active, which="active")

        def laid_out(*args, **kwargs):  # savefig's layout draw (the one after finding the renderer)
            del fig.draw

        fig.draw = laid_out
        fig.get_tightbbox = lambda *args, **kwargs: box
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    finally:
        for name in ("draw", "get_tightbbox"):
            fig.__dict__.pop(name, None)
        plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _held_svg_uri(fig, measured) -> str:
    with plt.rc_context(STYLE):  # as inside the drawing function (every figure here uses STYLE)
        return _svg_uri(fig, measured)


def figure_data_uri(fig) -> str:
    """Serialise ``fig`` as SVG (no date metadata) and return it as a base64 data URI; closes it.

    While :func:`drawn_in_parallel` draws a figure with a print copy, the area of the SVG (its
    tight bounding box, :func:`tight_box`) is drawn first as PNG (:func:`png_data_uri`), then
    as SVG from that measurement (the bytes of ``bbox_inches="tight"``); a drawing process holds
    the open figure and writes its SVG later."""
    if not _RASTER:
        return _svg_uri(fig)
    measured = tight_box(fig)
    box = measured[0].padded(matplotlib.rcParams["savefig.pad_inches"])
    _RASTER["uri"] = png_data_uri(fig, dpi=_RASTER["dpi"], bbox=box)
    if _RASTER["hold"]:
        _RASTER["svg"] = functools.partial(_held_svg_uri, fig, measured)
        return ""
    return _svg_uri(fig, measured)


def png_data_uri(fig, *, dpi: int, bbox="tight") -> str:
    """``fig`` drawn by Agg at ``dpi`` as a PNG data URI (deterministic bytes, no metadata): 8-bit
    grey when every pixel is an opaque grey (the report's figures are black and greys), RGB when
    opaque, else RGBA. Leaves ``fig`` open."""
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="raw", dpi=dpi, bbox_inches=bbox)  # the RGBA pixels of the Agg canvas
    renderer = fig.canvas.renderer  # the one that drew them (its size is the bbox at dpi)
    rgba = np.frombuffer(raw.getbuffer(), np.uint8).reshape(int(renderer.height), int(renderer.width), 4)
    pixels = rgba.view("<u4")[..., 0]  # R | G << 8 | B << 16 | A << 24
    if ((pixels >> 24) == 255).all():
        if (pixels == (pixels & 0xFF) * 0x010101 + 0xFF000000).all():
            image = Image.fromarray(np.ascontiguousarray(rgba[..., 0]))
        else:
            image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    else:
        image = Image.fromarray(rgba)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # WeasyPrint recompresses it anyway
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    if p < 0.001:
        mant, exp = f"{p:.1e}".split("e")
        return f"{mant}e{int(exp)}"
    return f"{p:.3f}"


@_deferrable
def forest_plot(
    rows: pd.DataFrame,
    *,
    estimate_type: str,
    title: str,
    footnote: str = "",
    decimals: int = 2,
    contrast: str = "per effect allele",
    clip: float = 8.0,
) -> str:
    """Forest plot of one effect across strata, as a data URI.

    Rows whose ``note`` starts with ``firth`` (Firth penalised estimates) are drawn as triangles
    and named in the footnote. The axis spans the point estimates and the reference widened by
    ``clip`` (a factor on the OR scale; multiples of the estimates' spread for betas): a CI
    reaching beyond it is cut at the axis and ends in an arrow, its numbers stay in the text column.

    Parameters
    ----------
    rows : one row per stratum, in display order, with columns ``stratum`` (label), ``estimate``,
        ``ci_lower``, ``ci_upper``, ``p_value``, ``n`` (already formatted text, e.g. suppressed
        ``"<5"``) and ``note``. Rows with a non-finite estimate are listed with their note instead
        of a point.
    estimate_type : ``"OR"`` (log axis, reference line at 1) or ``"beta"`` (reference line at 0).
    title, footnote : figure title and a line under the axis (e.g. interaction p-values).
    decimals : decimals of the printed estimates.
    """
    required = {"stratum", "estimate", "ci_lower", "ci_upper", "p_value", "n", "note"}
    if missing := required - set(rows.columns):
        raise ValueError(f"forest_plot rows lack columns {sorted(missing)}")
    k = len(rows)
    if k == 0:
        raise ValueError("forest_plot needs at least one row")
    log = estimate_type in ("OR", "HR")
    est = rows["estimate"].to_numpy(float)
    lo = rows["ci_lower"].to_numpy(float)
    hi = rows["ci_upper"].to_numpy(float)
    ok = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    if log:
        ok &= (lo > 0) & (hi > 0)
    firth = rows["note"].fillna("").astype(str).str.startswith("firth").to_numpy()
    ref = 1.0 if log else 0.0
    cap_lo, cap_hi = -np.inf, np.inf
    if ok.any():
        e = np.concatenate([est[ok], [ref]])
        if log:
            cap_lo, cap_hi = e.min() / clip, e.max() * clip
        else:
            spread = e.max() - e.min() or max(abs(e).max(), 1e-12)
            cap_lo, cap_hi = e.min() - clip * spread, e.max() + clip * spread
    lo_draw, hi_draw = np.maximum(lo, cap_lo), np.minimum(hi, cap_hi)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.6, 0.34 * k + 1.25))
        y = np.arange(k)[::-1]
        ax.axvline(ref, color="#777777", lw=0.9, ls="--", zorder=0)
        for i in range(k):
            if not ok[i]:
                continue
            overall = rows["stratum"].iloc[i] == "all"
            ax.plot([lo_draw[i], hi_draw[i]], [y[i], y[i]], color="black", lw=1.3)
            if lo[i] < lo_draw[i]:  # clipped: an arrow at the axis end
                ax.plot(lo_draw[i], y[i], marker="<", ms=6, color="black")
            if hi[i] > hi_draw[i]:
                ax.plot(hi_draw[i], y[i], marker=">", ms=6, color="black")
            ax.plot(
                est[i],
                y[i],
                marker="^" if firth[i] else ("D" if overall else "s"),
                ms=7 if overall or firth[i] else 5.5,
                color="black",
                mfc="black" if overall else "white",
                mew=1.3,
            )
        if ok.any():
            vals = np.concatenate([lo_draw[ok], hi_draw[ok], [ref]])
            vmin, vmax = vals.min(), vals.max()
            if log:
                vmin, vmax = math.log(vmin), math.log(vmax)
            pad = 0.08 * (vmax - vmin or 1.0)
            lim = (vmin - pad, vmax + pad)
            ax.set_xlim(*(np.exp(lim) if log else lim))
        else:
            ax.set_xlim((0.5, 2) if log else (-1, 1))
        if log:
            ax.set_xscale("log")
            lo_lim, hi_lim = ax.get_xlim()
            nice = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10, 20, 50, 100]
            ticks = [t for t in nice if lo_lim <= t <= hi_lim]
            while len(ticks) > 8:  # thin out, keeping 1
                ticks = [t for i, t in enumerate(ticks) if t == 1 or i % 2 == 0]
            ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_yticks(y)
        ax.set_yticklabels([stratum_name(s) for s in rows["stratum"]])
        ax.set_ylim(-0.7, k - 0.3)
        ax.set_xlabel(
            f"{RATIO_NAMES[estimate_type]} {contrast} (95% CI, log scale)"
            if log
            else f"Beta {contrast} (95% CI)"
        )
        ax.set_title(title, loc="left", pad=20)
        # right-hand text columns n | estimate (CI) | p, each placed after the widest text of the
        # one before it (measured with the renderer), so no width of numbers makes them overlap
        trans = matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData)
        fig.subplots_adjust(right=0.6)
        columns = [("n", [str(x) for x in rows["n"]])]
        estimates, notes = [], []
        for i in range(k):
            if ok[i]:
                text = f"{est[i]:.{decimals}f} ({lo[i]:.{decimals}f}, {hi[i]:.{decimals}f})"
                estimates.append(text.replace("-", "\u2212"))
                notes.append(None)
            else:
                estimates.append(None)
                notes.append(str(rows["note"].iloc[i] or "not estimated")[:48])
        columns.append((f"{estimate_type} (95% CI)", estimates))
        columns.append(("p", [_fmt_p(rows["p_value"].iloc[i]) if ok[i] else None for i in range(k)]))
        renderer = fig.canvas.get_renderer()
        to_axes = ax.transAxes.inverted()
        x = 1.03
        gap = 0.035
        for ci, (header, texts) in enumerate(columns):
            drawn = [ax.text(x, k - 0.35, header, transform=trans, fontsize=9, weight="bold", va="bottom")]
            for i, text in enumerate(texts):
                if text is not None:
                    drawn.append(ax.text(x, y[i], text, transform=trans, fontsize=9, va="center"))
            if ci == 1:  # notes of rows without an estimate run on under the p column (empty there)
                for i, note in enumerate(notes):
                    if note is not None:
                        ax.text(x, y[i], note, transform=trans, fontsize=8.5, va="center", style="italic")
            right = max(t.get_window_extent(renderer).x1 for t in drawn)
            x = to_axes.transform((right, 0))[0] + gap
        marks = []
        if (firth & ok).any():
            marks.append("\u25b3 Firth penalised estimate")
        if ((lo < lo_draw) | (hi > hi_draw))[ok].any():
            marks.append("arrow: CI continues beyond the axis (see the numbers)")
        footnote = "; ".join([x for x in [footnote, *marks] if x])
        if footnote:
            fig.text(0.01, -0.02, footnote, fontsize=9, ha="left", va="top")
        return figure_data_uri(fig)


MIN_CI_N = 5  # cells with fewer people get an n-annotated point, no t interval


@_deferrable
def genotype_means_plot(
    data: pd.DataFrame,
    *,
    strata: list[str],
    genotypes: list[str],
    ylabel: str,
    title: str,
) -> str:
    """Mean outcome by genotype in each stratum (mean and 95% CI of the mean), as a data URI.

    Parameters
    ----------
    data : one row per stratum x genotype with columns ``stratum``, ``genotype`` (display label,
        one of ``genotypes``), ``n`` (int), ``mean`` and ``sd``. Cells hidden by small-cell
        suppression must be dropped by the caller. The interval is mean +/- t(0.975, n-1) sd /
        sqrt(n), drawn only for cells of at least :data:`MIN_CI_N` people (a t interval from 2 or 3
        values spans far beyond the data and flattens every other point); smaller cells get a
        point annotated with their n.
    strata : stratum labels in display order (x axis groups).
    genotypes : genotype labels in display order (marker shape and position within a group).
    """
    from scipy.special import stdtrit  # scipy.stats.t.ppf(q, df) is stdtrit(df, q)

    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.6, 3.1))
        width = 0.22
        offsets = (np.arange(len(genotypes)) - (len(genotypes) - 1) / 2) * width
        for gi, g in enumerate(genotypes):
            sub = data[data["genotype"] == g]
            xs, ys, errs = [], [], []
            for si, s in enumerate(strata):
                row = sub[sub["stratum"] == s]
                if row.empty or not np.isfinite(row["mean"].iloc[0]):
                    continue
                n, mean, sd = int(row["n"].iloc[0]), float(row["mean"].iloc[0]), float(row["sd"].iloc[0])
                tiny = n < MIN_CI_N
                half = stdtrit(n - 1, 0.975) * sd / math.sqrt(n) if not tiny and np.isfinite(sd) else 0.0
                xs.append(si + offsets[gi])
                ys.append(mean)
                errs.append(half)
                if tiny:
                    ax.annotate(
                        f"n={n}", (si + offsets[gi], mean), xytext=(3, 3), textcoords="offset points",
                        fontsize=7, color="#444444",
                    )  # fmt: skip
            ax.errorbar(
                xs,
                ys,
                yerr=errs,
                fmt=MARKERS[gi % len(MARKERS)],
                color=GREYS[gi % len(GREYS)],
                mfc="white" if gi == 1 else GREYS[gi % len(GREYS)],
                ms=6,
                capsize=2.5,
                lw=1.2,
                label=g,
            )
        ax.set_xticks(range(len(strata)))
        ax.set_xticklabels([stratum_name(s).replace(", ", ",\n") for s in strata])
        ax.set_xlim(-0.6, len(strata) - 0.4)
        ax.set_ylabel(ylabel)
        ax.set_title(title, loc="left")
        ax.grid(axis="y", color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(title="Genotype", frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        return figure_data_uri(fig)


@_deferrable
def ld_heatmap(dprime: pd.DataFrame, r2: pd.DataFrame, *, title: str) -> str:
    """Pairwise LD heatmap: |D'| above the diagonal, r2 below, values printed in every cell.

    ``dprime`` and ``r2`` are square DataFrames with the same variant labels as index and
    columns (NaN where a pair was not estimated). Shading is grey (darker = stronger LD); the
    printed numbers carry the information.
    """
    labels = list(dprime.index)
    k = len(labels)
    if list(dprime.columns) != labels or list(r2.index) != labels or list(r2.columns) != labels:
        raise ValueError("ld_heatmap: dprime and r2 must be square with the same labels")
    m = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(k):
            if i < j:
                m[i, j] = abs(dprime.iat[i, j])
            elif i > j:
                m[i, j] = r2.iat[i, j]
    with plt.rc_context(STYLE):
        size = 1.0 + 0.9 * k
        fig, ax = plt.subplots(figsize=(size + 0.8, size))
        img = ax.imshow(np.ma.masked_invalid(m), cmap="Greys", vmin=0, vmax=1)
        for i in range(k):
            for j in range(k):
                if i == j:
                    ax.text(j, i, "-", ha="center", va="center", fontsize=9)
                elif np.isfinite(m[i, j]):
                    colour = "white" if m[i, j] > 0.55 else "black"
                    ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=9.5, color=colour)
                else:
                    ax.text(j, i, "NA", ha="center", va="center", fontsize=8.5)
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_xticklabels(labels, rotation=30, ha="right")
        ax.set_yticklabels(labels)
        ax.spines[:].set_visible(False)
        ax.set_title(title, loc="left")
        cbar = fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label("upper: |D'|   lower: r\u00b2")
        return figure_data_uri(fig)


@_deferrable
def epistasis_heatmap(pvalues: pd.DataFrame, *, title: str) -> str:
    """SNP x SNP interaction heat map: -log10 p of each tested pair, p printed in the cell.

    ``pvalues`` is a square DataFrame (variant labels as index and columns, symmetric or filled
    in one triangle) of interaction p-values, NaN where a pair was not tested or not estimable.
    Only the upper triangle is drawn; darker = smaller p.
    """
    labels = list(pvalues.index)
    k = len(labels)
    if list(pvalues.columns) != labels:
        raise ValueError("epistasis_heatmap: pvalues must be square with the same labels on both axes")
    p = pvalues.to_numpy(dtype=float)
    p = np.where(np.isnan(p), p.T, p)
    m = np.full((k, k), np.nan)
    upper = np.triu(np.ones((k, k), dtype=bool), 1)
    with np.errstate(divide="ignore"):
        m[upper] = -np.log10(np.clip(p[upper], 1e-300, 1))
    top = max(3.0, float(np.nanmax(m)) if np.isfinite(m).any() else 3.0)
    with plt.rc_context(STYLE):
        size = 1.0 + 0.9 * k
        fig, ax = plt.subplots(figsize=(size + 0.8, size))
        img = ax.imshow(np.ma.masked_invalid(m), cmap="Greys", vmin=0, vmax=top)
        for i in range(k):
            for j in range(i + 1, k):
                if np.isfinite(m[i, j]):
                    colour = "white" if m[i, j] > 0.55 * top else "black"
                    ax.text(j, i, _fmt_p(p[i, j]), ha="center", va="center", fontsize=8.5, color=colour)
                else:
                    ax.text(j, i, "NA", ha="center", va="center", fontsize=8.5)
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_xticklabels(labels, rotation=30, ha="right")
        ax.set_yticklabels(labels)
        ax.spines[:].set_visible(False)
        ax.set_title(title, loc="left")
        cbar = fig.colorbar(img, ax=ax, fraction=0.046, pad=0.04)
        cbar.set_label("−log10 p (interaction)")
        return figure_data_uri(fig)


@_deferrable
def haplotype_bars(freqs: pd.DataFrame, *, title: str) -> str:
    """Horizontal bars of haplotype frequencies per stratum, with the frequency printed.

    ``freqs``: columns ``haplotype`` (display label), ``stratum`` and ``frequency``; haplotypes
    in display order of first appearance; strata distinguished by hatching and order.
    """
    haps = list(dict.fromkeys(freqs["haplotype"]))
    strata = list(dict.fromkeys(freqs["stratum"]))
    hatches = ("", "///", "...", "xxx", "\\\\\\", "---", "ooo", "+++", "***")
    with plt.rc_context(STYLE):
        height = 0.8 / max(len(strata), 1)
        fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(haps) * max(len(strata), 1) ** 0.6 + 1.2))
        for si, s in enumerate(strata):
            sub = freqs[freqs["stratum"] == s].set_index("haplotype")["frequency"]
            vals = np.array([float(sub.get(h, np.nan)) for h in haps])
            ys = np.arange(len(haps)) + si * height - 0.4 + height / 2
            ax.barh(
                ys,
                np.nan_to_num(vals),
                height=height * 0.9,
                color="white" if si else "#bbbbbb",
                edgecolor="black",
                hatch=hatches[si % len(hatches)],
                label=stratum_name(s),
            )
            for yv, v in zip(ys, vals, strict=True):
                if np.isfinite(v):
                    ax.text(v + 0.005, yv, f"{v:.3f}", va="center", fontsize=8)
                else:  # not estimated in this stratum: say so rather than draw a zero
                    ax.text(0.005, yv, "no data", va="center", fontsize=7.5, style="italic", color="#555555")
        ax.set_yticks(range(len(haps)))
        ax.set_yticklabels(haps)
        ax.invert_yaxis()
        ax.set_xlabel("Estimated haplotype frequency")
        ax.set_xlim(0, min(1.0, float(np.nanmax(freqs["frequency"])) * 1.2 + 0.02))
        ax.set_title(title, loc="left")
        if len(strata) > 1:
            ax.legend(frameon=False, loc="lower right")
        return figure_data_uri(fig)


@_deferrable
def km_plot(curves: list[dict], *, title: str, xlabel: str) -> str:
    """Kaplan-Meier curves by genotype (step functions read on a time grid), as a data URI.

    ``curves``: one dict per genotype with ``label``, ``time`` and ``surv`` (lists; the grid of
    :func:`vdrbone.survival.km_grid`). Curves differ by line style and grey, with a legend.
    """
    if not curves:
        raise ValueError("km_plot needs at least one curve")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for i, c in enumerate(curves):
            ax.step(c["time"], c["surv"], where="post", color=GREYS[i % 3], ls=LINESTYLES[i % 3], lw=1.6,
                    label=c["label"])  # fmt: skip
        low = min(min(c["surv"]) for c in curves)
        ax.set_ylim(max(0.0, low - 0.05), 1.005)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("Event-free proportion")
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, loc="lower left", title="Genotype")
        return figure_data_uri(fig)


@_deferrable
def interaction_plot(series: list[dict], *, estimate_type: str, title: str, xlabel: str) -> str:
    """SNP effect (with 95% CI) at modifier levels or percentiles, one marker shape per variant.

    ``series``: one dict per variant with ``label`` and ``points`` (dicts with ``at`` (x label),
    ``estimate``, ``ci_lower``, ``ci_upper``; non-finite points are skipped).
    """
    log = estimate_type in ("OR", "HR")
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        labels = list(dict.fromkeys(p["at"] for s in series for p in s["points"]))
        ax.axhline(1.0 if log else 0.0, color="#777777", lw=0.9, ls="--", zorder=0)
        width = 0.6 / max(len(series), 1)
        for i, s in enumerate(series):
            for p in s["points"]:
                vals = (p["estimate"], p["ci_lower"], p["ci_upper"])
                if not all(np.isfinite(vals)) or (log and min(vals) <= 0):
                    continue
                x = labels.index(p["at"]) - 0.3 + width * (i + 0.5)
                ax.plot([x, x], [p["ci_lower"], p["ci_upper"]], color="black", lw=1.1)
                ax.plot(x, p["estimate"], marker=MARKERS[i % len(MARKERS)], color="black", mfc="white", ms=6,
                        label=s["label"] if p is s["points"][0] else None)  # fmt: skip
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels)
        ax.set_xlabel(xlabel)
        name = RATIO_NAMES.get(estimate_type, "Beta")
        ax.set_ylabel(f"{name} per effect allele" + (" (log)" if log else ""))
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, fontsize=8, loc="best")
        return figure_data_uri(fig)


@_deferrable
def power_bars(bars: list[tuple[str, float, float]], *, title: str, effect: str) -> str:
    """Compact horizontal bars: power per variant at alpha (black) and at the Bonferroni level
    (grey, hatched), with the 80% line. ``bars``: (variant name, power, power Bonferroni)."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 0.32 * len(bars) + 1.1))
        y = np.arange(len(bars))[::-1]
        nominal = [b[1] if np.isfinite(b[1]) else 0 for b in bars]
        bonf = [b[2] if np.isfinite(b[2]) else 0 for b in bars]
        ax.barh(y + 0.18, nominal, height=0.34, color="black", label="at alpha")
        ax.barh(
            y - 0.18, bonf, height=0.34, color="#bbbbbb", hatch="//", edgecolor="#555555", label="Bonferroni"
        )
        ax.axvline(0.8, color="#777777", ls="--", lw=0.9)
        ax.set_yticks(y)
        ax.set_yticklabels([b[0] for b in bars])
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"Power for {effect} per effect allele")
        ax.set_title(title, loc="left")
        ax.legend(frameon=False, fontsize=8, loc="lower right")
        return figure_data_uri(fig)
        return figure_data_uri(fig)


@_deferrable
def pvalue_heatmap(cells: pd.DataFrame, *, fdr: float = 0.05, cap: float = 20.0) -> str:
    """Heat map of -log10 p per variant x stratum, one panel per outcome, as a data URI.

    ``cells``: one row per outcome x variant x stratum with columns ``outcome``, ``variant``,
    ``stratum`` (display labels, in display order of first appearance), ``p_value`` (NaN: not
    estimated, drawn blank with a dot), ``direction`` (+1 the outcome (odds) higher with the
    effect allele, -1 lower, 0 unknown; printed as a triangle) and ``passes`` (q below ``fdr``
    within the outcome; drawn with a heavy border). Shading is grey, -log10 p capped at ``cap``;
    the report's caption explains the marks.
    """
    if missing := {"outcome", "variant", "stratum", "p_value", "direction", "passes"} - set(cells.columns):
        raise ValueError(f"pvalue_heatmap cells lack columns {sorted(missing)}")
    outcomes = list(dict.fromkeys(cells["outcome"]))
    variants = list(dict.fromkeys(cells["variant"]))
    strata = list(dict.fromkeys(cells["stratum"]))
    logp = -np.log10(cells["p_value"].astype(float).clip(lower=1e-300))
    vmax = float(min(cap, max(2.0, np.nanmax(logp.to_numpy()) if logp.notna().any() else 2.0)))
    ncol = 2 if len(outcomes) > 1 else 1
    nrow = math.ceil(len(outcomes) / ncol)
    width = ncol * (0.42 * len(strata) + 1.1) + 1.0
    height = nrow * (0.34 * len(variants) + 1.9) + 0.6
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrow, ncol, figsize=(width, height), squeeze=False, layout="constrained")
        img = None
        for idx, ax in enumerate(axes.flat):
            if idx >= len(outcomes):
                ax.set_visible(False)
                continue
            sub = cells[cells["outcome"] == outcomes[idx]]
            m = np.full((len(variants), len(strata)), np.nan)
            for r in sub.itertuples(index=False):
                i, j = variants.index(r.variant), strata.index(r.stratum)
                p = float(r.p_value)
                if np.isfinite(p):
                    m[i, j] = min(cap, -math.log10(max(p, 1e-300)))
                    colour = "white" if m[i, j] > 0.55 * vmax else "black"
                    mark = {1: "\u25b2", -1: "\u25bc"}.get(int(r.direction), "")
                    ax.text(j, i, mark, ha="center", va="center", fontsize=7, color=colour)
                    if r.passes:
                        ax.add_patch(
                            matplotlib.patches.Rectangle(
                                (j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.8, ec="black", zorder=3
                            )
                        )
                else:
                    ax.text(j, i, "\u00b7", ha="center", va="center", fontsize=8, color="#777777")
            img = ax.imshow(np.ma.masked_invalid(m), cmap="Greys", vmin=0, vmax=vmax, aspect="auto")
            ax.set_xticks(range(len(strata)))
            ax.set_xticklabels(strata, rotation=90, fontsize=8.5)
            ax.set_yticks(range(len(variants)))
            ax.set_yticklabels(variants if idx % ncol == 0 else [""] * len(variants))
            ax.spines[:].set_visible(False)
            ax.tick_params(length=0)
            ax.set_title(outcomes[idx], loc="left", fontsize=10)
        if img is not None:
            cbar = fig.colorbar(img, ax=axes.ravel().tolist(), fraction=0.03, pad=0.02)
            cbar.set_label(f"\u2212log10 p (capped at {cap:g})" if vmax >= cap else "\u2212log10 p")
        return figure_data_uri(fig)


def text_overlaps(fig, *, tolerance: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of texts drawn in ``fig`` whose window extents overlap (by more than ``tolerance``
    pixels both ways), measured with the figure's renderer during a draw (tick labels outside
    the view and other texts that are not drawn do not count)."""
    drawn = []
    original = matplotlib.text.Text.draw

    def record(self, renderer):
        result = original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append((self.get_text(), self.get_window_extent(renderer)))
        return result

    matplotlib.text.Text.draw = record
    try:
        fig.canvas.draw()
    finally:
        matplotlib.text.Text.draw = original
    boxes = [(text, bb) for text, bb in drawn if bb.width > 0 and bb.height > 0]
    out = []
    for i, (a_text, a) in enumerate(boxes):
        for b_text, b in boxes[i + 1 :]:
            if (
                min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance
                and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance
            ):
                out.append((a_text, b_text))
    return out


@_deferrable
def meta_forest_plot(cohorts: pd.DataFrame, pooled: pd.Series, *, title: str, decimals: int = 2) -> str:
    """Forest plot of one meta-analysed effect, as a data URI.

    Parameters
    ----------
    cohorts : one row per cohort (from ``meta_cohorts.tsv``) with ``cohort``, ``estimate``,
        ``ci_lower``, ``ci_upper``, ``weight_fixed`` and ``weight_random`` (percent); squares
        are sized by the random-effects weight (fixed when there is none).
    pooled : the ``meta_analysis.tsv`` row: fixed-effect diamond (``estimate``, ``ci_lower``,
        ``ci_upper``), random-effects diamond (``re_*``) with the prediction interval as a line
        under it (``pi_lower``, ``pi_upper``), ``tau2``, ``i2``, ``q_p_value``, ``estimate_type``.
    """
    required = {"cohort", "estimate", "ci_lower", "ci_upper", "weight_fixed", "weight_random"}
    if missing := required - set(cohorts.columns):
        raise ValueError(f"meta_forest_plot cohort rows lack columns {sorted(missing)}")
    if len(cohorts) == 0:
        raise ValueError("meta_forest_plot needs at least one cohort")
    log = pooled["estimate_type"] == "OR"
    k = len(cohorts)
    has_re = np.isfinite(float(pooled.get("re_estimate", np.nan)))
    labels = (
        list(cohorts["cohort"]) + ["Fixed effect"] + (["Random effects", "95% prediction"] if has_re else [])
    )
    n_rows = len(labels)
    weights = cohorts["weight_random"].to_numpy(float)
    if not np.isfinite(weights).all():
        weights = cohorts["weight_fixed"].to_numpy(float)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.6, 0.34 * n_rows + 1.3))
        y = np.arange(n_rows)[::-1].astype(float)
        ref = 1.0 if log else 0.0
        ax.axvline(ref, color="#777777", lw=0.9, ls="--", zorder=0)
        texts = []
        for i, r in enumerate(cohorts.itertuples()):
            ax.plot([r.ci_lower, r.ci_upper], [y[i], y[i]], color="black", lw=1.2)
            ax.plot(r.estimate, y[i], marker="s", ms=4 + 8 * math.sqrt(weights[i] / 100), color="black")
            texts.append((r.estimate, r.ci_lower, r.ci_upper, f"{weights[i]:.1f}%"))
        diamonds = [("estimate", "ci_lower", "ci_upper", "black")]
        if has_re:
            diamonds.append(("re_estimate", "re_ci_lower", "re_ci_upper", "#777777"))
        for j, (est, lo, hi, colour) in enumerate(diamonds):
            yy = y[k + j]
            e, lo_, hi_ = (float(pooled[c]) for c in (est, lo, hi))
            ax.fill([lo_, e, hi_, e], [yy, yy + 0.3, yy, yy - 0.3], color=colour, ec="black", lw=0.8)
            texts.append((e, lo_, hi_, ""))
        if has_re:
            lo_, hi_ = float(pooled["pi_lower"]), float(pooled["pi_upper"])
            ax.plot([lo_, hi_], [y[-1], y[-1]], color="black", lw=1.2, ls=":")
            ax.plot([lo_, lo_], [y[-1] - 0.15, y[-1] + 0.15], color="black", lw=1.2)
            ax.plot([hi_, hi_], [y[-1] - 0.15, y[-1] + 0.15], color="black", lw=1.2)
            texts.append((np.nan, lo_, hi_, ""))
        vals = np.array([v for t in texts for v in t[1:3]] + [ref], dtype=float)
        vals = vals[np.isfinite(vals) & ((vals > 0) if log else True)]
        vmin, vmax = vals.min(), vals.max()
        if log:
            ax.set_xscale("log")
            vmin, vmax = math.log(vmin), math.log(vmax)
        pad = 0.08 * (vmax - vmin or 1.0)
        lim = (vmin - pad, vmax + pad)
        ax.set_xlim(*(np.exp(lim) if log else lim))
        if log:
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_ylim(-0.7, n_rows - 0.3)
        ax.set_xlabel("Odds ratio (95% CI, log scale)" if log else "Beta (95% CI)")
        ax.set_title(title, loc="left", pad=20)
        trans = matplotlib.transforms.blended_transform_factory(ax.transAxes, ax.transData)
        for head, x in (("weight", 1.03), (f"{pooled['estimate_type']} (95% CI)", 1.17)):
            ax.text(x, n_rows - 0.35, head, transform=trans, fontsize=9, weight="bold", va="bottom")
        for i, (e, lo_, hi_, w) in enumerate(texts):
            ax.text(1.03, y[i], w, transform=trans, fontsize=9, va="center")
            inner = f"{lo_:.{decimals}f}, {hi_:.{decimals}f}"
            text = (f"{e:.{decimals}f} ({inner})" if np.isfinite(e) else f"({inner})").replace("-", "\u2212")
            ax.text(1.17, y[i], text, transform=trans, fontsize=9, va="center")
        foot = f"Heterogeneity: I2 = {float(pooled['i2']):.0f}%, Q p = {_fmt_p(float(pooled['q_p_value']))}"
        if has_re:
            foot += f", tau2 = {float(pooled['tau2']):.3g} ({pooled['re_method']})"
        fig.text(0.01, -0.02, foot, fontsize=9, ha="left", va="top")
        fig.subplots_adjust(right=0.6)
        return figure_data_uri(fig)
