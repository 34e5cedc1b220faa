"""The live viewer (`biomech view FILE`): a posture that follows sliders of muscle settings.

Two layers, both usable without a display:

* `PostureView` draws one posture into an axes **once** (bones, discs, muscle lines, the
  radiographic lines of SS, PI, PT, LL and the C7 plumb line, a status banner) and then moves
  those artists for every new posture (``set_xy`` / ``set_data`` / ``set_segments`` /
  ``set_text``), so a redraw costs one canvas draw and no artist creation. `biomech animate`
  draws its frames with it too.
* `LiveViewer` builds the whole window on a given `matplotlib.figure.Figure`: the posture
  (whole model and lumbopelvic region, the starting posture as a grey ghost), a panel of the
  metrics and joint loads, and sliders for psoas, rectus abdominis, erector spinae and
  hamstrings tension and the thigh inclination. ``update(values)`` re-solves (warm-started from
  the previous posture) and redraws, and returns the seconds it took; the sliders call it.

Slider semantics (equilibrium mode, docs/model.md): a muscle slider that has not been moved
leaves the scenario's setting of that group alone (for most groups the frozen relaxed-standing
tone, which also stiffens the muscle); once moved, the group pulls with that fixed tension
(``MuscleSetting(tension_N=...)``, shared among its lines in proportion to their strength,
without stretch stiffness). "reset" returns every slider to the scenario's settings.

Every mode follows the sliders live, each solve warm-started from the last good posture:
an update (solve and redraw) takes ≈ 50 ms in the equilibrium mode, ≈ 70 ms upright and
≈ 100 ms inverse (measured headless, `tests/test_viewer.py`).

Only the CLI path calls ``plt.show()``; `display_problem()` tells it beforehand whether this
environment can show a window at all.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import textwrap
import time
from dataclasses import dataclass

import numpy as np

from . import drawing, figures

from ..names import MUSCLE_GROUPS

__all__ = ["Control", "DEFAULT_CONTROLS", "PostureView", "LiveViewer", "display_problem",
           "base_scenario", "status_of"]


# ------------------------------------------------------------------------------------------
# What the sliders set
# ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """One slider: a muscle group's tension (N) or the thigh inclination (°).

    key : a muscle group name, or "thigh_inclination_deg".
    label : the slider's label, with its unit.
    low, high : the slider's range (for the thigh: relative to the scenario's value, °).
    """

    key: str
    label: str
    low: float
    high: float


DEFAULT_CONTROLS = (
    Control("psoas", "psoas tension (N)", 0.0, 1000.0),
    Control("rectus_abdominis", "rectus abdominis tension (N)", 0.0, 600.0),
    Control("erector_spinae", "erector spinae tension (N)", 0.0, 1200.0),
    Control("hamstrings", "hamstrings tension (N)", 0.0, 600.0),
    Control("thigh_inclination_deg", "thigh inclination (°, + knee forward)", -30.0, 30.0),
)

THIGH = "thigh_inclination_deg"


def base_scenario(scenario):
    """The scenario a viewer shows: a sweep's base point (the file without its `[sweep]`:
    every swept key at the value the file gives it outside the sweep)."""
    return dataclasses.replace(scenario, sweep=None) if scenario.sweep is not None else scenario


def status_of(result) -> tuple[str, bool]:
    """(short status word, is it a failure) of a solve: "ok", "ok (held actively)" or the
    status code in capitals (`drawing.STATUS_HEADLINES`)."""
    if result is None:
        return "FAILED", True
    if result.success:
        return ("ok (held actively)" if result.stable is False else "ok"), False
    return getattr(result.code, "value", str(result.code)).upper().replace("_", " "), True


# ------------------------------------------------------------------------------------------
# One posture, drawn once and moved
# ------------------------------------------------------------------------------------------
def _bone_arrays(sk: dict) -> tuple[list, list, list]:
    """The outlines that `drawing.draw_bones` draws for a plain posture, in its order:
    (bones and surface lines, discs, label positions: vertebrae, then surfaces)."""
    bones = [xy for _role, xy in drawing.bone_parts(sk)] + drawing.surface_lines(sk)
    discs = [xy for _n, xy in sk["discs"]]
    labels = ([xy.mean(0) for _n, xy in sk["vertebrae"]]
              + [drawing.surface_label_xy(xy) for _n, xy in drawing.unique_surfaces(sk)])
    return bones, discs, labels


def _set_artist(artist, xy) -> None:
    xy = np.asarray(xy, float)
    if hasattr(artist, "set_xy"):              # Polygon
        artist.set_xy(xy)
    elif hasattr(artist, "set_data"):          # Line2D
        artist.set_data(xy[:, 0], xy[:, 1])
    else:                                      # Text
        artist.set_position((float(xy[0]), float(xy[1])))


class PostureView:
    """One posture in an axes, drawn once; `show(report)` moves it to another posture.

    Parameters
    ----------
    ax : matplotlib Axes.
    report : the first posture (`biomech.PostureReport`); fixes what is drawn.
    norm : `matplotlib.colors.Normalize` of the muscle force scale (line width and opacity),
        fixed for every posture (forces above its top get the widest line).
    angles : draw the radiographic lines (SS, PI, PT, LL, ASIS-PSIS; the C7 plumb line but
        lying) with their values (in the model's frame: not with ``gravity_down`` on a lying
        posture).
    banner : draw the status banner (red, for a posture that is not an answer).
    gravity_down : turn the drawing so that gravity points down the page
        (`drawing.view_rotation`: lying, the body on a horizontal table).
    highlight : names of muscle groups or lines (the scenario's own muscles) drawn on top,
        bold (`drawing.muscle_style`).

    Attributes ``bones`` (their `drawing.bone_parts` roles in ``roles``, the support surfaces
    last), ``discs``, ``labels``, ``muscles`` (the LineCollection),
    ``forces`` ((arrow, label) of each support force and load), ``lines`` and ``texts`` (the
    radiographic constructions), ``banner`` are the artists.
    """

    def __init__(self, ax, report, *, norm, angles: bool = True, banner: bool = True,
                 gravity_down: bool = False, highlight=()):

        self.ax = ax
        self.norm = norm
        self.s = report.result.problem.model.subject.height_m / drawing.REFERENCE_HEIGHT_M
        R = drawing.view_rotation(report.result.problem.gravity) if gravity_down else np.eye(2)
        self.rotation = None if np.allclose(R, np.eye(2)) else R
        sk = self._skeleton(report)
        drawn = drawing.draw_bones(ax, sk)
        bones, discs, labels = _bone_arrays(sk)
        if (len(drawn["bones"]), len(drawn["discs"]), len(drawn["labels"])) != (
                len(bones), len(discs), len(labels)):
            raise RuntimeError("viewer: drawing.draw_bones changed what it draws; update "
                               "viewer._bone_arrays to match")
        self.bones, self.discs, self.labels = drawn["bones"], drawn["discs"], drawn["labels"]
        self.name_vertebrae = angles
        self.roles = [role for role, _xy in drawing.bone_parts(sk)] + ["surface"] * len(sk["surfaces"])
        self.groups = report.result.problem.model.muscle_group
        self.highlight = drawing.highlighted_lines(report.result.problem.model, highlight)
        self.muscles = drawing.draw_muscles(ax, sk, self.groups, np.asarray(report.muscle_force, float),
                                            norm, self.highlight)
        self.forces = [drawing.force_artists(ax, st[0]) for st in drawing.force_states(sk, self.s)]
        S = drawing.STYLE
        self.c7_dot = ax.plot([0], [0], "o", ms=4, color="black", zorder=drawing.LAYERS["text"])[0]
        self.gravity = drawing.draw_gravity(ax, sk["plane_gravity"])
        self.lines: dict = {}
        self.texts: dict = {}
        if angles and self.rotation is None:
            def line(name, colour, **kw):
                self.lines[name] = ax.plot([], [], color=colour, zorder=drawing.LAYERS["angle"],
                                           solid_capstyle="round", **kw)[0]

            line("sacral_plate", S["ss"], lw=2.2)
            line("horizontal", S["ss"], lw=1.0, ls="--")
            line("s_to_h", S["pi"], lw=1.1)
            line("plate_normal", S["pi"], lw=1.0, ls="--")
            line("vertical", S["pt"], lw=1.0, ls="--")
            line("l1_plate", S["ll"], lw=2.2)
            line("plumb", S["sva"], lw=0.9, ls=(0, (1, 2)))
            line("sva", S["sva"], lw=1.2)
            line("asis_psis", S["apt"], lw=0.9, ls=(0, (4, 2)))
            self.lines["hip"] = ax.plot([], [], marker="+", ls="none", color=S["pi"], ms=8,
                                        mew=1.3, zorder=drawing.LAYERS["angle"])[0]
            for name, colour, ha in (("SS", S["ss"], "left"), ("PI", S["pi"], "right"),
                                     ("PT", S["pt"], "left"), ("LL", S["ll"], "right"),
                                     ("SVA", S["sva"], "center")):
                self.texts[name] = drawing.angle_text(ax, (0, 0), "", colour, ha=ha,
                                                      va="top" if name == "SVA" else "center")
        self.banner = None
        if banner:
            self.banner = ax.text(0.02, 0.98, "", transform=ax.transAxes, ha="left", va="top",
                                  color=S["fail"], fontsize=S["font"] + 1, fontweight="bold",
                                  zorder=drawing.LAYERS["text"] + 2, visible=False,
                                  bbox=dict(boxstyle="round,pad=0.4", fc="white", ec=S["fail"],
                                            lw=1.5, alpha=0.95))
        drawing.frame_axes(ax, rotated=self.rotation is not None)
        self.show(report)

    def _skeleton(self, report) -> dict:
        sk = drawing.skeleton(report)
        return sk if self.rotation is None else drawing.transform(sk, self.rotation)

    @property
    def _force_artists(self) -> list:
        return [a for pair in self.forces for a in pair]

    @property
    def dynamic(self) -> list:
        """The artists that move from posture to posture (for blitting)."""
        out = [*self.bones, *self.discs, *self.labels, self.muscles, *self._force_artists,
               self.c7_dot, *self.lines.values(), *self.texts.values()]
        return out + ([self.banner] if self.banner is not None else [])

    # -- moving the artists ---------------------------------------------------------------
    def show(self, report, *, note: str | None = None) -> None:
        """Move every artist to the posture of ``report``; ``note`` (red) goes in the banner.

        ``report`` None: nothing to draw (the posture artists are hidden)."""
        visible = report is not None
        for a in (*self.bones, *self.discs, *self.labels, self.muscles, *self._force_artists,
                  self.c7_dot, *self.lines.values(), *self.texts.values()):
            a.set_visible(visible)
        for a in self.labels:                   # the vertebrae's names: not in the small whole view
            a.set_visible(visible and self.name_vertebrae)
        if self.banner is not None:
            self.banner.set_text(drawing.wrap_text(note, 52) if note else "")
            self.banner.set_visible(bool(note))
        if not visible:
            return
        sk = self._skeleton(report)
        bones, discs, labels = _bone_arrays(sk)
        for art, xy in zip(self.bones, bones):
            _set_artist(art, xy)
        for art, xy in zip(self.discs, discs):
            _set_artist(art, xy)
        for art, xy in zip(self.labels, labels):
            _set_artist(art, xy)
        keep, colours, widths = drawing.muscle_style(sk, self.groups, np.asarray(report.muscle_force, float),
                                                     self.norm, self.highlight)
        self.muscles.set_segments([sk["muscles"][i] for i in keep])
        self.muscles.set_color(colours)
        self.muscles.set_linewidth(widths)
        self.muscles.muscle_index = np.array(keep)
        for (arrow, text), state in zip(self.forces, drawing.force_states(sk, self.s)):
            drawing.place_force(arrow, text, state)
        self.c7_dot.set_data([sk["c7"][0]], [sk["c7"][1]])
        if self.lines:
            self._show_angles(sk, report.metrics)

    def _show_angles(self, sk, metrics) -> None:
        s = self.s
        L, T = self.lines, self.texts
        mid, t, depth = sk["ep_mid"], sk["ep_t"], sk["ep_depth"]
        S, u = mid[0], t[0]
        n = np.array([-u[1], u[0]])
        H = sk["landmarks"]["hip_centre"]
        ant_c, post_c = S + 0.5 * depth[0] * u, S - 0.5 * depth[0] * u
        sh = H - S
        len_sh = float(np.linalg.norm(sh))

        def seg(name, a, b):
            L[name].set_data([a[0], b[0]], [a[1], b[1]])

        seg("sacral_plate", post_c, ant_c)
        seg("horizontal", ant_c, ant_c + np.array([0.06 * s, 0.0]))
        seg("s_to_h", S, H)
        seg("plate_normal", S, S - 0.75 * len_sh * n)
        seg("vertical", S, S + np.array([0.0, -0.9 * len_sh]))
        M1, u1 = mid[5], t[5]
        seg("l1_plate", M1 - 0.5 * depth[5] * u1, M1 + 0.5 * depth[5] * u1)
        c7 = sk["c7"]
        seg("plumb", c7, (c7[0], post_c[1]))
        seg("sva", post_c, (c7[0], post_c[1]))
        seg("asis_psis", sk["landmarks"]["PSIS"], sk["landmarks"]["ASIS"])
        L["hip"].set_data([H[0]], [H[1]])
        f = drawing.fmt
        T["SS"].set_position(tuple(ant_c + np.array([0.062 * s, 0.004 * s])))
        T["SS"].set_text(f"SS {f(metrics['sacral_slope_deg'], '°')}")
        T["PI"].set_position(tuple(S - 0.45 * len_sh * n + np.array([-0.006 * s, 0.0])))
        T["PI"].set_text(f"PI {f(metrics['pelvic_incidence_deg'], '°')}")
        T["PT"].set_position(tuple(S + np.array([0.006 * s, -0.55 * len_sh])))
        T["PT"].set_text(f"PT {f(metrics['pelvic_tilt_deg'], '°')}")
        T["LL"].set_position(tuple(M1 - 0.5 * depth[5] * u1 - np.array([0.008 * s, 0.0])))
        T["LL"].set_text(f"LL {f(metrics['lumbar_lordosis_deg'], '°')}")
        lying = sk["support"][0] == "lying"          # no plumb line on a table
        for name in ("plumb", "sva"):
            L[name].set_visible(not lying)
        T["SVA"].set_visible(not lying)
        T["SVA"].set_position((0.5 * (c7[0] + post_c[0]), post_c[1] - 0.006 * s))   # under the SVA
        T["SVA"].set_text(f"C7 plumb line\nSVA {f(metrics['sagittal_vertical_axis_mm'], ' mm')}")


# ------------------------------------------------------------------------------------------
# The metrics panel
# ------------------------------------------------------------------------------------------
_PANEL_ROWS = (  # key, label, unit
    ("lumbar_lordosis_deg", "LL  lumbar lordosis L1-S1", "°"),
    ("sacral_slope_deg", "SS  sacral slope", "°"),
    ("pelvic_tilt_deg", "PT  pelvic tilt", "°"),
    ("pelvic_incidence_deg", "PI  pelvic incidence", "°"),
    ("anterior_pelvic_tilt_deg", "APT  ASIS-PSIS tilt", "°"),
    ("trunk_inclination_deg", "TI  trunk inclination", "°"),
    ("sagittal_vertical_axis_mm", "SVA  sagittal vertical axis", " mm"),
)


_PANEL_GROUPS = ("psoas", "rectus_abdominis", "erector_spinae", "hamstrings")


def panel_rows(report, failed: bool, groups=_PANEL_GROUPS) -> list[tuple[str, str]]:
    """(label, value) rows of the panel: metrics, L4_L5 / L5_S1 compression and shear, group
    forces. Values are "—" for a failed posture (its numbers are not an answer)."""
    ok = report is not None and not failed

    def val(v, unit):
        return f"{round(float(v)) + 0:.0f}{unit}" if ok else f"—{unit}"

    rows = [(label, val(report.metrics[key] if ok else 0.0, unit)) for key, label, unit in _PANEL_ROWS]
    rows.append(("", ""))
    rows.append(("compression / ant. shear", ""))
    for j in ("L4_L5", "L5_S1"):
        k = report.result.problem.model.joint_index(j) if ok else 0
        c, sh = (report.compression[k], report.shear[k]) if ok else (0.0, 0.0)
        rows.append((f"  {j}", f"{val(c, '')} / {val(sh, ' N')}"))
    rows.append(("", ""))
    rows.append(("group force", ""))
    for g in groups:
        v = 0.0
        if ok:
            m = report.result.problem.model
            v = float(np.sum(np.asarray(report.muscle_force)[m.group_lines(g)]))
        rows.append((f"  {g.replace('_', ' ')}", val(v, " N")))
    return rows


def panel_text(report, failed: bool, groups=_PANEL_GROUPS) -> str:
    """The panel as one text (labels and values)."""
    return "\n".join(f"{lab:<24}{v:>14}" if lab or v else "" for lab, v in panel_rows(report, failed, groups))


class MetricsPanel:
    """A text panel in its own (axis-less) axes: a heading, the status line, the values.

    The labels column never changes (static); ``values`` and ``status`` are what updates."""

    def __init__(self, ax, heading: str = ""):
        S = drawing.STYLE
        self._fail = S["fail"]
        # characters of the bold status lines that fit the axes' width (0.65 em each, a little
        # more than DejaVu Sans Bold's average), at most 44; at most 4 lines fit above the values
        width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72.0
        self._wrap = max(20, min(44, int(width_pt / (0.65 * (S["font"] + 1)))))
        ax.set_axis_off()
        self.heading = ax.text(0.0, 1.0, heading, transform=ax.transAxes, ha="left", va="top",
                               fontsize=S["font"] + 1, fontweight="bold")
        self.status = ax.text(0.0, 0.95, "", transform=ax.transAxes, ha="left", va="top",
                              fontsize=S["font"] + 1, fontweight="bold")
        rows = panel_rows(None, True)
        self.labels = ax.text(0.0, 0.78, "\n".join(r[0] for r in rows), transform=ax.transAxes,
                              ha="left", va="top", fontsize=S["font"], linespacing=1.35)
        self.values = ax.text(0.80, 0.78, "", transform=ax.transAxes, ha="right", va="top",
                              fontsize=S["font"], fontweight="bold", linespacing=1.35)
        self.footer = ax.text(0.0, 0.0, "", transform=ax.transAxes, ha="left", va="bottom",
                              fontsize=S["small"], color="0.3")

    @property
    def dynamic(self) -> list:
        return [self.status, self.values, self.footer]

    def show(self, report, result, *, footer: str | None = None):
        word, failed = status_of(result)
        msg = textwrap.fill(" ".join((result.message if result is not None else "no result").split()),
                            self._wrap, max_lines=4, placeholder=" …")      # the banner has it whole
        self.status.set_text(f"status: {word}\n{msg}")
        self.status.set_color(self._fail if failed else "black")
        self.values.set_text("\n".join(v for _lab, v in panel_rows(report, failed)))
        if footer is not None:
            self.footer.set_text(footer)


def moving_artists(*groups) -> list:
    """The artists of ``groups`` (lists: the ``dynamic`` of `PostureView` and `MetricsPanel`, or
    others) in drawing order, drawn over a kept background after each new posture (the viewer's
    blitting, `biomech animate`'s frames): by zorder, stable, so the order within one is kept."""
    return sorted((a for group in groups for a in group), key=lambda a: a.get_zorder())


def safe_report(result):
    """`posture_report(result)`, or None when the result holds nothing drawable."""
    from ..results import posture_report
    if result is None or not np.all(np.isfinite(result.q)):
        return None
    try:
        return posture_report(result)
    except (ArithmeticError, ValueError, IndexError, np.linalg.LinAlgError):
        return None


# ------------------------------------------------------------------------------------------
# The live viewer
# ------------------------------------------------------------------------------------------
class LiveViewer:
    """The viewer window, built on a given Figure (headless-testable).

    Parameters
    ----------
    fig : an empty `matplotlib.figure.Figure` (from ``plt.figure`` for a window, or
        ``Figure()`` for tests and screenshots).
    scenario : a loaded `biomech.scenario.Scenario` (a sweep: its base point, see
        `base_scenario`).
    controls : the sliders (default `DEFAULT_CONTROLS`).
    sliders : build the slider widgets (False: only the drawing and `update`).
    blit : redraw only what moves (the posture, the values, the moved slider) over a cached
        background of everything else, as a window needs for smooth sliders; None (default):
        when the canvas supports it. False: every redraw is a full ``canvas.draw()`` (for
        screenshots: blitted artists are not in ``savefig`` output).

    ``update(values)`` solves the scenario with ``values`` ({control key: value or None for
    "as the scenario sets it"}), moves the drawing and redraws; it returns the seconds that
    took. ``last_result`` / ``last_report`` hold what is shown.
    """

    def __init__(self, fig, scenario, *, controls=DEFAULT_CONTROLS, sliders: bool = True,
                 blit: bool | None = None, model=None):
        from ..runner import model_for

        self.fig = fig
        self.scenario = base_scenario(scenario)
        self.is_sweep = scenario.sweep is not None
        self.model = model if model is not None else model_for(self.scenario)
        # (with two legs each leg has its own position: the support's thigh inclination places neither)
        thigh = not self.scenario.support.two_legs
        self.controls = tuple(c for c in controls if (c.key == THIGH and thigh) or c.key in MUSCLE_GROUPS)
        self.values = {c.key: None for c in self.controls}
        t0 = time.perf_counter()
        self.start_result = self._solve(self.values, q0=None)
        self.solve_seconds = time.perf_counter() - t0
        self.last_result = self.start_result
        self.last_report = safe_report(self.start_result)
        self._q_good = self.start_result.q if self.start_result.success else None
        rep0 = self.last_report
        if rep0 is None:              # nothing drawable at all: draw the reference posture
            ref = dataclasses.replace(self.start_result, q=self.start_result.problem.q_ref)
            rep0 = safe_report(ref)
        forces = np.asarray(rep0.muscle_force, float)
        self.norm = drawing.muscle_norm(np.array([max(float(forces.max()), 300.0)]), None)
        self.highlight_names = [name for name, _ in self.scenario.muscles]   # drawn on top

        fig.set_facecolor("white")
        bottom = 0.06 + 0.045 * len(self.controls) if sliders else 0.06
        self.ax_whole, self.ax_zoom, self.ax_panel, turned = posture_axes(
            fig, rep0, left=0.05, right=0.99, top=0.93, bottom=bottom + 0.05)
        figures.plot_posture(self.ax_whole, rep0, ghost=True, gravity_down=turned)  # the start, grey
        figures.plot_posture(self.ax_zoom, rep0, ghost=True)
        self.whole = PostureView(self.ax_whole, rep0, norm=self.norm, angles=False, banner=False,
                                 gravity_down=turned, highlight=self.highlight_names)
        self.zoom = PostureView(self.ax_zoom, rep0, norm=self.norm, highlight=self.highlight_names)
        self.ax_whole.set_title("whole model", fontsize=drawing.STYLE["title"])
        self.ax_zoom.set_title("lumbopelvic region (grey: the scenario's own posture)",
                               fontsize=drawing.STYLE["title"])
        _fixed_limits(self.ax_whole, [rep0], pad=0.12, gravity_down=turned)
        drawing.zoom(self.ax_zoom, rep0)
        group_legend(self.ax_panel, rep0, self.norm, bottom=0.095, ncol=4)  # above the footer
        self.panel = MetricsPanel(self.ax_panel, "the posture shown (coloured)")
        sc = self.scenario
        title = f"{sc.name} ({sc.mode} mode)" + (": base point of the sweep" if self.is_sweep else "")
        fig.suptitle(title, fontsize=drawing.STYLE["title"] + 1, fontweight="bold")
        self.sliders: dict = {}
        if sliders:
            self._build_sliders(bottom)
        self._show(self.last_result, self.last_report, self.solve_seconds)
        self.blit = bool(getattr(fig.canvas, "supports_blit", False)) if blit is None else bool(blit)
        self._background = None
        self._moved_slider = None
        if self.blit:
            for a in self.dynamic:
                a.set_animated(True)
            for sl in self.sliders.values():
                sl.drawon = False              # the viewer draws the moved slider itself
            fig.canvas.mpl_connect("draw_event", self._on_draw)
            fig.canvas.mpl_connect("resize_event", lambda _e: setattr(self, "_background", None))

    @property
    def dynamic(self) -> list:
        """Every artist that changes with an update."""
        return moving_artists(self.zoom.dynamic, self.whole.dynamic, self.panel.dynamic)

    # -- drawing --------------------------------------------------------------------------
    def _on_draw(self, event) -> None:
        """After a full draw: keep the background, draw the moving artists on top."""
        canvas = self.fig.canvas
        if event is not None and event.canvas is not canvas:
            return
        self._background = canvas.copy_from_bbox(self.fig.bbox)
        renderer = event.renderer if event is not None else canvas.get_renderer()
        for a in self.dynamic:
            a.draw(renderer)

    def redraw(self) -> None:
        """Render the current state: blitted over the background when possible, else a full
        ``canvas.draw()``."""
        canvas = self.fig.canvas
        if not self.blit or self._background is None:
            canvas.draw()                      # (draw_event: _on_draw keeps the background)
            return
        renderer = canvas.get_renderer()
        canvas.restore_region(self._background)
        if self._moved_slider is not None:     # the slider moved: into the background
            self._moved_slider.ax.draw(renderer)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._moved_slider = None
        for a in self.dynamic:
            a.draw(renderer)
        canvas.blit(self.fig.bbox)

    # -- solving --------------------------------------------------------------------------
    def scenario_for(self, values: dict):
        """The scenario with the slider values applied (None = the scenario's own setting)."""
        from ..muscles import MuscleSetting
        sc = self.scenario
        set_groups = {k: float(v) for k, v in values.items() if k != THIGH and v is not None}
        group_of = dict(zip(self.model.muscle_names, self.model.muscle_group))
        muscles = tuple((n, s) for n, s in sc.muscles
                        if n not in set_groups and group_of.get(n) not in set_groups)
        muscles += tuple((g, MuscleSetting(tension_N=max(0.0, v))) for g, v in set_groups.items())
        support = sc.support
        if values.get(THIGH) is not None:
            support = dataclasses.replace(support, thigh_inclination_deg=float(values[THIGH]))
        return dataclasses.replace(sc, muscles=muscles, support=support)

    def _solve(self, values, q0):
        import warnings

        from ..runner import solve_point
        sc = self.scenario_for(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = solve_point(sc, self.model, q0=q0)
            if q0 is not None and not res.success:      # continuation failed: from the reference
                res = solve_point(sc, self.model)
        return res

    def update(self, values: dict | None = None, *, draw: bool = True) -> float:
        """Solve with ``values`` (merged into the current ones), move the drawing and redraw
        (`redraw`; ``draw=False``: only ``draw_idle``). Returns the seconds from the start of
        the solve to the end of the redraw."""
        t0 = time.perf_counter()
        if values:
            unknown = set(values) - set(self.values)
            if unknown:
                raise KeyError(f"unknown viewer control(s) {sorted(unknown)}; "
                               f"known: {sorted(self.values)}")
            self.values.update(values)
        try:
            res = self._solve(self.values, q0=self._q_good)
        except Exception as e:        # an input the model refuses (e.g. out of range)
            res = None
            self.error = f"{type(e).__name__}: {e}"
        else:
            self.error = None
        solve_s = time.perf_counter() - t0
        rep = safe_report(res)
        self.last_result, self.last_report = res, rep
        if res is not None and res.success:
            self._q_good = res.q
        self._show(res, rep, solve_s)
        if draw:
            self.redraw()
        else:
            self.fig.canvas.draw_idle()
        return time.perf_counter() - t0

    def _show(self, res, rep, solve_s) -> None:
        note = drawing.status_note(res)
        if res is None and getattr(self, "error", None):
            note = "NOT SOLVED: " + self.error
        self.zoom.show(rep, note=note)
        self.whole.show(rep)
        set_ = {k: v for k, v in self.values.items() if v is not None}
        what = ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in set_.items()) or "the scenario's settings"
        self.panel.show(rep, res, footer=(
            f"showing: {what}\nsolve {1e3 * solve_s:.0f} ms; sliders update live.\n"
            "An unmoved slider keeps the scenario's setting; a moved one\nsets a fixed tension "
            "(no stretch stiffness). 'reset': back."))

    # -- widgets --------------------------------------------------------------------------
    def _build_sliders(self, bottom) -> None:
        from matplotlib.widgets import Button, Slider

        class Quiet(Slider):
            """A slider that does not redraw the figure for its initial value (matplotlib's sets
            it in its constructor: on Agg, headless, a full draw of the figure, 0.4 s, for each
            of the sliders); a plain `Slider` once built."""
            drawon = False
        rep = self.last_report
        thigh0 = self.scenario.support.thigh_deg
        for k, c in enumerate(self.controls):
            ax = self.fig.add_axes([0.22, bottom - 0.045 * (k + 1), 0.45, 0.03])
            if c.key == THIGH:
                lo, hi = max(-60.0, thigh0 + c.low), min(150.0, thigh0 + c.high)
                init = thigh0
            else:
                lo, hi = c.low, c.high
                init = 0.0
                if rep is not None:
                    m = rep.result.problem.model
                    init = float(np.sum(np.asarray(rep.muscle_force)[m.group_lines(c.key)]))
                init = min(max(init, lo), hi)
            sl = Quiet(ax, c.label, lo, hi, valinit=init, valfmt="%.0f")
            sl.drawon = True
            sl.label.set_fontsize(8)
            sl.valtext.set_fontsize(8)
            sl.valtext.set_text(f"{init:.0f} (scenario)")
            sl.on_changed(lambda v, key=c.key: self._on_slider(key, v))
            self.sliders[c.key] = sl
        bax = self.fig.add_axes([0.80, bottom - 0.045, 0.08, 0.03])
        self.reset_button = Button(bax, "reset")
        self.reset_button.on_clicked(lambda _e: self._reset())

    def _on_slider(self, key, value) -> None:
        if getattr(self, "_resetting", False):
            return
        self._moved_slider = self.sliders.get(key)
        self.update({key: float(value)})

    def _reset(self) -> None:
        self._resetting = True
        try:
            for sl in self.sliders.values():
                sl.reset()
        finally:
            self._resetting = False
        self.values = {c.key: None for c in self.controls}
        for sl in self.sliders.values():
            sl.valtext.set_text(f"{sl.valinit:.0f} (scenario)")
        self.update(draw=False)               # a full redraw: every slider went back


def _fixed_limits(ax, reports, pad: float = 0.05, *, gravity_down: bool = False) -> None:
    """Axes limits holding every posture of ``reports`` (fixed: motion shows against them);
    ``gravity_down``: as `PostureView` turns them."""
    pts = []
    for rep in reports:
        if rep is None:
            continue
        sk = drawing.skeleton(rep)
        if gravity_down:
            sk = drawing.transform(sk, drawing.view_rotation(sk["gravity"]))
        pts.append(drawing.drawn_points(sk, rep.result.problem.model.subject.height_m
                                        / drawing.REFERENCE_HEIGHT_M))
    pts = np.vstack(pts)
    lo, hi = pts.min(0) - pad, pts.max(0) + pad
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])


def group_legend(ax_panel, report, norm, *, bottom: float = 0.05, ncol: int = 3):
    """The legend of the muscle groups (colours, and line width per force on ``norm``) in the
    metrics panel, in ``ncol`` columns, its foot at ``bottom`` (axes fraction: above the
    footer)."""
    groups = dict.fromkeys(report.result.problem.model.muscle_group)
    return drawing.muscle_legend(ax_panel, {g: None for g in groups}, norm, loc="lower left",
                                 bbox=(0.0, bottom), ncol=ncol, fontsize=drawing.STYLE["small"] - 1.2,
                                 compact=True)


def posture_axes(fig, report, *, left: float, right: float, top: float, bottom: float,
                 widths=(0.9, 0.5)) -> tuple:
    """The axes of the whole model, the lumbopelvic region and the metrics panel in ``fig``
    (figure fractions ``left`` … ``bottom``), and whether the whole model is turned gravity
    down. Side by side, the whole model as wide as its drawing of ``report`` needs; a lying
    body (wider than tall once turned) above the lumbopelvic region, the panel beside both.
    ``widths``: the relative widths of the lumbopelvic region and the panel."""
    aspect = drawing.whole_aspect([report])
    box = dict(left=left, right=right, top=top, bottom=bottom)
    if aspect > 1.5:
        gs = fig.add_gridspec(2, 2, height_ratios=[1.0, 3.0], width_ratios=widths, hspace=0.3,
                              wspace=0.12, **box)
        axes = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[:, 1])
        return (*axes, True)
    gs = fig.add_gridspec(1, 3, width_ratios=[float(np.clip(aspect, 0.2, 0.45)), *widths],
                          wspace=0.12, **box)
    axes = tuple(fig.add_subplot(gs[i]) for i in range(3))
    axes[0].set_anchor("E")                   # the two views side by side, the lumbopelvic
    axes[1].set_anchor("C")                   # view's y axis in the gap between them
    return (*axes, False)


# ------------------------------------------------------------------------------------------
# Can this environment show a window?
# ------------------------------------------------------------------------------------------
def display_problem() -> str | None:
    """Why no window can be shown here (None when it can): a non-interactive matplotlib
    backend (e.g. ``MPLBACKEND=Agg``), or no display on Linux/BSD."""
    backend_env = os.environ.get("MPLBACKEND", "")
    import matplotlib
    from matplotlib.backends import BackendFilter, backend_registry
    non_interactive = set(backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE))
    explicit = backend_env or matplotlib.rcParams._get_backend_or_none()
    if explicit and explicit.lower() in non_interactive:
        return f"matplotlib's backend is {explicit!r}, which cannot open a window"
    if explicit and explicit.lower().startswith("module://"):
        return None                                   # a custom backend: let it try
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "there is no display ($DISPLAY and $WAYLAND_DISPLAY are not set)"
    import matplotlib.pyplot as plt
    backend = str(plt.get_backend()).lower()
    if backend in non_interactive:
        return (f"matplotlib found no interactive backend (it chose {backend!r}); install one, "
                "e.g. the tkinter package of your Python, or PyQt")
    return None
