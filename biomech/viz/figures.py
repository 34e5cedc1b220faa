"""Figures of solved postures: a lateral (radiograph-like) view, overlays and parameter sweeps.

    import biomech as bm
    from biomech import viz
    report = bm.posture_report(bm.solve_equilibrium(bm.make_model()))
    fig = viz.posture_figure(report, title="relaxed standing")
    viz.save_figure(fig, "standing.png")

The drawing functions take the axes (or figure) first, draw, and return what they drew as a
dict of lists of artists (`viz.drawing` has the pieces).
"""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from . import drawing
from .agg import canvas_class, write_png
from ..files import atomic_write
from ..metrics import LEG_METRICS
from ..results import PA_PER_MMHG
from ..names import LUMBAR_LEVELS, MUSCLE_GROUPS
from ..anatomy import REFERENCE_HEIGHT_M
from .drawing import (LAYERS, METRIC_ROWS, OKABE_ITO, STYLE, TITLE_Y, draw_angles, draw_bones,
                      draw_gravity, draw_forces, draw_muscles, frame_axes, line, muscle_norm, outline_points,
                      set_limits, signed, skeleton, status_note, style_axes, transform,
                      values_text, view_rotation, wrap_text, zoom)

# ------------------------------------------------------------------------------------------
# Public drawing functions
# ------------------------------------------------------------------------------------------
def plot_posture(ax, report, *, muscles: bool = True, angles: bool = True, legend: bool = True,
                 reactions: bool = False, ghost: bool = False, label: str | None = None,
                 norm: Normalize | None = None, forces: bool = True,
                 gravity_down: bool = False, highlight=(), balance: bool = True) -> dict:
    """Draw one solved posture as a lateral view (seen from the subject's right, anterior right).

    Parameters
    ----------
    ax : matplotlib Axes.
    report : `biomech.PostureReport`.
    muscles : draw the muscle lines, coloured by group (`drawing.GROUP_COLOURS`), widened and
        made opaque by force.
    angles : draw the radiographic constructions (SS, PI, PT, LL, ASIS-PSIS; standing and
        sitting also the C7 plumb line and SVA, which mean nothing lying) and the box of
        values. The constructions are drawn in the model's frame only (not with
        ``gravity_down`` on a lying posture, where the box of values still is).
    legend : add the legend of the muscle groups and of the line width per force (when
        muscles are drawn).
    reactions : arrows of the load transmitted at L4_L5 and L5_S1 with their compression.
    ghost : a faint grey version without muscles, angles and force arrows (for overlays).
    label : scenario name: the axes title.
    norm : `matplotlib.colors.Normalize` of the muscle colour scale (share it between figures).
    forces : arrows of the forces of the floor, seat, backrest or table and of the external
        loads, with their magnitudes.
    gravity_down : turn the drawing so that gravity points down the page (`drawing.view_rotation`:
        a lying posture is drawn on a horizontal table; standing and sitting are unchanged).
    balance : mark the whole body's centre of mass and the centre of pressure under the feet
        (`drawing.draw_balance`).
    highlight : names of muscle groups or lines (a scenario's ``[muscles.X]`` tables, the
        subject of its question): drawn on top, bold, labelled, and named first in the legend.

    Returns
    -------
    dict of lists of artists: bones, discs, labels, muscles (one LineCollection, one path per
    muscle line of nonzero length), highlight (the labels of the highlighted muscles), angles,
    angle_texts, values (the box of values), legend, reactions, forces (arrows and their
    labels), balance (the centres of mass and of pressure), status (the red note of a posture
    that is not an answer), cavity (the abdominal cavity, shaded by its pressure).
    """
    result = report.result
    s = result.problem.model.subject.height_m / REFERENCE_HEIGHT_M
    sk = skeleton(report)
    R = view_rotation(sk["gravity"]) if gravity_down else np.eye(2)
    rotated = not np.allclose(R, np.eye(2))
    if rotated:
        sk = transform(sk, R)
    out = draw_bones(ax, sk, ghost=ghost)
    out.update({"muscles": [], "highlight": [], "angles": [], "angle_texts": [], "values": [],
                "legend": [], "reactions": [], "forces": [], "balance": [], "status": [],
                "cavity": [] if ghost else drawing.draw_cavity(ax, sk)})
    if not ghost:
        c7 = sk["c7"]
        out["labels"].append(ax.plot([c7[0]], [c7[1]], "o", ms=4, color="black",
                                     zorder=LAYERS["text"])[0])
        out["labels"].append(ax.text(c7[0] + 0.012 * s, c7[1] + 0.006 * s, "C7", fontsize=STYLE["small"],
                                     fontweight="bold", zorder=LAYERS["text"], clip_on=True))
    if muscles and not ghost:
        model = result.problem.model
        tension = np.asarray(report.muscle_force, float)
        nrm = muscle_norm(tension, norm)
        lines = drawing.highlighted_lines(model, highlight)
        out["muscles"].append(draw_muscles(ax, sk, model.muscle_group, tension, nrm, lines))
        if legend:
            shown = {model.muscle_group[i] for i in out["muscles"][0].muscle_index}
            totals = {g: float(tension[model.group_lines(g)].sum())
                      for g in dict.fromkeys(model.muscle_group) if g in shown}
            out["legend"].append(drawing.muscle_legend(
                ax, totals, nrm, highlight_groups={model.muscle_group[i] for i in lines},
                extra=[drawing.cavity_legend_entry(c) for c in out["cavity"]]))
    if angles and not ghost and not rotated:
        out.update(draw_angles(ax, sk, report.metrics, s))
    if muscles and not ghost:              # after the angles: their labels are kept clear
        out["highlight"].extend(drawing.label_muscles(
            ax, sk, model, lines, tension, s, report.length_change_percent,
            avoid=[t.get_position()[1] for t in out["angle_texts"]]))
    if angles and not ghost:
        iap = report.abdominal_pressure_Pa / PA_PER_MMHG if len(report.cavity_forces) else None
        out["values"].append(ax.text(1.02, 1.0, values_text(report.metrics, sk, _psoas_length_by_side(report), iap),
                                     transform=ax.transAxes,
                                     ha="left", va="top", family="monospace", multialignment="left",
                                     fontsize=STYLE["small"], zorder=LAYERS["text"],
                                     bbox=dict(boxstyle="round,pad=0.4", fc=STYLE["box_face"],
                                               ec="#888888", alpha=0.9)))
    if forces and not ghost:
        out["forces"].extend(draw_forces(ax, sk, s))
    if balance and not ghost:
        out["balance"].extend(drawing.draw_balance(ax, sk, s))
    if reactions and not ghost:
        out["reactions"].extend(_draw_reactions(ax, sk, report, s))
    if not ghost:
        out["labels"].extend(draw_gravity(ax, sk["plane_gravity"]))
        note = status_note(result)
        if note:
            out["status"].append(ax.text(0.02, 0.98, wrap_text(note, 48), transform=ax.transAxes,
                                         ha="left", va="top", color=STYLE["fail"],
                                         fontsize=STYLE["font"], fontweight="bold",
                                         zorder=LAYERS["text"] + 1,
                                         bbox=dict(boxstyle="round,pad=0.4", fc="white",
                                                   ec=STYLE["fail"], lw=1.2, alpha=0.95)))
    frame_axes(ax, label, rotated=rotated)
    if ax.get_autoscale_on():
        set_limits(ax, sk, s=s)
    return out


def _draw_reactions(ax, sk: dict, report, s: float) -> list:
    """Arrows of the load that the superior body transmits to the inferior one (−R_j)."""
    arts = []
    model = report.result.problem.model
    shown = [(name, model.joint_index(name), k) for name, k in (("L4_L5", 1), ("L5_S1", 0))]   # k: endplate below
    top = max(float(np.linalg.norm(report.reaction[j])) for _, j, _ in shown)
    scale = min(0.05 * s / 1000.0, 0.08 * s / max(top, 1e-9))   # m per N, at most 8 cm long
    for name, j, k in shown:
        c = sk["centres"][j]
        f = -np.asarray(report.reaction[j], float)
        tail = c - scale * f
        # offset the arrow anteriorly so that it does not cover the vertebral bodies
        e = sk["ep_t"][k]
        shift = 0.045 * s * e
        arr = FancyArrowPatch(tuple(tail + shift), tuple(c + shift), arrowstyle="-|>",
                              mutation_scale=9, color=STYLE["reaction"], lw=1.4, zorder=LAYERS["angle"])
        ax.add_patch(arr)
        arts.append(arr)
        arts.append(line(ax, c + shift, c + 0.5 * float(sk["ep_depth"][k]) * e, STYLE["reaction"],
                          ls=":", lw=0.8))
        arts.append(ax.text(*(c + shift + np.array([0.006 * s, 0.0])),
                            f"{name}: {report.compression[j]:.0f} N", color=STYLE["reaction"],
                            fontsize=STYLE["small"], ha="left", va="center", zorder=LAYERS["text"],
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8),
                            clip_on=True))
    return arts


def plot_overlay(ax, reports, labels) -> dict:
    """Overlay postures: the first one as a grey reference, the others in colour on top.

    Postures are drawn in the world frame, their hip centres at the origin (conventions §1), so
    that they share the vertical and the horizontal that SS, PT and SVA are measured against (the
    body stands on its feet, so the femur turns with the posture and is no common reference).
    A legend names every posture and a small table lists each metric of the reference and the
    difference of every other posture.

    Returns a dict of lists of artists: bones (per posture), legend, table, status.
    """
    return _overlay(ax, reports, labels, table=True, legend=True)


def _posture_colour(k: int) -> str:
    """The colour of posture ``k`` of an overlay (0: the grey reference)."""
    return "#707070" if k == 0 else OKABE_ITO[(k - 1) % len(OKABE_ITO)]


def _posture_labels(reports, labels) -> list[str]:
    """The legend label of each posture of an overlay: the reference named, a failed posture's
    status appended."""
    out = [f"{labels[0]} (reference)"] + [str(x) for x in labels[1:]]
    for k, rep in enumerate(reports):
        note = status_note(rep.result)
        if note:
            out[k] += "  - " + note.splitlines()[0].split(":")[0]
    return out


def _overlay(ax, reports, labels, *, table=True, legend=True, gravity_down=False) -> dict:
    reports = list(reports)
    labels = list(labels)
    if len(reports) != len(labels) or not reports:
        raise ValueError("plot_overlay needs one label per report and at least one report")
    out: dict = {"bones": [], "legend": [], "table": [], "status": [], "handles": []}
    view = view_rotation(reports[0].result.problem.gravity) if gravity_down else np.eye(2)
    rotated = not np.allclose(view, np.eye(2))
    sks = []
    for k, rep in enumerate(reports):
        sk = skeleton(rep)
        sk = transform(sk, view) if rotated else sk
        sks.append(sk)
        colour = _posture_colour(k)
        if k == 0:
            arts = draw_bones(ax, sk, ghost=True, plates=colour)
            handle = Line2D([], [], color=STYLE["ghost"], lw=4, alpha=0.8)
        else:
            arts = draw_bones(ax, sk, colour=colour, labels=False)
            handle = Line2D([], [], color=colour, lw=2)
        c7 = sk["c7"]
        arts["bones"].append(ax.plot([c7[0]], [c7[1]], "o", ms=3.5, color=colour, zorder=LAYERS["text"])[0])
        out["bones"].append(arts["bones"] + arts["discs"])
        out["handles"].append(handle)
        if not rep.result.success:
            out["status"].append(labels[k])
    leg_labels = _posture_labels(reports, labels)
    if legend:
        leg = ax.legend(out["handles"], leg_labels, loc="upper left", fontsize=STYLE["small"],
                        frameon=True, framealpha=0.9)
        for txt, rep in zip(leg.get_texts(), reports):
            if status_note(rep.result):
                txt.set_color(STYLE["fail"])
        out["legend"].append(leg)
    if table:
        out["table"].append(ax.text(1.02, 1.0, _difference_table(reports, labels),
                                    transform=ax.transAxes, ha="left", va="top",
                                    family="monospace", fontsize=STYLE["small"],
                                    bbox=dict(boxstyle="round,pad=0.4", fc="white", ec="#888888")))
    frame_axes(ax, rotated=rotated)
    pts = np.vstack([outline_points(sk) for sk in sks])
    lo, hi = pts.min(0) - 0.03, pts.max(0) + 0.03
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return out


def _difference_table(reports, labels) -> str:
    """The overlay's table: each metric of the reference posture and the others' differences;
    with two legs in any of them, the leg metrics and the psoas length by side (a lumped leg's
    value stands for both sides)."""
    sided = any(r.result.problem.model.sides for r in reports)
    head = f"{'':<5}{'ref':>7}" + "".join(f"{'Δ' + str(i):>8}" for i in range(1, len(reports)))
    lines = [head]

    def row(abbr, values, unit):
        lines.append(f"{abbr:<5}"[:5] + f"{values[0]:>7.1f}" + "".join(f"{signed(v - values[0]):>8}" for v in values[1:])
                     + unit)
    for key, abbr, _name, unit in METRIC_ROWS:
        unit = "  mm" if unit.strip() == "mm" else "  °"
        if sided and key in LEG_METRICS:
            for sfx in ("_right", "_left"):
                row(f"{abbr}{sfx[1].upper()}", [r.metrics.get(key + sfx, r.metrics[key]) for r in reports], unit)
        else:
            row(abbr, [r.metrics[key] for r in reports], unit)
    for lv in LUMBAR_LEVELS:
        row(lv, [r.metrics["segmental_lordosis_deg"][lv] for r in reports], "  °")
    # the psoas's mean length change from relaxed standing (%): does this posture stretch it?
    for sfx in ("_right", "_left") if sided else ("",):
        row("Lps" + (sfx[1].upper() if sfx else ""), [_psoas_length_percent(r, sfx) for r in reports], "  %")
    legend = [f"ref = {labels[0]}"] + [f"Δ{i} = {labels[i]} - ref" for i in range(1, len(labels))]
    legend.append("Lps = psoas length vs relaxed standing" + ("; R, L: right, left" if sided else ""))
    # a sweep of several parameters has long labels: wrapped to the column they stand in
    legend = [textwrap.fill(x, _RIGHT_CHARS, subsequent_indent=" " * 5) for x in legend]
    return "\n".join(lines + [""] + legend)


def _psoas_length_percent(report, sfx: str = "") -> float:
    """The psoas lines' mean length change from relaxed standing (%; NaN without a psoas): of
    one side with two legs (``sfx`` "_right", "_left"; a lumped model's lines stand for both)."""
    model = report.result.problem.model
    lines = model.group_lines("psoas" + sfx if model.sides else "psoas")
    return float(np.mean(report.length_change_percent[lines])) if len(lines) else float("nan")


def _psoas_length_by_side(report):
    """The psoas's length change for the posture's box: one number, or (right, left) with two legs."""
    if report.result.problem.model.sides:
        return tuple(_psoas_length_percent(report, sfx) for sfx in ("_right", "_left"))
    return _psoas_length_percent(report)


# ------------------------------------------------------------------------------------------
# Sweeps
# ------------------------------------------------------------------------------------------
_UNIT_SUFFIXES = (  # longest first
    ("_Nm_per_deg", "N·m/°"), ("_N_per_m", "N/m"), ("_m_s2", "m/s²"), ("_Nm", "N·m"),
    ("_deg", "°"), ("_mm", "mm"), ("_kg", "kg"), ("_N", "N"), ("_m", "m"), ("_s", "s"),
)
_UNITLESS = {"activation": "0-1", "resting_length_scale": "× default",
             "short_range_stiffness": "q"}


def parameter_label(parameter: str) -> str:
    """Readable axis label of a dotted scenario key with its unit.

    >>> parameter_label("muscles.psoas.tension_N")
    'psoas tension (N)'
    >>> parameter_label("subject.pelvic_incidence_deg")
    'pelvic incidence (°)'
    """
    parts = [p for p in str(parameter).split(".") if p]
    if not parts:
        return str(parameter)
    key = parts[-1]
    unit = None
    for suffix, u in _UNIT_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key, unit = key[: -len(suffix)], u
            break
    if unit is None:
        unit = _UNITLESS.get(key)
    name = key.replace("_", " ")
    # the thing the key belongs to, when it is not a section name
    owner = parts[-2] if len(parts) >= 2 else None
    if owner is not None and owner not in ("subject", "support", "solver", "settings", "sweep",
                                           "scenario", "muscles", "loads") and not owner.isdigit():
        name = owner.replace("_", " ") + " " + name
    elif owner is not None and owner.isdigit() and len(parts) >= 3:
        name = f"{parts[-3].rstrip('s').replace('_', ' ')} {int(owner) + 1} {name}"
    return f"{name} ({unit})" if unit else name


def _code_of(report, given) -> str | None:
    """The status code (`biomech.status`) of one sweep point, from the JSON status dict given
    or the report's result; None when neither says."""
    if isinstance(given, dict) and "code" in given:
        return str(given["code"])
    if report is not None:
        return getattr(report.result.code, "value", str(report.result.code))
    return None


def _status_of(report, given) -> str:
    """'ok', 'unstable' or 'failed' for one sweep point."""
    if given is not None:
        if isinstance(given, dict):
            conv, stab = given.get("converged", False), given.get("stable")
            return "failed" if not conv else ("unstable" if stab is False else "ok")
        if isinstance(given, (bool, np.bool_)):
            return "ok" if given else "failed"
        g = str(given).lower()
        if g in ("ok", "stable", "converged", "success"):
            return "ok"
        if g == "unstable":
            return "unstable"
        return "failed"
    if report is None:
        return "failed"
    res = report.result
    if not res.converged:
        return "failed"
    if res.stable is False:
        # upright/inverse: held actively, static instability reported but not a failure
        return "active" if res.success else "unstable"
    return "ok"


#: A muscle group is drawn in a sweep's panel (c) when its total force reaches this (N) or this
#: share of the strongest group's at some point.
SMALL_GROUP_N, SMALL_GROUP_SHARE = 5.0, 0.02
#: Length of the legend lines of a sweep's panel (d) (font sizes): the dashes of the shear show.
SWEEP_HANDLE_LENGTH = 3.5
#: The sweep figure draws the intra-abdominal pressure (panel d, right axis) when it changes by
#: at least this much along the sweep (mmHg): about the resolution of a catheter reading.
IAP_SHOWN_MMHG = 1.0


def plot_sweep(fig, values, reports, *, parameter: str, statuses=None) -> dict:
    """Four panels against a swept parameter, created inside ``fig``.

    (a) lumbar lordosis and segmental lordosis per level (°), (b) sacral slope, pelvic tilt and
    ASIS-PSIS tilt (°), (c) the total force of each muscle group (N), (d) compression and shear
    at L4_L5 and L5_S1 (N).

    Parameters
    ----------
    fig : matplotlib Figure (empty).
    values : the swept values (one per report).
    reports : `PostureReport` per value, or None for a point that could not be solved.
    parameter : dotted scenario key, e.g. "muscles.psoas.tension_N" (gives the x label).
    statuses : optional status per point ("ok" / "unstable" / "failed", bools, or the JSON
        status dicts); default: from each report's result.

    Points that did not converge are plotted as gaps (NaN) with red × markers at the bottom of
    every panel and a dotted red line; unstable equilibria are plotted and marked with red ×.
    A note under the panels lists them. Nothing is silently dropped.

    Panel (c) draws each muscle group in its colour of every figure (`drawing.group_colour`),
    solid; it draws the groups whose force reaches `SMALL_GROUP_N` (or `SMALL_GROUP_SHARE` of
    the strongest group) at some point and names the others in a note at the end of its
    legend. Panel (d) draws compression solid with circles and anterior shear dashed with
    triangles, one colour per joint, with legend lines `SWEEP_HANDLE_LENGTH` long.

    Returns a dict of lists of artists: axes, lines, failed (markers), unstable (markers), notes,
    legends, omitted (the note of the groups not drawn: a text of panel (c)'s legend).
    """
    x = np.asarray(values, float)
    reports = list(reports)
    if len(reports) != len(x):
        raise ValueError(f"{len(x)} values but {len(reports)} reports")
    if statuses is None:
        statuses = [None] * len(x)
    status = [_status_of(r, g) for r, g in zip(reports, statuses)]
    codes = [_code_of(r, g) for r, g in zip(reports, statuses)]
    order = np.argsort(x, kind="stable")
    x = x[order]
    reports = [reports[i] for i in order]
    status = [status[i] for i in order]
    codes = [codes[i] for i in order]
    n = len(x)
    ok_rep = next((r for r, st in zip(reports, status) if r is not None), None)

    def series(fn):
        y = np.full(n, np.nan)
        for i, (r, st) in enumerate(zip(reports, status)):
            if r is not None and st != "failed":
                y[i] = fn(r)
        return y

    axes = fig.subplots(4, 1, sharex=True, gridspec_kw={"height_ratios": (1.0, 0.8, 1.5, 1.0)})
    out: dict = {"axes": list(axes), "lines": [], "failed": [], "unstable": [], "notes": [],
                 "legends": [], "omitted": []}

    def draw(ax, y, label, colour, ls="-", lw=1.4, marker="o", ms=3.0):
        ln = ax.plot(x, y, ls=ls, lw=lw, color=colour, marker=marker, ms=ms, label=label)[0]
        out["lines"].append(ln)
        bad = np.array([st == "unstable" for st in status]) & np.isfinite(y)
        if bad.any():
            out["unstable"].append(ax.plot(x[bad], y[bad], ls="none", marker="x", ms=8, mew=1.8,
                                           color=STYLE["fail"], zorder=5)[0])
        return ln

    # (a) lordosis
    ax = axes[0]
    draw(ax, series(lambda r: r.metrics["lumbar_lordosis_deg"]), "LL (L1-S1)", "black", lw=2.0)
    for k, lv in enumerate(LUMBAR_LEVELS):
        draw(ax, series(lambda r, lv=lv: r.metrics["segmental_lordosis_deg"][lv]), lv,
             OKABE_ITO[k], lw=1.1, marker=".")
    ax.set_ylabel("lordosis (°)")
    # (b) pelvis
    ax = axes[1]
    for (key, lab), col in zip((("sacral_slope_deg", "SS"), ("pelvic_tilt_deg", "PT"),
                                ("anterior_pelvic_tilt_deg", "ASIS-PSIS tilt")),
                               (STYLE["ss"], STYLE["pt"], STYLE["apt"])):
        draw(ax, series(lambda r, key=key: r.metrics[key]), lab, col)
    ax.set_ylabel("pelvis (°)")
    # (c) muscle groups: those that pull at some point; the others named in a note
    ax = axes[2]
    groups = []
    if ok_rep is not None:
        present = set(ok_rep.result.problem.model.muscle_group)
        groups = [g for g in MUSCLE_GROUPS if g in present]

    def group_total(g):
        def total(r):
            return float(np.sum(np.asarray(r.muscle_force)[r.result.problem.model.group_lines(g)]))
        return series(total)
    totals = {g: group_total(g) for g in groups}
    top = max([float(np.nanmax(y)) for y in totals.values() if np.isfinite(y).any()] + [0.0])
    floor = max(SMALL_GROUP_N, SMALL_GROUP_SHARE * top)
    shown = [g for g in groups if np.isfinite(totals[g]).any() and float(np.nanmax(totals[g])) >= floor]
    for g in shown:                      # the group's colour of every figure, solid
        draw(ax, totals[g], g.replace("_", " "), drawing.group_colour(g), lw=1.3, marker=".",
             ms=3.5)
    hidden = [g.replace("_", " ") for g in groups if g not in shown]
    omitted = (wrap_text(f"not shown, below {floor:.0f} N at every point: {', '.join(hidden)}", 34)
               if hidden else None)
    ax.set_ylabel("group force (N)")
    # (d) joint loads
    ax = axes[3]
    for k, name in enumerate(("L4_L5", "L5_S1")):
        j = reports[0].result.problem.model.joint_index(name)
        draw(ax, series(lambda r, j=j: float(r.compression[j])), f"{name} compression",
             OKABE_ITO[k], ls="-", marker="o", ms=3.5)
        draw(ax, series(lambda r, j=j: float(r.shear[j])), f"{name} anterior shear",
             OKABE_ITO[k], ls="--", marker="^", ms=4.5)
    ax.set_ylabel("joint load (N)")
    # and the intra-abdominal pressure on its own axis (mmHg), where the sweep changes it
    iap = series(lambda r: r.abdominal_pressure_Pa / PA_PER_MMHG if len(r.cavity_forces) else np.nan)
    out["iap"] = None
    if np.isfinite(iap).any() and np.nanmax(iap) - np.nanmin(iap) >= IAP_SHOWN_MMHG:
        twin = ax.twinx()
        ln = twin.plot(x, iap, color=STYLE["iap"], ls=":", lw=1.6, marker="s", ms=3.5,
                       label="IAP (right axis)")[0]
        twin.set_ylabel("intra-abdominal pressure (mmHg)", color=STYLE["iap"], fontsize=STYLE["font"])
        twin.tick_params(axis="y", colors=STYLE["iap"], labelsize=STYLE["small"])
        twin.set_ylim(bottom=0.0)
        out["lines"].append(ln)
        out["iap"] = twin
    axes[-1].set_xlabel(parameter_label(parameter))

    titles = ("lumbar lordosis L1-S1 and segmental lordosis per level",
              "sacral slope, pelvic tilt, ASIS-PSIS tilt",
              "total force of each muscle group",
              "joint loads on the lower endplate (compression, anterior shear)"
              + (" and abdominal pressure" if out["iap"] is not None else ""))
    for k, ax in enumerate(axes):
        ax.axhline(0.0, color="#bbbbbb", lw=0.6, zorder=0)
        ax.grid(True, color="#eeeeee", lw=0.6)
        ax.text(0.005, 1.02, f"({'abcd'[k]}) {titles[k]}", transform=ax.transAxes,
                fontsize=STYLE["font"], fontweight="bold", va="bottom")
        handles, names = ax.get_legend_handles_labels()
        if k == 3 and out["iap"] is not None:
            more = out["iap"].get_legend_handles_labels()
            handles, names = handles + more[0], names + more[1]
        if k == 2 and omitted:           # the groups left out, under the others (never over them)
            handles.append(Line2D([], [], ls="none"))
            names.append(omitted)
        # (d) a legend line long enough to show the dashes of the shear
        leg = ax.legend(handles, names, loc="upper left",
                        bbox_to_anchor=(1.09 if k == 3 and out["iap"] is not None else 1.01, 1.0),
                        fontsize=STYLE["small"], frameon=False, borderaxespad=0.0,
                        handlelength=SWEEP_HANDLE_LENGTH if k == 3 else None)
        if k == 2 and omitted:
            note = leg.get_texts()[-1]
            note.set_color("0.35")
            note.set_fontsize(STYLE["small"] - 0.5)
            out["omitted"].append(note)
        out["legends"].append(leg)
        style_axes(ax)
        for i, st in enumerate(status):
            if st == "failed":
                ax.axvline(x[i], color=STYLE["fail"], ls=":", lw=1.0, zorder=0)
            if st in ("failed", "unstable"):
                out["failed" if st == "failed" else "unstable"].append(
                    ax.plot([x[i]], [0.04], transform=ax.get_xaxis_transform(), ls="none",
                            marker="x", ms=8, mew=2.0, color=STYLE["fail"], clip_on=False,
                            zorder=6)[0])
    label = parameter_label(parameter)
    name, unit = label, ""
    if label.endswith(")") and " (" in label:
        name, unit = label[:-1].rsplit(" (", 1)
        unit = "" if unit in _UNITLESS.values() else " " + unit
    notes = []
    failed: dict = {}                  # status code -> the values where a point has it
    for v, st, code in zip(x, status, codes):
        if st == "failed":
            failed.setdefault(code, []).append(f"{v:g}{unit}")
    unstable = [f"{v:g}{unit}" for v, st in zip(x, status) if st == "unstable"]
    for code, values in failed.items():
        what = drawing.STATUS_HEADLINES.get(code or "", "NOT SOLVED").split(" (")[0]
        notes.append(f"× {what}; values not plotted, at {name} = " + ", ".join(values))
    if unstable:
        notes.append(f"× unstable equilibrium (plotted, marked ×) at {name} = " + ", ".join(unstable))
    if notes:
        out["notes"].append(fig.text(0.01, 0.005, "\n".join(notes), color=STYLE["fail"],
                                     fontsize=STYLE["font"], ha="left", va="bottom",
                                     fontweight="bold"))
    elif any(st == "active" for st in status):
        out["notes"].append(fig.text(0.01, 0.005, "postures held actively by the recruited muscles; "
                                     "their static stability is in result.json (status.stable)",
                                     color="0.35", fontsize=STYLE["font"], ha="left", va="bottom"))
    return out


# ------------------------------------------------------------------------------------------
# Figures and files
# ------------------------------------------------------------------------------------------
#: White margin (in) around a saved figure's drawn content.
SAVE_PAD_IN = 0.1


def save_figure(fig, path, *, dpi: int = 150) -> Path:
    """Write a figure to PNG, SVG or PDF (by suffix), atomically (`files.atomic_write`),
    cropped to its drawn content with a `SAVE_PAD_IN` margin. Returns the path.

    A PNG is drawn once: rendered at ``dpi``, cropped to the content's extent and encoded
    (`_png_once`); matplotlib's ``bbox_inches="tight"`` draws every figure twice, once to find
    that extent (issue 17: 400 -> 320 ms for a posture figure). SVG and PDF go through
    matplotlib's own tight saving."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "svg", "pdf"):
        raise ValueError(f"save_figure: unsupported file type {path.suffix!r} (use .png, .svg or .pdf)")
    if kind == "png":
        return atomic_write(path, lambda tmp: _png_once(fig, tmp, dpi))
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=kind, dpi=dpi, bbox_inches="tight",
                                                      pad_inches=SAVE_PAD_IN))


def _png_once(fig, path, dpi: int) -> None:
    """Render ``fig`` at ``dpi`` on an Agg canvas, crop the pixels to the drawn content's
    extent (`Figure.get_tightbbox`) plus `SAVE_PAD_IN` (white where that margin runs past the
    canvas) and write them as PNG (`agg.write_png`). The figure's own dpi is restored."""
    old_dpi, old_canvas = fig.dpi, fig.canvas
    try:
        fig.set_dpi(dpi)
        canvas = canvas_class()(fig)                # Agg, its text drawn at less cost (`agg`)
        canvas.draw()
        with _ticks_as_drawn(fig):
            box = fig.get_tightbbox(canvas.get_renderer()).padded(SAVE_PAD_IN)   # inches
        pixels = np.asarray(canvas.buffer_rgba())
    finally:
        fig.set_dpi(old_dpi)
        fig.set_canvas(old_canvas)
    h = pixels.shape[0]
    x0, x1 = int(round(box.x0 * dpi)), int(round(box.x1 * dpi))
    y0, y1 = h - int(round(box.y1 * dpi)), h - int(round(box.y0 * dpi))    # rows from the top
    write_png(path, pixels, dpi, (y0, y1, x0, x1))  # RGB: the figures are opaque, on white


@contextlib.contextmanager
def _ticks_as_drawn(fig):
    """Each axis of ``fig`` keeps the ticks its draw placed: `Figure.get_tightbbox` after the
    draw asks for them ~40 times per figure (every spine and tick label box), and
    matplotlib's ``Axis._update_ticks`` recomputed the locator and the labels each time, of
    which nothing changes (measured: the extent of a posture figure 23 -> 9 ms, of a sweep's
    31 -> 12 ms). Without that method (another matplotlib) nothing is kept."""
    kept = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            update = getattr(axis, "_update_ticks", None)
            if callable(update):
                ticks = update()
                axis._update_ticks = lambda ticks=ticks: list(ticks)
                kept.append(axis)
    try:
        yield
    finally:
        for axis in kept:
            del axis._update_ticks


def _figure(size) -> Figure:
    fig = Figure(figsize=size)
    fig.set_facecolor("white")
    return fig


#: Width / height of the lumbopelvic view (`drawing.zoom`).
_ZOOM_ASPECT = (0.14 + 0.17) / (0.29 + 0.07)
#: Height (in) of a posture panel side by side, and the room (in) for the values, the colour
#: bar and the margins around the panels.
_PANEL_IN, _MARGIN_IN, _RIGHT_IN = 7.6, 0.9, 2.6
#: Characters of a 6.5-pt label that fit in the right-hand column (`_RIGHT_IN`): the
#: overlay's table and the bars' legend wrap their long labels to it
_RIGHT_CHARS = 42


def _whole_and_zoom(aspect: float, top: float):
    """A figure with two axes, the whole model and the lumbopelvic region, laid out for a whole
    model drawn ``aspect`` (width / height) wide: side by side, or (a lying body, wider than
    tall) the whole model across the top. ``top``: the figure fraction above the axes."""
    if aspect > 1.5:
        width = _MARGIN_IN + _PANEL_IN * _ZOOM_ASPECT + _RIGHT_IN + 2.5
        h_top = (width - _MARGIN_IN - _RIGHT_IN) / aspect + 0.4
        fig = _figure((width, h_top + _PANEL_IN + 1.4))
        gs = fig.add_gridspec(2, 1, height_ratios=[h_top, _PANEL_IN], hspace=0.2)
    else:
        r = min(max(aspect, 0.2), 0.6)
        width = _MARGIN_IN + _PANEL_IN * (r + _ZOOM_ASPECT) * 1.08 + _RIGHT_IN
        fig = _figure((width, _PANEL_IN + 1.4))
        gs = fig.add_gridspec(1, 2, width_ratios=[r, _ZOOM_ASPECT], wspace=0.2)
    fig.subplots_adjust(left=0.6 / fig.get_figwidth(), right=1.0 - _RIGHT_IN / fig.get_figwidth(),
                        top=top, bottom=0.7 / fig.get_figheight())
    return fig, fig.add_subplot(gs[0]), fig.add_subplot(gs[1])


def posture_figure(report, *, title: str | None = None, highlight=()) -> Figure:
    """A figure of one posture: the whole model (left; lying: across the top, the body on the
    table with gravity down the page) with the centres of mass and pressure, and the
    lumbopelvic region in the model's frame with the radiographic angles (right), sharing one
    muscle force scale; the legend of the muscle groups beside it. ``highlight``: the muscles a
    scenario sets (`plot_posture`)."""
    fig, ax0, ax1 = _whole_and_zoom(drawing.whole_aspect([report]), top=0.93)
    nrm = muscle_norm(np.asarray(report.muscle_force, float), None)
    whole = plot_posture(ax0, report, legend=False, angles=False, norm=nrm, label="whole model",
                         gravity_down=True, highlight=highlight)
    for art in whole["status"] + whole["highlight"]:   # the lumbopelvic view carries them
        art.remove()
    plot_posture(ax1, report, norm=nrm, label="lumbopelvic region", highlight=highlight,
                 balance=False)
    zoom(ax1, report)
    if title:
        fig.suptitle(title, fontsize=STYLE["title"] + 1, fontweight="bold")
    return fig


#: The bars of `overlay_figure` after the segmental lordosis per level: (metric key, label).
DIFFERENCE_BARS = (("lumbar_lordosis_deg", "LL"), ("sacral_slope_deg", "SS"),
                   ("pelvic_tilt_deg", "PT"), ("thoracic_kyphosis_deg", "TK"),
                   ("hip_flexion_deg", "hip flexion"))
#: Height (in) of the bar chart of the changes under the postures of `overlay_figure`, the room
#: (in) above it (the axis label of the panels and the chart's title) and above the panels (the
#: figure's title).
_BARS_IN, _BARS_GAP_IN, _TITLE_IN = 2.1, 0.8, 0.35


def _difference_keys(reports) -> list[tuple[str, str]]:
    """(metric key, label) of the angles of the bar chart of changes: `DIFFERENCE_BARS`, the
    hip flexion of each leg where a posture has two legs."""
    if not any(r.result.problem.model.sides for r in reports):
        return list(DIFFERENCE_BARS)
    return [kv for kv in DIFFERENCE_BARS if kv[0] != "hip_flexion_deg"] + \
        [("hip_flexion_deg_right", "hip R"), ("hip_flexion_deg_left", "hip L")]


def _difference_values(report, keys) -> np.ndarray:
    """The quantities of the bar chart of changes (°): segmental lordosis per level, then the
    angles ``keys`` (`_difference_keys`; a lumped leg's value stands for each side's)."""
    m = report.metrics
    return np.array([m["segmental_lordosis_deg"][lv] for lv in LUMBAR_LEVELS]
                    + [m.get(key, m[key.removesuffix("_right").removesuffix("_left")]) for key, _abbr in keys],
                    float)


def _difference_bars(ax, reports, labels) -> dict:
    """Bars of the change from the reference (``reports[0]``) of the segmental lordosis per
    level and of the key angles: one bar per other posture in its overlay colour, labelled
    with its value (so that a change of 0.2° reads as well as one of 5°).

    Returns a dict: bars (one BarContainer per other posture), values (their labels),
    categories (the x tick labels)."""
    keys = _difference_keys(reports)
    cats = list(LUMBAR_LEVELS) + [abbr for _key, abbr in keys]
    ref = _difference_values(reports[0], keys)
    n = len(reports) - 1
    step = 0.8 / max(n, 1)
    x = np.arange(len(cats), dtype=float)
    out: dict = {"bars": [], "values": [], "categories": cats}
    names = _posture_labels(reports, labels)
    # the value labels stand upright when they are wider than their bar
    pos = ax.get_position()
    bar_pt = pos.width * ax.figure.get_figwidth() * 72.0 * step / (len(cats) + 0.2)
    rotation = 90 if bar_pt < 4.0 * 0.62 * STYLE["small"] else 0
    lo = hi = 0.0
    for k, rep in enumerate(reports[1:], start=1):
        d = _difference_values(rep, keys) - ref
        lo, hi = min(lo, float(d.min())), max(hi, float(d.max()))
        bars = ax.bar(x - 0.4 + step * (k - 0.5), d, 0.9 * step, color=_posture_colour(k),
                      label=textwrap.fill(names[k], _RIGHT_CHARS), zorder=2, hatch="///" if status_note(rep.result) else None,
                      edgecolor="white" if status_note(rep.result) else None)
        out["bars"].append(bars)
        out["values"].extend(ax.bar_label(bars, labels=[signed(v) for v in d], padding=1.5,
                                          fontsize=STYLE["small"], rotation=rotation,
                                          color="0.15"))
    ax.axhline(0.0, color="black", lw=0.8, zorder=3)
    ax.axvline(len(LUMBAR_LEVELS) - 0.5, color="#999999", ls=":", lw=0.8, zorder=1)
    span = max(hi - lo, 0.5)
    pad = (0.4 if rotation else 0.25) * span    # room for the value labels
    ax.set_ylim(lo - (pad if lo < 0 else 0.08 * span), hi + (pad if hi > 0 else 0.08 * span))
    ax.set_xlim(-0.6, len(cats) - 0.4)
    ax.set_xticks(x, cats)
    ax.set_ylabel("change from reference (°)")
    ax.set_title("change from the reference (Δ = posture − reference): segmental lordosis per "
                 "level | angles", fontsize=STYLE["font"], loc="left", y=TITLE_Y)
    ax.grid(True, axis="y", color="#eeeeee", lw=0.6, zorder=0)
    leg = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=STYLE["small"],
                    frameon=False, borderaxespad=0.0)
    for txt, rep in zip(leg.get_texts(), reports[1:]):
        if status_note(rep.result):      # as in the overlay's legend (the bars are hatched)
            txt.set_color(STYLE["fail"])
    style_axes(ax)
    return out


def _overlay_title(labels) -> str:
    """'<label 1> vs <label 0> (reference)'."""
    labels = [str(x) for x in labels]
    if len(labels) < 2:
        return labels[0] if labels else ""
    return f"{', '.join(labels[1:])} vs {labels[0]} (reference)"


def overlay_figure(reports, labels, *, title: str | None = None) -> Figure:
    """A figure overlaying postures on the first (grey reference): the whole model (left; lying:
    across the top, gravity down the page) and the lumbopelvic region (right), with a legend
    and a table of metric differences, and under them the bars of the change of the segmental
    lordosis and of the key angles (`DIFFERENCE_BARS`). ``title``: default
    "<label 1> vs <label 0> (reference)"."""
    reports = list(reports)
    labels = [str(x) for x in labels]
    if len(reports) != len(labels) or not reports:
        raise ValueError("overlay_figure needs one label per report and at least one report")
    fig, ax0, ax1 = _whole_and_zoom(drawing.whole_aspect(reports[:1]), top=0.95)
    # room above the panels for the title and under them for the bars: the panels keep their size
    w, h = fig.get_size_inches()
    sp = fig.subplotpars
    below = _BARS_IN + _BARS_GAP_IN if len(reports) > 1 else 0.0
    height = h + _TITLE_IN + below
    fig.set_size_inches(w, height)
    fig.subplots_adjust(top=1.0 - ((1.0 - sp.top) * h + _TITLE_IN) / height,
                        bottom=(sp.bottom * h + below) / height)
    _overlay(ax0, reports, labels, table=False, legend=False, gravity_down=True)
    ax0.set_title("whole model", fontsize=STYLE["title"], y=TITLE_Y)
    plot_overlay(ax1, reports, labels)
    ax1.set_title("lumbopelvic region", fontsize=STYLE["title"], y=TITLE_Y)
    zoom(ax1, reports[0])
    if len(reports) > 1:
        for ax in (ax0, ax1):
            ax.apply_aspect()
        p0, p1 = ax0.get_position(), ax1.get_position()
        x0, x1 = min(p0.x0, p1.x0), max(p0.x1, p1.x1)
        top = min(p0.y0, p1.y0) - _BARS_GAP_IN / height
        bars = fig.add_axes((x0, top - _BARS_IN / height, x1 - x0, _BARS_IN / height),
                            label="differences")
        _difference_bars(bars, reports, labels)
    fig.suptitle(wrap_text(title if title is not None else _overlay_title(labels), 110),
                 fontsize=STYLE["title"] + 1, fontweight="bold")
    return fig


#: The panels of `side_by_side_figure`: (key, y label); "psoas_length" is the psoas lines'
#: length change from relaxed standing, the others metrics of conventions §3.
SIDE_BY_SIDE = (("psoas_length", "psoas length vs relaxed standing (%)"),
                ("lumbar_lordosis_deg", "lumbar lordosis L1-S1 (°)"),
                ("pelvic_tilt_deg", "pelvic tilt (°, + = posterior)"),
                ("hip_flexion_deg", "hip flexion (°)"))


def _side_by_side_bars(report, key: str) -> list[tuple[float, float, float, np.ndarray, str]]:
    """The bars of one posture in a `side_by_side_figure` panel: (x offset, width, value, the
    psoas fascicles' values (for the dots), side letter). With two legs the psoas length and the
    hip flexion get a bar for each side (right, left: one side's psoas is stretched while the
    other's shortens); otherwise one bar."""
    m = report.result.problem.model
    per_side = m.sides and key in ("psoas_length", "hip_flexion_deg")
    sides = [(f"_{s}", s[0].upper()) for s in m.sides] if per_side else [("", "")]
    out = []
    for k, (sfx, letter) in enumerate(sides):
        offset, width = ((-0.18 + 0.36 * k), 0.34) if per_side else (0.0, 0.7)
        if key == "psoas_length":
            each = report.length_change_percent[m.group_lines("psoas" + sfx)]
            value = float(np.mean(each)) if len(each) else float("nan")
        else:
            each, value = np.zeros(0), float(report.metrics[key + sfx])
        out.append((offset, width, value, each, letter))
    return out


def side_by_side_figure(reports, labels, *, title: str | None = None) -> Figure:
    """Postures side by side as bars (one colour per posture, as in `overlay_figure`): the
    psoas's length change from relaxed standing (the bar: the mean of its lines; a dot per
    fascicle), the lumbar lordosis, the pelvic tilt and the hip flexion; with two legs the psoas
    and the hip get a bar per side (R, L). A posture that is not an answer is hatched and its
    label red: its values are the solver's last iterate. ``title``: default "Side by side:
    <labels>".

    The question it answers at a glance: does this posture (stretch, exercise) lengthen the
    psoas, and what do the lumbar curve and the pelvis do?"""
    reports = list(reports)
    labels = [str(x) for x in labels]
    if len(reports) != len(labels) or not reports:
        raise ValueError("side_by_side_figure needs one label per report and at least one report")
    n = len(reports)
    n_bars = n + 0.5 * sum(bool(r.result.problem.model.sides) for r in reports)   # two legs: two bars
    rows = 2 if n_bars > 8 else 1                       # many postures: the panels in two rows
    cols = len(SIDE_BY_SIDE) // rows
    fig = _figure((max(8.0, 1.6 + 0.5 * n_bars * cols), 4.8 * rows))
    axes = fig.subplots(rows, cols).ravel()
    x = np.arange(n)
    failed = [status_note(r.result) is not None for r in reports]
    for ax, (key, ylabel) in zip(axes, SIDE_BY_SIDE):
        values, dots = [], []
        for k, r in enumerate(reports):
            for offset, width, value, each, letter in _side_by_side_bars(r, key):
                bar = ax.bar([x[k] + offset], [value], width, color=_posture_colour(k), zorder=2,
                             edgecolor="white" if failed[k] else "none", hatch="///" if failed[k] else None)
                text = signed(value) + " %" if key == "psoas_length" else f"{value:.1f}"
                if letter:                   # a side's bar: its value, its side at the zero line
                    text = signed(value) if key == "psoas_length" else f"{value:.0f}"
                    ax.text(x[k] + offset, 0.0, letter, ha="center", va="top" if value >= 0 else "bottom",
                            fontsize=STYLE["small"] - 1, color="0.15", zorder=4)
                ax.bar_label(bar, labels=[text], padding=2, fontsize=STYLE["small"] - (1 if letter else 0),
                             color="0.15")
                if len(each):
                    ax.plot(np.full(len(each), x[k] + offset + 0.5 * width + 0.1), each, "o", ms=2.5,
                            color="black", alpha=0.6, zorder=3)      # beside the bar, clear of its value
                values.append(value)
                dots.extend(each)
        ax.axhline(0.0, color="black", lw=0.8, zorder=3)
        spread = np.array(values + list(dots) + [0.0], float)
        lo, hi = float(np.nanmin(spread)), float(np.nanmax(spread))
        span = max(hi - lo, 1.0)
        ax.set_ylim(lo - (0.3 * span if lo < 0 else 0.05 * span), hi + 0.3 * span)
        ax.set_xticks(x, labels, fontsize=STYLE["small"], rotation=35, ha="right",
                      rotation_mode="anchor")
        for tick, f in zip(ax.get_xticklabels(), failed):
            if f:
                tick.set_color(STYLE["fail"])
        ax.set_title(ylabel, fontsize=STYLE["font"])
        ax.grid(True, axis="y", color="#eeeeee", lw=0.6, zorder=0)
        style_axes(ax)
    fig.suptitle(title if title is not None else wrap_text("Side by side: " + ", ".join(labels), 110),
                 fontsize=STYLE["title"] + 1, fontweight="bold")
    note = "hatched, red: not an answer (status in result.json); " if any(failed) else ""
    if any(r.result.problem.model.sides for r in reports):
        note += "R, L: the right and the left leg's side; "
    fig.text(0.01, 0.005, note + "psoas: bar = mean of its lines, dots = each fascicle; relaxed "
             "standing = the model's standing reference posture", fontsize=STYLE["small"],
             color="0.35", ha="left", va="bottom")
    if rows == 1:
        fig.subplots_adjust(left=0.06, right=0.99, top=0.84, bottom=0.27, wspace=0.3)
    else:
        fig.subplots_adjust(left=0.07, right=0.99, top=0.91, bottom=0.14, wspace=0.25, hspace=0.6)
    return fig


def sweep_figure(values, reports, *, parameter: str, statuses=None, also=(), grid: bool = False) -> Figure:
    """A four-panel figure of a parameter sweep (see `plot_sweep`) against its first swept key
    ``parameter``; ``also``: the other swept keys, stepped with it (zipped) or, ``grid``, over a
    grid, named in the title."""
    fig = _figure((8.5, 11.5))
    plot_sweep(fig, values, reports, parameter=parameter, statuses=statuses)
    title = f"sweep of {parameter_label(parameter)}"
    if also:
        title += (" over a grid with " if grid else ", with ") + ", ".join(map(parameter_label, also)) \
            + ("" if grid else " alongside")
    title = wrap_text(title, 90)
    fig.subplots_adjust(left=0.1, right=0.74, top=0.94 - 0.017 * title.count("\n"), bottom=0.08, hspace=0.3)
    fig.suptitle(title, fontsize=STYLE["title"] + 1, fontweight="bold")
    return fig
