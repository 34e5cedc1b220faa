"""Figures a clinician reads at a glance (issue 19): the sweep panels and the overlay.

Headless (Agg). `overlapping_texts(fig)` is reusable: it lists the pairs of visible texts of a
figure whose boxes overlap once drawn.
"""

import itertools
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

import biomech as bm  # noqa: E402
from biomech import viz  # noqa: E402
from biomech.names import LUMBAR_LEVELS  # noqa: E402
from biomech.runner import run_scenario  # noqa: E402
from biomech.scenario import load_scenario  # noqa: E402
from biomech.viz import drawing, figures  # noqa: E402


# ------------------------------------------------------------------------------------------
# Overlapping texts (reusable)
# ------------------------------------------------------------------------------------------
def _drawn_tick_labels(axis) -> list:
    """The tick labels an Axis draws: visible, non-empty, at a tick inside the view."""
    lo, hi = sorted(axis.get_view_interval())
    eps = 1e-9 * max(abs(hi - lo), 1.0)
    out = []
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        loc = tick.get_loc()
        if loc is None or not lo - eps <= loc <= hi + eps:
            continue
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                out.append(label)
    return out


def _extent(text, renderer):
    """The window extent of a drawn text (with its box, if any), cut to its clip box; None
    when nothing of it shows."""
    bb = text.get_window_extent(renderer)
    patch = text.get_bbox_patch()
    if patch is not None:
        bb = Bbox.union([bb, patch.get_window_extent(renderer)])
    if text.get_clip_on() and text.get_clip_box() is not None:
        bb = Bbox.intersection(bb, text.get_clip_box())
    if bb is None or bb.width <= 0 or bb.height <= 0:
        return None
    return bb


def overlapping_texts(fig, *, tolerance_px: float = 1.0) -> list:
    """Pairs of visible texts of ``fig`` whose boxes overlap once the figure is drawn on an
    Agg canvas: titles, axis labels, tick labels, texts and annotations, legend texts, the
    suptitle. Tick labels of one Axis are not compared with each other. ``tolerance_px``:
    overlaps narrower or lower than this (pixels) do not count.

    Returns a list of pairs ``(text_a, text_b)`` of `matplotlib.text.Text`.
    """
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    group = {}                                  # tick label -> its Axis
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for axis in (ax.xaxis, ax.yaxis):
            for label in _drawn_tick_labels(axis):
                group[label] = axis
    tick_labels = {id(t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                   for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                   for t in (tick.label1, tick.label2)}
    texts = []
    for t in fig.findobj(Text):
        if id(t) in tick_labels and t not in group:
            continue                            # a tick label that is not drawn
        if not t.get_visible() or not t.get_text().strip():
            continue
        if t.axes is not None and not t.axes.get_visible():
            continue
        texts.append(t)
    texts = list(dict.fromkeys(texts))
    boxes = [(t, _extent(t, renderer)) for t in texts]
    boxes = [(t, b) for t, b in boxes if b is not None]
    pairs = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        if a in group and b in group and group[a] is group[b]:
            continue
        inter = Bbox.intersection(ba, bb)
        if inter is not None and inter.width > tolerance_px and inter.height > tolerance_px:
            pairs.append((a, b))
    return pairs


def _describe(pairs) -> str:
    return "; ".join(f"{a.get_text()[:40]!r} / {b.get_text()[:40]!r}" for a, b in pairs)


# ------------------------------------------------------------------------------------------
# Reports (as tests/test_plotting.py builds them)
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.make_model()


def _report(model, tension_N=None):
    settings = {} if tension_N is None else {"psoas": bm.MuscleSetting(tension_N=tension_N)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = bm.solve_equilibrium(model, support=bm.Support("standing"), settings=settings)
    assert r.success
    return bm.posture_report(r)


@pytest.fixture(scope="module")
def sweep(model):
    values = [0.0, 150.0, 300.0]              # 0 N: the relaxed psoas (no setting)
    return values, [_report(model, v or None) for v in values]


@pytest.fixture(scope="module")
def sweep_out(sweep):
    values, reports = sweep
    fig = Figure(figsize=(8.5, 11.5))
    return viz.plot_sweep(fig, values, reports, parameter="muscles.psoas.tension_N")


def _bar_axes(fig):
    (ax,) = [ax for ax in fig.axes if ax.get_label() == "differences"]
    return ax


# ------------------------------------------------------------------------------------------
# Sweep panels
# ------------------------------------------------------------------------------------------
def test_group_colours_are_all_different():
    colours = [to_hex(c) for c in drawing.GROUP_COLOURS.values()]
    assert len(set(colours)) == len(colours)


def test_sweep_panel_c_lines_have_their_group_colour(sweep_out):
    ax = sweep_out["axes"][2]
    by_name = {g.replace("_", " "): g for g in drawing.GROUP_COLOURS}
    lines = [ln for ln in sweep_out["lines"] if ln.axes is ax]
    assert len(lines) >= 3
    for ln in lines:
        group = by_name[ln.get_label()]
        assert to_hex(ln.get_color()) == to_hex(drawing.group_colour(group)), group
        assert ln.get_linestyle() == "-", group
    assert len({to_hex(ln.get_color()) for ln in lines}) == len(lines)
    # the legend says which is which; the groups left out are named in it, after the others
    leg = sweep_out["legends"][2]
    names = [t.get_text() for t in leg.get_texts()]
    assert names[:len(lines)] == [ln.get_label() for ln in lines]
    for note in sweep_out["omitted"]:
        assert note in leg.get_texts() and "not shown" in note.get_text()


def test_sweep_panel_d_tells_compression_from_shear(sweep_out):
    ax = sweep_out["axes"][3]
    lines = {ln.get_label(): ln for ln in sweep_out["lines"] if ln.axes is ax}
    for joint in ("L4_L5", "L5_S1"):
        comp, shear = lines[f"{joint} compression"], lines[f"{joint} anterior shear"]
        assert comp.get_linestyle() != shear.get_linestyle()
        assert comp.get_marker() != shear.get_marker()
        assert to_hex(comp.get_color()) == to_hex(shear.get_color())      # one colour per joint
    assert to_hex(lines["L4_L5 compression"].get_color()) != to_hex(lines["L5_S1 compression"].get_color())
    leg = sweep_out["legends"][3]
    assert leg.handlelength >= 2.5


# ------------------------------------------------------------------------------------------
# Overlay
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_others", [1, 2])
def test_overlay_has_a_title_and_bars_of_the_changes(sweep, n_others):
    _values, reports = sweep
    reps = [reports[0]] + reports[1:1 + n_others]
    labels = ["neutral", "psoas 150 N", "psoas 300 N"][:len(reps)]
    fig = viz.overlay_figure(reps, labels)
    title = fig._suptitle.get_text()
    assert title.strip() and "neutral" in title and "reference" in title and labels[1] in title
    ax = _bar_axes(fig)
    cats = [t.get_text() for t in ax.get_xticklabels()]
    assert cats == list(LUMBAR_LEVELS) + [lab for _k, lab in figures.DIFFERENCE_BARS]
    assert ax.get_ylabel() == "change from reference (°)"
    assert len(ax.containers) == n_others
    ref = reps[0].metrics

    def value(m, cat):
        if cat in LUMBAR_LEVELS:
            return m["segmental_lordosis_deg"][cat]
        return m[dict((lab, k) for k, lab in figures.DIFFERENCE_BARS)[cat]]

    overlay_colours = figures.OKABE_ITO
    for k, (bars, rep) in enumerate(zip(ax.containers, reps[1:])):
        assert len(bars.patches) == len(cats)
        want = [value(rep.metrics, c) - value(ref, c) for c in cats]
        np.testing.assert_allclose([p.get_height() for p in bars.patches], want, atol=1e-9, rtol=0)
        # each bar sits over its category, in the posture's overlay colour
        centres = [p.get_x() + p.get_width() / 2 for p in bars.patches]
        np.testing.assert_allclose(np.round(centres), np.arange(len(cats)))
        assert {to_hex(p.get_facecolor()) for p in bars.patches} == {to_hex(overlay_colours[k])}
        assert bars.get_label() == labels[k + 1]
    # value labels on the bars and a zero line
    labelled = [t.get_text() for t in ax.texts]
    assert len(labelled) == n_others * len(cats)
    assert labelled[0] == drawing.signed(ax.containers[0].patches[0].get_height())
    assert any(np.allclose(ln.get_ydata(), 0.0) for ln in ax.lines)


def test_overlay_title_keyword_and_a_single_posture(sweep):
    _values, reports = sweep
    fig = viz.overlay_figure(reports[:2], ["a", "b"], title="my comparison")
    assert fig._suptitle.get_text() == "my comparison"
    fig = viz.overlay_figure(reports[:1], ["only"])
    assert fig._suptitle.get_text() == "only"
    assert not [ax for ax in fig.axes if ax.get_label() == "differences"]
    with pytest.raises(ValueError):
        viz.overlay_figure(reports[:2], ["one label"])


# ------------------------------------------------------------------------------------------
# No text over another
# ------------------------------------------------------------------------------------------
def test_overlapping_texts_finds_an_overlap():
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, "first text here", transform=ax.transAxes)
    ax.text(0.52, 0.5, "second text", transform=ax.transAxes)
    ax.set_title("alone")
    assert len(overlapping_texts(fig)) == 1
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.set_title("alone")
    ax.set_xlabel("x label")
    assert overlapping_texts(fig) == []


def test_no_text_overlaps_in_the_sweep_figure(sweep):
    values, reports = sweep
    fig = viz.sweep_figure(values, reports, parameter="muscles.psoas.tension_N")
    pairs = overlapping_texts(fig)
    assert not pairs, _describe(pairs)


@pytest.mark.parametrize("n_others", [1, 2])
def test_no_text_overlaps_in_the_overlay_figure(sweep, n_others):
    _values, reports = sweep
    reps = [reports[0]] + reports[1:1 + n_others]
    fig = viz.overlay_figure(reps, ["neutral standing", "psoas tension 150 N",
                                    "psoas tension 300 N"][:len(reps)])
    pairs = overlapping_texts(fig)
    assert not pairs, _describe(pairs)


def test_long_labels_stay_inside_the_overlay_figure(sweep):
    """A sweep of several parameters labels its postures with every parameter: the table's
    legend and the bars' legend wrap them to the right-hand column, so no text runs off the
    figure (a PNG is cropped to the canvas: what runs past it is lost)."""
    _values, reports = sweep
    labels = ["psoas.tension_N = 30, rectus_abdominis.tension_N = 7, transversus_abdominis.tension_N = 24",
              "psoas.tension_N = 500, rectus_abdominis.tension_N = 250, transversus_abdominis.tension_N = 250"]
    fig = viz.overlay_figure(reports[:2], labels)
    assert any("transversus_abdominis.tension_N = 250" in t.get_text().replace("\n", " ")
               for t in fig.findobj(Text))
    assert _texts_outside(fig) == []


def _texts_outside(fig) -> list[str]:
    """The visible texts of ``fig`` that run past its canvas once drawn (a PNG is cropped to
    the canvas: what runs past it is lost)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = canvas.get_width_height()
    out = []
    for t in fig.findobj(Text):
        bb = _extent(t, renderer) if t.get_visible() and t.get_text().strip() else None
        if bb is not None and not (bb.x0 >= -1 and bb.x1 <= width + 1 and bb.y0 >= -1 and bb.y1 <= height + 1):
            out.append(t.get_text()[:60])
    return out


def test_the_two_legged_values_box_stays_inside_the_posture_figure():
    """The Thomas test (two legs, lying): the box of values, with its right/left rows, stays
    inside the figure."""
    run = run_scenario(load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "exercises"
                                     / "thomas_test.toml"))
    assert _texts_outside(viz.posture_figure(run.points[0].report)) == []


# ------------------------------------------------------------------------------------------
# Side by side (issue 15: "does this stretch stretch the psoas?")
# ------------------------------------------------------------------------------------------
def test_side_by_side_bars_are_the_reports_values(sweep):
    reports = [sweep[1][0], sweep[1][-1]]
    fig = figures.side_by_side_figure(reports, ["relaxed", "loaded"])
    axes = fig.axes
    assert len(axes) == len(figures.SIDE_BY_SIDE) and fig._suptitle.get_text()
    for ax, (key, _label) in zip(axes, figures.SIDE_BY_SIDE):
        heights = [b.get_height() for b in ax.patches]
        if key == "psoas_length":
            want = [float(np.mean(r.length_change_percent[r.result.problem.model.group_lines("psoas")]))
                    for r in reports]
            dots = [ln.get_ydata() for ln in ax.lines if ln.get_marker() == "o"]   # per fascicle
            assert len(dots) == len(reports)
            for r, d in zip(reports, dots):
                np.testing.assert_allclose(
                    d, r.length_change_percent[r.result.problem.model.group_lines("psoas")])
        else:
            want = [r.metrics[key] for r in reports]
        np.testing.assert_allclose(heights, want, rtol=0, atol=1e-12)
    pairs = overlapping_texts(fig)
    assert not pairs, _describe(pairs)
    with pytest.raises(ValueError):
        figures.side_by_side_figure(reports, ["one label"])
