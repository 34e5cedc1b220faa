"""The live viewer (biomech.viz.viewer), sweep animations (biomech.viz.animation) and their commands.

All headless: the viewer is built on an Agg canvas and driven through ``update``; `biomech
view` must refuse politely (exit 2) where no window can be shown.
"""

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from biomech import cli, viz
from biomech.scenario import load_scenario
from biomech.status import Status
from biomech.viz.viewer import LiveViewer

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "scenarios"


def _viewer(name="neutral_standing.toml", **kw):
    fig = Figure(figsize=(13, 8.5), dpi=100)
    FigureCanvasAgg(fig)
    v = LiveViewer(fig, load_scenario(LIB / name), **kw)
    fig.canvas.draw()
    return v


@pytest.fixture(scope="module")
def viewer():
    return _viewer()


def test_building_the_viewer_draws_nothing_until_it_is_shown():
    """matplotlib's slider draws the figure for its initial value, at once on Agg (headless: five
    full draws, 0.4 s each); the viewer's sliders draw nothing while it is built, and a moved
    slider still re-solves and redraws."""
    fig = Figure(figsize=(13, 8.5))
    canvas = FigureCanvasAgg(fig)
    draws = []
    canvas.mpl_connect("draw_event", draws.append)
    v = LiveViewer(fig, load_scenario(LIB / "neutral_standing.toml"))
    assert draws == [] and len(v.sliders) == 5
    before = v.last_report.metrics["pelvic_tilt_deg"]
    v.sliders["psoas"].set_val(400.0)                 # as if dragged: re-solved and drawn
    assert len(draws) == 1 and v.last_report.metrics["pelvic_tilt_deg"] != before


def _psoas_style(v):
    """(colours, widths) of the psoas lines as drawn in the lumbopelvic view."""
    coll = v.zoom.muscles
    model = v.model
    idx = list(coll.muscle_index)
    rows = [idx.index(i) for i in model.group_lines("psoas") if i in idx]
    colours = np.asarray(coll.get_colors())[rows]
    return colours, np.asarray(coll.get_linewidths())[rows]


def test_update_moves_the_drawing_and_the_values(viewer):
    v = viewer
    v.update({"psoas": 0.0})
    ll0 = v.last_report.metrics["lumbar_lordosis_deg"]
    c0, w0 = _psoas_style(v)
    text0 = v.panel.values.get_text()
    l1 = max(i for i, role in enumerate(v.zoom.roles) if role == "vertebra")
    l5 = v.zoom.bones[l1].get_xy().copy()                  # a vertebra outline (L1)
    v.update({"psoas": 800.0})
    assert v.last_result.success
    c1, w1 = _psoas_style(v)
    # psoas lines widen and turn opaque, in the psoas's colour
    assert np.all(w1 > w0) and np.all(c1[:, 3] > c0[:, 3])
    assert {to_hex(c[:3]) for c in c1} == {to_hex(viz.drawing.group_colour("psoas"))}
    assert v.panel.values.get_text() != text0
    assert f"{round(v.last_report.metrics['lumbar_lordosis_deg'])}°" in v.panel.values.get_text()
    assert v.last_report.metrics["lumbar_lordosis_deg"] != pytest.approx(ll0)
    assert "800 N" in v.panel.values.get_text()            # the psoas group force
    assert not np.allclose(v.zoom.bones[l1].get_xy(), l5)  # the bones moved
    assert v.zoom.texts["LL"].get_text().startswith("LL ")
    assert v.panel.status.get_text().startswith("status: ok")
    assert not v.zoom.banner.get_visible()


def test_blitted_updates_follow_the_slider(viewer):
    """Blitting (Agg supports it) redraws only what moves; every update solves and shows the
    new posture (the update rate is measured by scripts/bench.py, not asserted here)."""
    v = viewer
    assert v.blit
    for x in np.linspace(0.0, 1000.0, 4):
        assert v.update({"psoas": float(x)}) > 0
        assert v.last_result.success and v.values["psoas"] == float(x)


@pytest.mark.parametrize("name, tension", [("psoas_tension_upright.toml", 300.0),
                                           ("../tests/data/valid/inverse_upright_trunk.toml", 100.0)])
def test_recruited_modes_follow_the_slider_live(name, tension):
    """Upright and inverse scenarios solve on every slider move too (measured: 68 and 96 ms per
    update); the slider itself triggers the solve."""
    v = _viewer(name)
    v.update({"psoas": 0.0})
    v.sliders["psoas"].set_val(tension)                      # as a mouse drag does
    assert v.values["psoas"] == tension and v.last_result.success, v.last_result.message
    assert f"{tension:.0f} N" in v.panel.values.get_text()  # the psoas group force, solved


def test_full_redraw_also_works():
    v = _viewer(blit=False, sliders=False)
    t0 = time.perf_counter()
    dt = v.update({"psoas": 300.0})
    assert 0 < dt <= time.perf_counter() - t0
    assert v.last_result.success
    buf = np.asarray(v.fig.canvas.buffer_rgba())
    assert buf.shape[2] == 4 and buf[..., :3].std() > 10   # something was drawn


def test_failed_solve_is_shown_as_failed(viewer, monkeypatch):
    """A solve that does not converge (made to fail here, whatever the model can hold) is drawn
    as the solver's last iterate under a red banner, its values blanked."""
    v = viewer
    solve = v._solve

    def failing(values, q0):
        res = solve(values, q0)
        if values.get("erector_spinae") == 0.0:
            res = dataclasses.replace(res, code=Status.NOT_CONVERGED,
                                      message="the iteration did not converge (made to fail by the test)")
        return res
    monkeypatch.setattr(v, "_solve", failing)
    v.update({"psoas": None, "erector_spinae": 0.0})
    assert not v.last_result.success
    assert v.zoom.banner.get_visible()
    assert "NOT CONVERGED" in v.zoom.banner.get_text()
    assert to_hex(v.panel.status.get_color()) == to_hex(viz.STYLE["fail"])
    assert "NOT CONVERGED" in v.panel.status.get_text()     # the status code, in capitals
    assert "—" in v.panel.values.get_text() and "°" in v.panel.values.get_text()
    assert not any(ch.isdigit() for ch in v.panel.values.get_text().split("\n")[0])
    v.update({"erector_spinae": None})                   # back: a good posture again
    assert v.last_result.success and not v.zoom.banner.get_visible()
    with pytest.raises(KeyError):
        v.update({"deltoid": 3.0})


def test_sweep_shows_its_base_point_and_sliders_exist():
    v = _viewer("psoas_tension_sweep.toml")
    assert v.is_sweep and v.scenario.sweep is None
    assert "base point" in v.fig._suptitle.get_text()
    assert set(v.sliders) == {"psoas", "rectus_abdominis", "erector_spinae", "hamstrings",
                              "thigh_inclination_deg"}
    assert v.sliders["psoas"].valtext.get_text().endswith("(scenario)")
    v.sliders["psoas"].set_val(500.0)                    # as a user drags it
    assert v.values["psoas"] == 500.0
    m = v.last_report.result.problem.model
    assert float(np.sum(v.last_report.muscle_force[m.group_lines("psoas")])) == pytest.approx(500.0)
    v.update({"thigh_inclination_deg": -10.0})
    assert v.last_result.problem.support.thigh_deg == -10.0
    v._reset()
    assert all(x is None for x in v.values.values())


def test_view_without_a_display_exits_2_with_a_message():
    for env in ({"MPLBACKEND": "Agg"}, {"MPLBACKEND": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""}):
        full = {k: v for k, v in os.environ.items() if k not in env} | {k: v for k, v in env.items() if v}
        if not env.get("MPLBACKEND") and sys.platform != "linux":
            continue
        out = subprocess.run([sys.executable, "-m", "biomech", "view", str(LIB / "tight_psoas.toml")],
                             capture_output=True, text=True, env=full, cwd=ROOT, timeout=120)
        assert out.returncode == 2, out.stderr
        assert "cannot show a window" in out.stderr and "biomech animate" in out.stderr
        assert "Traceback" not in out.stderr and out.stdout == ""


SMALL_SWEEP = """
extends = "{lib}/neutral_standing.toml"
[scenario]
name = "small-sweep"
description = "A three-point psoas sweep."
[muscles.psoas]
tension_N = 0.0
[sweep]
"muscles.psoas.tension_N" = [0.0, 300.0, 600.0]
"""


def test_animate_writes_a_gif_with_one_frame_per_point(tmp_path, capsys):
    from PIL import Image
    f = tmp_path / "s.toml"
    f.write_text(SMALL_SWEEP.format(lib=LIB.as_posix()))
    out = tmp_path / "anim" / "psoas.gif"
    rc = cli.main(["animate", str(f), "--out", str(out), "--fps", "3", "--dpi", "50"])
    assert rc == 0, capsys.readouterr().err
    assert out.stat().st_size > 20_000
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 3
    assert "3 frames" in capsys.readouterr().out
    assert sorted(p.name for p in out.parent.iterdir()) == ["psoas.gif"]   # no temporary file


def _sweep_run(tmp_path, values: str):
    from biomech.runner import run_scenario
    f = tmp_path / "s.toml"
    f.write_text(SMALL_SWEEP.format(lib=LIB.as_posix()).replace("[0.0, 300.0, 600.0]", values))
    return run_scenario(load_scenario(f))


def test_animation_frames_move_the_posture_over_a_kept_background(tmp_path):
    """Each frame draws the moving artists over one image of the rest (issue 17): another
    posture changes much of the frame, the first posture again (after another) only its frame
    counter: nothing of the frame before is left."""
    from biomech.viz.animation import animation_frames
    frames = [f.copy() for f in animation_frames(_sweep_run(tmp_path, "[600.0, 0.0, 600.0]"), dpi=50)]
    assert len(frames) == 3 and frames[0].shape == (320, 550, 4) and frames[0].dtype == np.uint8
    pixels = frames[0].shape[0] * frames[0].shape[1]
    assert np.mean(np.any(frames[0][..., :3] < 200, axis=-1)) > 0.05        # bones, axes, text drawn

    def differ(a, b):
        return int(np.any(a != b, axis=-1).sum())
    assert differ(frames[0], frames[1]) > 0.01 * pixels                    # 600 -> 0 N: it moves
    assert 0 < differ(frames[0], frames[2]) < 0.002 * pixels               # "frame 1 of 3" -> "3 of 3"


def test_the_gif_is_what_matplotlibs_pillow_writer_makes_of_the_frames(tmp_path):
    """The frames' palettes are made in a thread as the next frame is drawn: the file is, byte for
    byte, what matplotlib's PillowWriter writes of the same frames (RGB, saved at the end)."""
    from PIL import Image
    from biomech.viz.animation import animation_frames, write_animation
    run = _sweep_run(tmp_path, "[0.0, 300.0, 600.0]")
    out = write_animation(run, tmp_path / "a.gif", fps=3.0, dpi=50)
    images = [Image.fromarray(f[..., :3].copy()).convert("RGB") for f in animation_frames(run, dpi=50)]
    images[0].save(tmp_path / "ref.gif", save_all=True, append_images=images[1:], duration=int(1000 / 3.0),
                   loop=0)
    assert out.read_bytes() == (tmp_path / "ref.gif").read_bytes()


def test_the_status_of_a_frame_fits_the_frame():
    """A long status message wraps to the panel's width and at most four lines: a fallen point's
    message stays inside the panel of the animation's frame (at 44 characters a line it ran past
    the frame's edge) and above the values (the banner over the posture shows it whole)."""
    from biomech.runner import run_scenario
    from biomech.viz.viewer import MetricsPanel
    fig = Figure(figsize=(11.0, 6.4), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0.724, 0.08, 0.266, 0.78))            # the animation's panel, to the right=0.99
    panel = MetricsPanel(ax)
    result = run_scenario(load_scenario(LIB / "thigh_inclination_sweep.toml")).points[0].result
    assert not result.success and len(result.message) > 100
    panel.show(None, result)
    renderer = canvas.get_renderer()
    box, below = panel.status.get_window_extent(renderer), panel.labels.get_window_extent(renderer)
    assert box.x1 <= ax.bbox.x1 and box.y0 >= below.y1, (box, ax.bbox, below)
    assert panel.status.get_text().endswith("…")


def test_a_frame_figure_saves_exactly_its_pixels():
    """What the MP4 writer saves of each frame (`animation._Pixels`): the pixels given, rows
    from the top, none resampled."""
    import io
    from biomech.viz.animation import _Pixels
    rgba = np.random.default_rng(3).integers(0, 256, (64, 100, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    fig = Figure(figsize=(1.0, 0.64), dpi=100)
    FigureCanvasAgg(fig)
    fig.add_artist(_Pixels()).rgba = rgba
    buf = io.BytesIO()
    fig.savefig(buf, format="rgba", dpi=100)
    assert np.array_equal(np.frombuffer(buf.getvalue(), np.uint8).reshape(64, 100, 4), rgba)


def test_animate_bad_inputs_exit_2(tmp_path, capsys, monkeypatch):
    from biomech.viz import animation
    f = tmp_path / "s.toml"
    f.write_text(SMALL_SWEEP.format(lib=LIB.as_posix()))
    cases = [
        ([str(LIB / "tight_psoas.toml"), "--out", str(tmp_path / "a.gif")], "not a sweep"),
        ([str(f), "--out", str(tmp_path / "a.avi")], "unsupported animation type"),
        ([str(f), "--out", str(tmp_path / "a.gif"), "--fps", "0"], "--fps"),
        ([str(tmp_path / "missing.toml")], "missing.toml"),
    ]
    monkeypatch.setattr(animation, "ffmpeg_available", lambda: False)
    cases.append(([str(f), "--out", str(tmp_path / "a.mp4")], "ffmpeg"))
    for argv, words in cases:
        assert cli.main(["animate", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]      # nothing written
    assert ".gif" in err                                                 # suggests a GIF


def test_help_has_examples_and_no_matplotlib_on_import():
    for sub in ("view", "animate"):
        out = subprocess.run([sys.executable, "-m", "biomech", sub, "--help"], capture_output=True,
                             text=True, cwd=ROOT, timeout=120)
        assert out.returncode == 0 and "example" in out.stdout, sub
    code = ("import sys, biomech, biomech.cli, biomech.runner\n"
            "assert not any(m.startswith('matplotlib') for m in sys.modules)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert res.returncode == 0, res.stderr


def test_no_text_of_the_viewer_overlaps_another(viewer):
    """The lumbopelvic view's axis labels clear the whole-model panel, the SVA label clears the
    vertebrae's names, and the group legend clears the metrics and the footer (issue 19)."""
    from test_figure_reading import _describe, overlapping_texts
    viewer.update({"psoas": 400.0})
    pairs = overlapping_texts(viewer.fig)
    assert not pairs, _describe(pairs)


def test_the_scenarios_own_muscles_are_drawn_on_top_in_the_viewer():
    v = _viewer("tight_psoas.toml")                 # the file sets the psoas's resting length
    psoas = set(v.model.group_lines("psoas").tolist())
    for view in (v.zoom, v.whole):
        order = [int(i) in psoas for i in view.muscles.muscle_index]
        k = order.index(True)
        assert all(order[k:]) and sum(order) == len(psoas)   # last: on top
