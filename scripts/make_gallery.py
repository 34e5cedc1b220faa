"""Draw the example figures of docs/gallery.md: one of each figure type of `biomech.viz`.

All in the default (upright) mode: the person keeps the gaze level and the balance over the
feet, muscles and posture chosen with least effort.

* ``posture.png``: neutral (relaxed) standing of the default subject, whole model and the
  lumbopelvic region with the radiographic angles;
* ``overlay.png``: psoas tension 400 N drawn over neutral standing (grey reference), with the
  differences of every metric;
* ``sweep.png``: psoas tension 0-400 N in 5 points: lordosis, pelvis, muscle-group forces and
  lumbosacral loads;
* ``side_by_side.png``: neutral standing, psoas 400 N, sitting and lying side by side: the
  psoas's length change from relaxed standing, LL, PT and hip flexion;
* ``sweep.gif``: the animation that `biomech animate` makes of scenarios/psoas_tension_upright.toml
  (0-800 N, fewer frames: ``--frames``);
* ``viewer.png``: the window of `biomech view scenarios/neutral_standing.toml` with the psoas
  slider at 400 N, rendered headless.

Usage::

    python scripts/make_gallery.py [--out DIR] [--points N] [--dpi DPI] [--frames N]

Writes into ``docs/gallery`` of the repository by default; exits 0 when every posture solved,
1 when one did not (the figures are written all the same and mark it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:            # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import biomech as bm  # noqa: E402
from biomech import viz  # noqa: E402
from biomech.upright import UprightTarget, solve_upright  # noqa: E402

SWEEP_PARAMETER = "muscles.psoas.tension_N"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery",
                    help="output directory (default: docs/gallery)")
    ap.add_argument("--points", type=int, default=5,
                    help="points of the psoas tension sweep 0-400 N (default 5, at least 2)")
    ap.add_argument("--dpi", type=int, default=150, help="resolution of the PNG files")
    ap.add_argument("--frames", type=int, default=9,
                    help="frames of the psoas sweep animation 0-800 N (default 9, at least 2)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.points < 2 or args.frames < 2:
        print("make_gallery: --points and --frames must be at least 2", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = bm.make_model()
    standing = bm.Support("standing")

    def solve(tension_N=None, q0=None):
        settings = {} if tension_N is None else {"psoas": bm.MuscleSetting(tension_N=float(tension_N))}
        problem = bm.prepare(model, support=standing, settings=settings, locked_joints=())
        return solve_upright(problem, UprightTarget(), q0=q0)

    neutral = solve()
    psoas400 = solve(400.0)
    values = np.linspace(0.0, 400.0, args.points)
    results = []
    for v in values:                                 # continuation, as `biomech run` does
        results.append(solve(v, q0=results[-1].q if results and results[-1].success else None))
    reports = [bm.posture_report(r) for r in (neutral, psoas400, *results)]
    rep_neutral, rep_psoas = reports[0], reports[1]
    # sitting and lying in the default mode, for the side-by-side comparison
    others = [solve_upright(bm.prepare(model, support=bm.Support(kind), locked_joints=()), UprightTarget())
              for kind in ("sitting", "lying")]
    rep_sit, rep_lie = (bm.posture_report(r) for r in others)

    written = []
    figures = (
        ("posture.png", viz.posture_figure(rep_neutral, title="Neutral standing (default subject)")),
        ("overlay.png", viz.overlay_figure([rep_neutral, rep_psoas],
                                                ["neutral standing", "psoas tension 400 N"])),
        ("sweep.png", viz.sweep_figure(values, reports[2:], parameter=SWEEP_PARAMETER)),
        ("side_by_side.png", viz.side_by_side_figure(
            [rep_neutral, rep_psoas, rep_sit, rep_lie],
            ["neutral standing", "psoas 400 N", "sitting", "lying supine"])),
    )
    for name, fig in figures:
        written.append(viz.save_figure(fig, out / name, dpi=args.dpi))
    ok_anim = _animation_and_viewer(out, args, written)
    for path in written:
        print(path)
    ok = ok_anim and all(r.success for r in (neutral, psoas400, *results, *others))
    return 0 if ok else 1


def _animation_and_viewer(out: Path, args, written: list) -> bool:
    """sweep.gif (small: few frames, 80 dpi) and viewer.png (the viewer, headless)."""
    import dataclasses

    from matplotlib.figure import Figure

    from biomech.viz.animation import write_animation
    from biomech.runner import run_scenario
    from biomech.scenario import Sweep, load_scenario
    from biomech.viz.viewer import LiveViewer

    sc = load_scenario(ROOT / "scenarios" / "psoas_tension_upright.toml")
    values = tuple((float(v),) for v in np.linspace(0.0, 800.0, args.frames))
    run = run_scenario(dataclasses.replace(sc, sweep=Sweep((SWEEP_PARAMETER,), values, False)))
    written.append(write_animation(run, out / "sweep.gif", fps=2, dpi=min(args.dpi, 80)))

    fig = Figure(figsize=(13, 8.5))
    viewer = LiveViewer(fig, load_scenario(ROOT / "scenarios" / "neutral_standing.toml"), blit=False)
    viewer.sliders["psoas"].set_val(400.0)       # as if the user had dragged it
    written.append(viz.save_figure(fig, out / "viewer.png", dpi=min(args.dpi, 100)))
    return run.success and viewer.last_result.success


if __name__ == "__main__":
    sys.exit(main())
