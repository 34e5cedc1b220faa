"""Animations of sweeps (`biomech animate FILE --out sweep.gif`): one frame per sweep point.

Each frame shows the posture of one point (whole model and lumbopelvic region, the first point
as a grey ghost, one muscle-force colour scale for every frame), the swept value(s), the
point's status and its metrics. The frames are drawn with `biomech.viewer.PostureView`
(artists built once, moved from frame to frame). GIF goes through Pillow (a matplotlib
dependency); MP4 needs ffmpeg on the PATH. matplotlib is imported only when a file is written.

    from biomech.runner import run_scenario
    from biomech.scenario import load_scenario
    from biomech.animation import write_animation
    write_animation(run_scenario(load_scenario("scenarios/psoas_tension_sweep.toml")), "psoas.gif")
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..files import atomic_write
from . import drawing, figures

__all__ = ["FORMATS", "ffmpeg_available", "check_output", "write_animation", "frame_label"]

#: suffix -> matplotlib writer name
FORMATS = {".gif": "pillow", ".mp4": "ffmpeg"}


def ffmpeg_available() -> bool:
    """Whether matplotlib can write MP4 here (ffmpeg found)."""
    from matplotlib import animation
    return bool(animation.writers.is_available("ffmpeg"))


def check_output(path) -> str | None:
    """What is wrong with an output file name (None when it can be written)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        return (f"{path}: unsupported animation type {Path(path).suffix or '(no suffix)'!r}; "
                "use .gif (always available) or .mp4 (needs ffmpeg)")
    if suffix == ".mp4" and not ffmpeg_available():
        return (f"{path}: writing .mp4 needs ffmpeg, which was not found on the PATH; "
                "install ffmpeg, or write a .gif instead (e.g. --out sweep.gif)")
    return None


def frame_label(run, k: int) -> str:
    """'psoas tension = 400 N' (every swept key) for point k of a sweep run."""
    parts = []
    for key, v in zip(run.scenario.sweep.parameters, run.points[k].values):
        label = figures.parameter_label(key)
        if label.endswith(")") and " (" in label:
            name, unit = label[:-1].rsplit(" (", 1)
            unit = "" if unit in ("0-1", "× default", "q") else unit
            sep = "" if unit == "°" else " "
            parts.append(f"{name} = {v:g}{sep}{unit}".rstrip())
        else:
            parts.append(f"{label} = {v:g}")
    return ", ".join(parts)


def write_animation(run, path, *, fps: float = 2.0, dpi: int = 100,
                    size=(11.0, 6.4)) -> Path:
    """Write an animation of a sweep run, one frame per point, atomically.

    Parameters
    ----------
    run : `biomech.runner.ScenarioRun` of a sweep scenario.
    path : output file, .gif (Pillow) or .mp4 (ffmpeg).
    fps : frames per second (0.2-60).
    dpi : resolution (the frame is ``size`` inches).
    size : (width, height) of a frame in inches.

    Returns the path. Raises ValueError for a run that is not a sweep, a bad suffix or a
    missing ffmpeg (nothing is written).
    """
    from matplotlib import animation
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from .viewer import (MetricsPanel, PostureView, _fixed_limits, group_legend, posture_axes,
                         safe_report, status_of)

    path = Path(path)
    if not run.is_sweep:
        raise ValueError(f"{run.scenario.path}: not a sweep; an animation needs a [sweep] table")
    problem = check_output(path)
    if problem:
        raise ValueError(problem)
    if not (0.2 <= float(fps) <= 60.0):
        raise ValueError(f"fps must be within 0.2-60, got {fps}")
    reports = [safe_report(pt.result) for pt in run.points]
    drawable = [r for r in reports if r is not None]
    if not drawable:
        raise ValueError(f"{run.scenario.name}: no sweep point produced a drawable posture")
    top = max(float(np.max(r.muscle_force)) for r in drawable)
    norm = drawing.muscle_norm(np.array([top]), None)

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    fig.set_facecolor("white")
    first = drawable[0]
    ax_whole, ax_zoom, ax_panel, turned = posture_axes(fig, first, left=0.07, right=0.99, top=0.86,
                                                       bottom=0.08, widths=(1.0, 0.55))
    figures.plot_posture(ax_whole, first, ghost=True, gravity_down=turned)
    figures.plot_posture(ax_zoom, first, ghost=True)
    own = [name for name, _ in run.scenario.muscles]          # the file's muscles, on top
    whole = PostureView(ax_whole, first, norm=norm, angles=False, banner=False, gravity_down=turned,
                        highlight=own)
    zoom = PostureView(ax_zoom, first, norm=norm, highlight=own)
    _fixed_limits(ax_whole, drawable, pad=0.05, gravity_down=turned)
    drawing.zoom(ax_zoom, first)
    ax_whole.set_title("whole model", fontsize=drawing.STYLE["title"])
    ax_zoom.set_title(f"lumbopelvic region (grey: {frame_label(run, reports.index(first))})",
                      fontsize=drawing.STYLE["title"])
    group_legend(ax_panel, first, norm)
    panel = MetricsPanel(ax_panel, "")
    sc = run.scenario
    fig.suptitle(f"{sc.name} ({sc.mode} mode)", fontsize=drawing.STYLE["title"] + 1,
                 fontweight="bold", y=0.985)
    value_text = fig.text(0.5, 0.925, "", ha="center", va="center",
                          fontsize=drawing.STYLE["title"] + 1, fontweight="bold")

    writer = animation.writers[FORMATS[path.suffix.lower()]](fps=fps)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(run.points)

    def write(tmp: Path) -> None:
        with writer.saving(fig, str(tmp), dpi):
            for k, (pt, rep) in enumerate(zip(run.points, reports)):
                word, failed = status_of(pt.result)
                zoom.show(rep, note=drawing.status_note(pt.result))
                whole.show(rep)
                panel.show(rep, pt.result, footer=f"frame {k + 1} of {n}")
                value_text.set_text(f"{frame_label(run, k)}    ({word})")
                value_text.set_color(drawing.STYLE["fail"] if failed else "black")
                writer.grab_frame()
    return atomic_write(path, write)
