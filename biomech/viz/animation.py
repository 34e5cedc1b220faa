"""Animations of sweeps (`biomech animate FILE --out sweep.gif`): one frame per sweep point.

Each frame shows the posture of one point (whole model and lumbopelvic region, the first point
as a grey ghost under it, one muscle-force colour scale for every frame), the swept value(s),
the point's status and its metrics. The frames are drawn as the live viewer redraws
(`viewer.PostureView`: artists built once and moved from frame to frame): what does not move
(axes, ticks, the ghost, the legend, the titles) is drawn once, and each frame draws only the
moving artists over that image (`animation_frames`; a 17-point sweep 5.6 -> 1.7 s, issue 17).
GIF goes through Pillow (a matplotlib dependency), each frame's palette made while the next
frame is drawn; MP4 needs ffmpeg on the PATH (matplotlib's writer, fed each frame's pixels as
they are: `_Pixels`).

    from biomech.runner import run_scenario
    from biomech.scenario import load_scenario
    from biomech.viz.animation import write_animation
    write_animation(run_scenario(load_scenario("scenarios/psoas_tension_sweep.toml")), "psoas.gif")
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from matplotlib.artist import Artist

from ..files import atomic_write
from . import drawing, figures

__all__ = ["FORMATS", "ffmpeg_available", "check_output", "write_animation", "animation_frames", "frame_label"]

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
    """Write an animation of a sweep run, one frame per point (`animation_frames`), atomically.

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
    path = Path(path)
    problem = check_output(path)
    if problem:
        raise ValueError(problem)
    if not (0.2 <= float(fps) <= 60.0):
        raise ValueError(f"fps must be within 0.2-60, got {fps}")
    frames = animation_frames(run, dpi=dpi, size=size)

    def write_gif(tmp: Path) -> None:
        # each frame made a palette image as matplotlib's Pillow writer makes it (RGB, an adaptive
        # palette: 64 ms), in a thread while the next frame is drawn (Pillow lets go of the GIL)
        with ThreadPoolExecutor(1) as pool:
            pending = [pool.submit(_palette_image, rgba[..., :3].copy()) for rgba in frames]
            images = [f.result() for f in pending]
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=int(1000 / fps), loop=0)

    def write_movie(tmp: Path) -> None:
        from matplotlib import animation
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        frame = Figure(figsize=size, dpi=dpi)       # what the writer saves: each frame's pixels
        FigureCanvasAgg(frame)
        pixels = frame.add_artist(_Pixels())
        writer = animation.writers[FORMATS[path.suffix.lower()]](fps=fps)
        with writer.saving(frame, str(tmp), dpi):
            for rgba in frames:
                pixels.rgba = rgba
                writer.grab_frame()

    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, write_gif if path.suffix.lower() == ".gif" else write_movie)


def animation_frames(run, *, dpi: int = 100, size=(11.0, 6.4)):
    """The frames of `write_animation` (module docstring): an iterator of one image (h, w, 4) of
    uint8 per sweep point, rows from the top, each the drawing canvas's own pixels (valid until
    the next frame is drawn: copy one to keep it). The figure is built here; each frame is drawn
    as it is asked for. Raises ValueError for a run that is not a sweep or has nothing to draw."""
    from matplotlib.figure import Figure
    from .viewer import (MetricsPanel, PostureView, _fixed_limits, group_legend, moving_artists, posture_axes,
                         safe_report, status_of)

    if not run.is_sweep:
        raise ValueError(f"{run.scenario.path}: not a sweep; an animation needs a [sweep] table")
    reports = [safe_report(pt.result) for pt in run.points]
    drawable = [r for r in reports if r is not None]
    if not drawable:
        raise ValueError(f"{run.scenario.name}: no sweep point produced a drawable posture")
    top = max(float(np.max(r.muscle_force)) for r in drawable)
    norm = drawing.muscle_norm(np.array([top]), None)

    fig = Figure(figsize=size, dpi=dpi)
    canvas = figures.canvas_class()(fig)        # Agg, its text drawn at less cost (`agg`)
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
    # the moving artists, in drawing order, over an image of everything else (drawn once)
    moving = moving_artists(zoom.dynamic, whole.dynamic, panel.dynamic, [value_text])
    for a in moving:
        a.set_animated(True)
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    renderer = canvas.get_renderer()
    n = len(run.points)

    def frames():
        for k, (pt, rep) in enumerate(zip(run.points, reports)):
            word, failed = status_of(pt.result)
            zoom.show(rep, note=drawing.status_note(pt.result))
            whole.show(rep)
            panel.show(rep, pt.result, footer=f"frame {k + 1} of {n}")
            value_text.set_text(f"{frame_label(run, k)}    ({word})")
            value_text.set_color(drawing.STYLE["fail"] if failed else "black")
            canvas.restore_region(background)
            for a in moving:
                a.draw(renderer)
            yield np.asarray(canvas.buffer_rgba())
    return frames()


def _palette_image(rgb: np.ndarray):
    """A Pillow palette image of an RGB frame (h, w, 3), its palette adapted to the frame."""
    from PIL import Image
    return Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE)


class _Pixels(Artist):
    """An image (h, w, 4) of uint8, rows from the top, drawn pixel for pixel at the figure's lower
    left corner: a figure of the image's size then saves exactly these pixels (and faster than
    ``figimage``, which resamples: 2.4 against 34 ms a frame of 1100 × 640)."""

    rgba = None

    def draw(self, renderer):
        gc = renderer.new_gc()
        renderer.draw_image(gc, 0, 0, self.rgba[::-1])
        gc.restore()
