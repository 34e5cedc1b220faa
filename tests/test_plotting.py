"""Figures (biomech.viz): what is drawn, and that files are written. Headless (Agg)."""

import dataclasses
import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import biomech as bm
from biomech import viz
from biomech.viz import agg
from biomech.names import JOINTS

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.make_model()


def _solve(model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return bm.solve_equilibrium(model, **kw)


@pytest.fixture(scope="module")
def psoas300(model):
    r = _solve(model, support=bm.Support("standing"), settings={"psoas": bm.MuscleSetting(tension_N=300)})
    assert r.success
    return bm.posture_report(r)


@pytest.fixture(scope="module")
def neutral(model):
    r = _solve(model, support=bm.Support("standing"))
    assert r.success
    return bm.posture_report(r)


@pytest.fixture(scope="module")
def not_converged(model):
    # without short-range stiffness the relaxed spine cannot carry the trunk (docs/model.md §6)
    r = _solve(model, short_range_stiffness=0)
    assert not r.success
    return bm.posture_report(r)


@pytest.fixture(scope="module")
def unstable(psoas300):
    """A converged but unstable posture (the result's status replaced; the geometry is real)."""
    res = dataclasses.replace(psoas300.result, stable=False, code=bm.Status.UNSTABLE,
                              message="the equilibrium is unstable (constructed for the test)")
    return bm.posture_report(res)


def _texts(out, *keys):
    return "\n".join(a.get_text() for k in keys for a in out[k] if hasattr(a, "get_text"))


def _deg(v):
    """How the figures round a value: whole units, never "-0"."""
    return f"{round(float(v)) + 0:.0f}"


def _ax():
    fig = Figure(figsize=(6, 8))
    return fig, fig.add_subplot()


# ------------------------------------------------------------------------------------------
def test_plot_posture_draws_one_line_per_muscle_coloured_by_group_widened_by_force(psoas300):
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300, label="psoas 300 N")
    p = psoas300.result.problem
    geo = psoas300.geometry
    n_lines = sum(1 for i in range(p.model.n_muscles)
                  if p.paths.line_ptr[i + 1] - p.paths.line_ptr[i] >= 2 and geo.length[i] > 0)
    (coll,) = out["muscles"]
    assert isinstance(coll, LineCollection) and coll in ax.collections
    assert len(coll.get_paths()) == n_lines
    # width and colour follow the force: the strongest line is the widest, weakest the thinnest
    f = np.asarray(psoas300.muscle_force)[coll.muscle_index]
    lw = np.asarray(coll.get_linewidths())
    assert lw[np.argmax(f)] == pytest.approx(lw.max())
    assert lw[np.argmin(f)] == pytest.approx(lw.min())
    assert lw.max() > lw.min()
    # the colour is the line's group's, the opacity grows with force
    groups = [p.model.muscle_group[i] for i in coll.muscle_index]
    rgba = np.asarray(coll.get_colors())
    assert [to_hex(c[:3]) for c in rgba] == [to_hex(viz.drawing.group_colour(g)) for g in groups]
    assert rgba[np.argmax(f), 3] > rgba[np.argmin(f), 3]
    # each path runs along its muscle line
    i0 = int(coll.muscle_index[-1])
    path = coll.get_paths()[-1].vertices
    np.testing.assert_allclose(path, geo.points[p.paths.line_ptr[i0]:p.paths.line_ptr[i0 + 1]])
    assert ax.get_title() == "psoas 300 N"


def test_the_cavity_is_drawn_as_deep_as_the_model_has_it(psoas300):
    """The shaded capsule spans the model's cavity: ± `Cavity.half_depth_m` across its axis,
    from the front of L3 to the anterior wall (the drawing in metres)."""
    fig, ax = _ax()
    (patch,) = viz.plot_posture(ax, psoas300)["cavity"]
    f, d = np.asarray(psoas300.geometry.cavity, float)
    e = (d - f) / np.linalg.norm(d - f)
    across = (patch.get_xy() - f) @ np.array([-e[1], e[0]])
    half = psoas300.result.problem.model.cavity.half_depth_m
    np.testing.assert_allclose([across.min(), across.max()], [-half, half], rtol=1e-9)


def test_plot_posture_group_legend_and_axis_units(psoas300):
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300)
    (leg,) = out["legend"]
    labels = [t.get_text() for t in leg.get_texts()]
    model = psoas300.result.problem.model
    drawn = {model.muscle_group[i] for i in out["muscles"][0].muscle_index}
    # the last entry: the shaded abdominal cavity, as drawn (its opacity grows with the pressure)
    assert labels[-1] == "abdominal cavity (darker: higher pressure)" and len(out["cavity"]) == 1
    assert leg.legend_handles[-1].get_alpha() == out["cavity"][0].get_alpha()
    labels = labels[:-1]
    named = [lab for lab in labels if not lab.startswith("one line at")]
    assert len(named) == len(drawn)                 # every group drawn, once, with its total
    for g in drawn:
        total = float(np.sum(np.asarray(psoas300.muscle_force)[model.group_lines(g)]))
        (lab,) = [x for x in named if x.split("  ")[0] == g.replace("_", " ")]
        assert lab.split("  ")[1] == f"{total:.0f} N"
    handles = leg.legend_handles
    for lab, h in zip(labels, handles):
        if lab in named:
            assert to_hex(h.get_color()) == to_hex(viz.drawing.group_colour(
                lab.split("  ")[0].replace(" ", "_")))
    widths = [h.get_linewidth() for lab, h in zip(labels, handles) if lab.startswith("one line at")]
    assert len(widths) == 3 and widths == sorted(widths) and widths[0] < widths[-1]
    assert not out["highlight"]                     # nothing set: nothing singled out
    assert ax.get_xlabel() == "x, anterior (m)"
    assert ax.get_ylabel() == "y, superior (m)"
    assert ax.get_aspect() == 1.0
    assert not out["status"]          # a stable posture gets no red note


def test_a_scenarios_own_muscle_is_drawn_on_top_labelled_and_named_first(psoas300):
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300, highlight=["psoas"])
    model = psoas300.result.problem.model
    (coll,) = out["muscles"]
    psoas = set(model.group_lines("psoas").tolist())
    order = [int(i) in psoas for i in coll.muscle_index]
    k = order.index(True)
    assert all(order[k:]) and sum(order) == len(psoas)          # drawn last: on top
    lw = np.asarray(coll.get_linewidths())
    assert lw[k:].min() >= 0.5 * viz.STYLE["muscle_lw"][1]
    (label,) = out["highlight"]
    total = float(np.sum(np.asarray(psoas300.muscle_force)[list(psoas)]))
    change = float(np.mean(psoas300.length_change_percent[sorted(psoas)]))
    assert label.get_text() == f"psoas {total:.0f} N, length {change:+.1f} %"
    assert to_hex(label.get_color()) == to_hex(viz.drawing.group_colour("psoas"))
    (leg,) = out["legend"]
    assert leg.get_texts()[0].get_text().startswith("psoas") and "set by the scenario" in \
        leg.get_texts()[0].get_text()
    # a single line's name works like its group's
    one = model.muscle_names[sorted(psoas)[0]]
    np.testing.assert_array_equal(viz.drawing.highlighted_lines(model, [one, "no_such_muscle"]),
                                  [sorted(psoas)[0]])


def test_the_legend_of_a_scenarios_own_muscles_fits_inside_the_posture_figure(psoas300):
    # the long "(set by the scenario)" entries once ran off the figure's right edge
    fig = viz.posture_figure(psoas300, highlight=["psoas", "rectus_abdominis", "external_oblique",
                                                 "internal_oblique", "transversus_abdominis"])
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
    assert legends
    for leg in legends:
        ext = leg.get_window_extent(renderer)
        assert fig.bbox.x0 - 1 <= ext.x0 and ext.x1 <= fig.bbox.x1 + 1, (ext, fig.bbox)


def test_group_colours_are_distinct_and_cover_every_group():
    from biomech.names import MUSCLE_GROUPS
    colours = [to_hex(viz.drawing.group_colour(g)) for g in MUSCLE_GROUPS]
    assert len(set(colours)) == len(MUSCLE_GROUPS)
    assert set(viz.drawing.GROUP_COLOURS) == set(MUSCLE_GROUPS)


def test_plot_posture_angle_values_match_the_report(psoas300):
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300)
    m = psoas300.metrics
    on_drawing = _texts(out, "angle_texts")
    box = _texts(out, "values")
    for abbr, key in (("PI", "pelvic_incidence_deg"), ("SS", "sacral_slope_deg"),
                      ("PT", "pelvic_tilt_deg"), ("LL", "lumbar_lordosis_deg")):
        assert f"{abbr} {_deg(m[key])}°" in on_drawing          # next to its construction
        assert any(line.split()[:2] == [abbr, f"{_deg(m[key])}°"] for line in box.splitlines()), abbr
    assert f"SVA {_deg(m['sagittal_vertical_axis_mm'])} mm" in on_drawing
    for abbr, key in (("APT", "anterior_pelvic_tilt_deg"), ("TI", "trunk_inclination_deg")):
        assert any(line.split()[:2] == [abbr, f"{_deg(m[key])}°"] for line in box.splitlines()), abbr
    assert len(out["angles"]) >= 10   # plate, horizontal, arcs, S->H, perpendicular, vertical...


def test_plot_posture_options(psoas300):
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300, muscles=False, angles=False, legend=True)
    assert not out["muscles"] and not out["angles"] and not out["values"] and not out["legend"]
    assert len(out["bones"]) > 10 and len(out["discs"]) == 6        # L5_S1 ... T12_L1
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300, ghost=True)
    assert not out["muscles"] and not out["angles"] and not out["legend"] and not out["labels"]
    assert not ax.collections
    fig, ax = _ax()
    out = viz.plot_posture(ax, psoas300, reactions=True, legend=False)
    text = _texts(out, "reactions")
    for name in ("L4_L5", "L5_S1"):
        j = JOINTS.index(name)
        assert f"{name}: {psoas300.compression[j]:.0f} N" in text


def test_plot_posture_marks_failed_postures(not_converged, unstable):
    for rep, word in ((not_converged, "NOT CONVERGED" if not not_converged.result.converged else "UNSTABLE"),
                      (unstable, "UNSTABLE")):
        fig, ax = _ax()
        out = viz.plot_posture(ax, rep, legend=False)
        (note,) = out["status"]
        assert word in note.get_text()
        assert to_hex(note.get_color()) == to_hex(viz.STYLE["fail"])


def test_plot_overlay_legend_and_differences(neutral, psoas300):
    fig, ax = _ax()
    out = viz.plot_overlay(ax, [neutral, psoas300], ["neutral", "psoas 300 N"])
    (leg,) = out["legend"]
    labels = [t.get_text() for t in leg.get_texts()]
    assert len(labels) == 2
    assert labels[0].startswith("neutral") and "reference" in labels[0]
    assert labels[1] == "psoas 300 N"
    (table,) = out["table"]
    text = table.get_text()
    d_ll = psoas300.metrics["lumbar_lordosis_deg"] - neutral.metrics["lumbar_lordosis_deg"]
    assert f"{round(d_ll, 1) + 0.0:+.1f}" in text and "LL" in text and "SVA" in text
    # the psoas's length change from relaxed standing, the reference's and the difference
    lps = [float(np.mean(r.length_change_percent[r.result.problem.model.group_lines("psoas")]))
           for r in (neutral, psoas300)]
    (row,) = [r for r in text.splitlines() if r.startswith("Lps") and r.endswith("%")]
    assert row.split() == ["Lps", f"{lps[0]:.1f}", viz.drawing.signed(lps[1] - lps[0]), "%"]
    assert len(out["bones"]) == 2
    assert "(m)" in ax.get_xlabel() and "(m)" in ax.get_ylabel()
    with pytest.raises(ValueError):
        viz.plot_overlay(ax, [neutral, psoas300], ["only one label"])


def test_plot_sweep_panels_units_and_failed_points(model, neutral, psoas300, unstable):
    values = [0.0, 150.0, 300.0, 450.0]
    reports = [neutral, None, psoas300, unstable]           # None: a point that could not be solved
    fig = Figure(figsize=(8, 10))
    out = viz.plot_sweep(fig, values, reports, parameter="muscles.psoas.tension_N")
    axes = out["axes"]
    assert len(axes) == 4 and len(fig.axes) == 4
    assert axes[-1].get_xlabel() == "psoas tension (N)"
    units = [ax.get_ylabel() for ax in axes]
    assert units[0].endswith("(°)") and units[1].endswith("(°)")
    assert units[2].endswith("(N)") and units[3].endswith("(N)")
    # the failed point is a gap (NaN), the others are plotted
    ll = next(ln for ln in out["lines"] if ln.get_label() == "LL (L1-S1)")
    y = np.asarray(ll.get_ydata(), float)
    assert np.isnan(y[1]) and np.all(np.isfinite(y[[0, 2, 3]]))
    assert y[2] == pytest.approx(psoas300.metrics["lumbar_lordosis_deg"])
    # marked in every panel, and named in the note
    assert len(out["failed"]) == 4
    assert len(out["unstable"]) >= 4
    for mk in out["failed"] + out["unstable"]:
        assert mk.get_marker() == "x" and to_hex(mk.get_color()) == to_hex(viz.STYLE["fail"])
    note = _texts(out, "notes")
    assert "NOT SOLVED" in note and "150" in note                 # no result at all
    assert "unstable" in note and "450" in note
    # a point that is not an answer is named by its status code (here a frozen body that fell)
    fig = Figure(figsize=(8, 10))
    statuses = [None, {"code": "fallen", "converged": False, "stable": None}, None, None]
    note = _texts(viz.plot_sweep(fig, values, [neutral, neutral, psoas300, psoas300],
                                 parameter="muscles.psoas.tension_N", statuses=statuses), "notes")
    assert note.startswith("× FALLEN: not balanced on the support") and "150" in note
    # group forces: psoas total equals its setting
    psoas = next(ln for ln in out["lines"] if ln.get_label() == "psoas")
    assert np.asarray(psoas.get_ydata(), float)[2] == pytest.approx(300.0)


def test_plot_sweep_statuses_override_and_length_check(neutral, psoas300):
    fig = Figure()
    out = viz.plot_sweep(fig, [1, 2], [neutral, psoas300], parameter="subject.body_mass_kg",
                              statuses=["ok", {"converged": False, "stable": None}])
    assert out["axes"][-1].get_xlabel() == "body mass (kg)"
    assert len(out["failed"]) == 4
    with pytest.raises(ValueError):
        viz.plot_sweep(Figure(), [1, 2, 3], [neutral], parameter="x")


@pytest.mark.parametrize("key, label", [
    ("muscles.psoas.tension_N", "psoas tension (N)"),
    ("muscles.psoas_L1_VB.activation", "psoas L1 VB activation (0-1)"),
    ("subject.pelvic_incidence_deg", "pelvic incidence (°)"),
    ("support.thigh_inclination_deg", "thigh inclination (°)"),
    ("muscles.hamstrings.resting_length_scale", "hamstrings resting length scale (× default)"),
])
def test_parameter_label(key, label):
    assert viz.parameter_label(key) == label


def test_figures_and_files(tmp_path, neutral, psoas300, not_converged):
    figs = {
        "posture": viz.posture_figure(psoas300, title="psoas 300 N"),
        "overlay": viz.overlay_figure([neutral, psoas300, not_converged],
                                           ["neutral", "psoas 300 N", "no SRS"]),
        "sweep": viz.sweep_figure([0, 300, 600], [neutral, psoas300, not_converged],
                                       parameter="muscles.psoas.tension_N"),
    }
    for name, fig in figs.items():
        assert type(fig) is Figure
        path = viz.save_figure(fig, tmp_path / f"{name}.png", dpi=80)
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 10_000, name
    assert figs["posture"]._suptitle.get_text() == "psoas 300 N"
    viz.save_figure(figs["posture"], tmp_path / "posture.svg")
    viz.save_figure(figs["posture"], tmp_path / "posture.pdf")
    assert b"<svg" in (tmp_path / "posture.svg").read_bytes()[:2000]
    assert (tmp_path / "posture.pdf").read_bytes()[:5] == b"%PDF-"
    # atomic: only the finished files, no temporary ones left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["posture.png", "overlay.png", "sweep.png", "posture.svg", "posture.pdf"])
    with pytest.raises(ValueError):
        viz.save_figure(figs["posture"], tmp_path / "posture.jpg")
    assert not (tmp_path / "posture.jpg").exists()


def test_matplotlib_only_in_plotting_and_never_pyplot():
    code = ("import sys, biomech, biomech.results, biomech.statics\n"
            "assert not any(m.startswith('matplotlib') for m in sys.modules), 'biomech imports matplotlib'\n"
            "import biomech.viz\n"
            "assert 'matplotlib.pyplot' not in sys.modules, 'plotting imports pyplot'\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    src = "".join((ROOT / "biomech" / "viz" / f).read_text() for f in ("drawing.py", "figures.py"))
    assert "plt.show" not in src and ".show(" not in src


def test_make_gallery_main(tmp_path):
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "scripts" / "make_gallery.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.__doc__
    rc = mod.main(["--out", str(tmp_path / "gallery"), "--points", "2", "--dpi", "60"])
    assert rc == 0
    for name in ("posture.png", "overlay.png", "sweep.png"):
        data = (tmp_path / "gallery" / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 10_000
    assert mod.main(["--out", str(tmp_path / "g2"), "--points", "1"]) == 2


def _agg_pixels(fig, canvas_class, dpi=60):
    fig.set_dpi(dpi)
    canvas = canvas_class(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


@pytest.mark.skipif(not agg.FAST_TEXT, reason="the fast text canvas follows matplotlib 3.11 only")
def test_fast_text_canvas_draws_the_pixels_of_matplotlibs_agg(neutral, psoas300, not_converged):
    """`viz.agg.FigureCanvas` (text laid out once, fonts sized once per string, lines beyond
    the clip skipped) draws every figure, rotated and clipped text included, pixel for pixel as
    matplotlib's own Agg canvas, and the same extent is saved."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from biomech.viz.agg import FigureCanvas
    from biomech.viz.figures import _ticks_as_drawn

    def figures():
        fig, ax = _ax()
        ax.text(0.5, 0.5, "rotated 30°", rotation=30, clip_on=True)
        ax.text(50.0, 50.0, "far outside the view", clip_on=True)      # skipped: no pixel
        ax.text(1.0, 0.5, "half outside, clipped", clip_on=True)
        ax.text(0.1, 0.2, "two\nlines $x^2$", fontweight="bold")        # math: matplotlib's path
        return [fig, viz.posture_figure(psoas300, title="psoas 300 N"),
                viz.overlay_figure([neutral, not_converged], ["neutral", "no SRS"]),
                viz.sweep_figure([0, 300], [neutral, psoas300], parameter="muscles.psoas.tension_N")]
    for ours, theirs in zip(figures(), figures()):
        assert np.array_equal(_agg_pixels(ours, FigureCanvas), _agg_pixels(theirs, FigureCanvasAgg))
        with _ticks_as_drawn(ours):
            kept = ours.get_tightbbox(ours.canvas.get_renderer()).bounds
        assert kept == theirs.get_tightbbox(theirs.canvas.get_renderer()).bounds
        assert all("_update_ticks" not in axis.__dict__ for ax in ours.axes for axis in (ax.xaxis, ax.yaxis))


def test_write_png_is_the_image_cropped_padded_white_with_its_dpi(tmp_path):
    from PIL import Image
    from biomech.viz.agg import write_png
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (30, 40, 4), dtype=np.uint8)
    write_png(tmp_path / "all.png", rgba, 150)
    with Image.open(tmp_path / "all.png") as im:
        assert im.mode == "RGB" and im.size == (40, 30)
        assert np.array_equal(np.asarray(im), rgba[..., :3])
        assert im.info["dpi"] == pytest.approx((150, 150), abs=0.05)
    write_png(tmp_path / "crop.png", rgba, 80, (-2, 10, 5, 45))    # rows -2..9, columns 5..44
    with Image.open(tmp_path / "crop.png") as im:
        got = np.asarray(im)
    assert got.shape == (12, 40, 3)
    assert np.array_equal(got[2:, :35], rgba[:10, 5:, :3])
    assert (got[:2] == 255).all() and (got[:, 35:] == 255).all()


def test_saving_figures_leaves_the_garbage_collector_as_it_was(tmp_path, psoas300):
    import gc
    from biomech.runner import _figure_gc
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            with _figure_gc():
                assert not gc.isenabled()
                viz.save_figure(viz.posture_figure(psoas300), tmp_path / "p.png", dpi=40)
            assert gc.isenabled() is enabled and gc.get_freeze_count() == 0
    finally:
        (gc.enable if was else gc.disable)()


def test_without_the_fast_canvas_figures_are_saved_by_matplotlibs_agg(tmp_path, psoas300, monkeypatch):
    """Another matplotlib than 3.11: the figures are saved with matplotlib's own Agg canvas, the
    same pixels as with the fast one where both exist."""
    from PIL import Image
    fig = viz.posture_figure(psoas300)
    viz.save_figure(fig, tmp_path / "fast.png", dpi=40)
    monkeypatch.setattr(agg, "FAST_TEXT", False)
    assert agg.canvas_class().__name__ == "FigureCanvasAgg"
    viz.save_figure(fig, tmp_path / "plain.png", dpi=40)
    with Image.open(tmp_path / "fast.png") as a, Image.open(tmp_path / "plain.png") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
