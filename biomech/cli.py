"""The `biomech` command: run, check, list, compare scenarios; describe the model; export it.

Exit codes (conventions §6): 0 every posture solved (converged and stable); 1 valid input but a
posture could not be solved (outputs still written, status says why); 2 bad input (nothing
written). An unexpected internal error (a bug) exits with 3 and asks to report it.
`biomech view` also exits with 2 when this environment cannot show a window (no display, or a
non-interactive matplotlib backend such as MPLBACKEND=Agg).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import __version__
from .errors import BiomechError, ScenarioError

EXIT_OK, EXIT_UNSOLVED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

_EXAMPLES = {
    "run": "example:\n  biomech run scenarios/                 # the whole library, figures in results/\n"
           "  biomech run scenarios/tight_psoas.toml --json > tight.json",
    "check": "example:\n  biomech check scenarios/ my_scenario.toml",
    "list": "example:\n  biomech list scenarios/",
    "compare": "example:\n  biomech compare scenarios/neutral_standing.toml scenarios/tight_psoas.toml",
    "model": "example:\n  biomech model --json > model.json",
    "view": "example:\n  biomech view scenarios/tight_psoas.toml        # sliders: psoas, rectus abdominis,\n"
            "                                                 # erector spinae, hamstrings, thigh\n"
            "exit codes: 0 window closed; 2 bad file, or no window can be shown here (no display,\n"
            "or a non-interactive backend such as MPLBACKEND=Agg): use `biomech animate` or\n"
            "`biomech run` instead.",
    "export": "example:\n  biomech export scenarios/tight_psoas.toml --osim tight_psoas.osim\n"
              "  biomech export scenarios/psoas_tension_sweep.toml --osim psoas400.osim --point 8   # 400 N\n"
              "exit codes: 0 written, the posture solved; 1 written, but the posture did not solve (its\n"
              "status is in the file's first comment); 2 bad input (nothing written).\n"
              "What is exported and what is approximated: docs/api.md §4.",
    "animate": "example:\n  biomech animate scenarios/psoas_tension_sweep.toml --out psoas.gif --fps 4\n"
               "  biomech animate scenarios/thigh_inclination_sweep.toml --out thigh.mp4   # needs ffmpeg",
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="biomech", description="What does a muscle do to the spine? A 2D static model of the "
        "lumbar spine, pelvis, femur and thorax, driven by scenario files (TOML).",
        epilog="Scenario files: docs/scenarios.md. Each subcommand has --help with an example.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"biomech {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name, help_):
        return sub.add_parser(name, help=help_, description=help_, epilog=_EXAMPLES[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    r = add("run", "solve scenario files (or every *.toml in a folder) and write results")
    r.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    r.add_argument("--out", default="results", metavar="DIR", help="output folder (default: results/)")
    r.add_argument("--json", action="store_true", help="print exactly one JSON document on stdout")
    r.add_argument("--no-plots", action="store_true", help="write no figures")
    r.add_argument("--format", choices=("png", "svg", "pdf"), default="png", help="figure format")
    r.add_argument("--dpi", type=int, default=150, help="figure resolution (default 150)")
    _add_parallel(r)

    c = add("check", "validate scenario files without solving")
    c.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")

    li = add("list", "list scenarios with their one-line questions")
    li.add_argument("path", nargs="?", default="scenarios", metavar="DIR")

    co = add("compare", "solve several scenarios and compare their metrics and postures")
    co.add_argument("paths", nargs="+", metavar="FILE")
    co.add_argument("--out", default="results", metavar="DIR", help="where the figures go (the overlay and the side-by-side bars)")
    co.add_argument("--json", action="store_true", help="print the comparison as JSON")
    co.add_argument("--no-plots", action="store_true")
    co.add_argument("--format", choices=("png", "svg", "pdf"), default="png")
    co.add_argument("--dpi", type=int, default=150)
    # a comparison's few single postures solve here sooner than worker processes start (2 cores,
    # measured: 2 files 1.35 against 1.72 s, 6 files with both lying postures 3.26 against 3.52 s)
    _add_parallel(co, 1, "1, this process: a few postures solve sooner than processes start")

    mo = add("model", "describe the default model: bodies, joints, muscles, parameters, sources")
    mo.add_argument("--json", action="store_true")

    vi = add("view", "a window with the posture of a scenario and sliders of muscle tensions "
             "(re-solved live; a sweep shows its base point)")
    vi.add_argument("path", metavar="FILE")

    ex = add("export", "write the model at a scenario's solved posture as an OpenSim 4 model "
             "(.osim): bodies, pin joints at the solved angles, muscle paths, passive joint laws, "
             "support")
    ex.add_argument("path", metavar="FILE")
    ex.add_argument("--osim", required=True, metavar="OUT.osim", help="the OpenSim model file to write")
    ex.add_argument("--point", type=int, default=0, metavar="N",
                    help="for a sweep: which point to export, counted from 0 in the order of the "
                         "sweep's values (default 0, the first)")

    an = add("animate", "an animation of a sweep scenario, one frame per point (.gif, or .mp4 "
             "with ffmpeg)")
    an.add_argument("path", metavar="FILE")
    an.add_argument("--out", default=None, metavar="FILE",
                    help="output file, .gif or .mp4 (default: results/<scenario name>/sweep.gif)")
    an.add_argument("--fps", type=float, default=2.0, help="frames per second (default 2)")
    an.add_argument("--dpi", type=int, default=100, help="resolution (default 100)")
    return ap


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of processes ≥ 1, got {text!r}")
    return int(text)


def _add_parallel(parser, default: int | None = None, why: str = "every core") -> None:
    parser.add_argument("--workers", type=_workers, default=default, metavar="N",
                        help=f"processes solving postures in parallel (default: {why}); results "
                             "are identical to --workers 1")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="solve on the Dask cluster at this scheduler address, e.g. "
                             "tcp://host:8786 (pip install 'biomech[dask]')")


class _Progress:
    """Progress of the solves on stderr, for runs that take longer than a second.

    On a terminal, one live line rewritten in place (``\r``) as postures are solved. In a log
    (stderr not a terminal), no carriage returns: one line per scenario once it is solved
    (`done`), since `run_scenarios` reports progress in postures, not per scenario.
    """

    def __init__(self, label: str):
        self.label = label
        self.start = time.perf_counter()
        self.live = sys.stderr.isatty()

    def slow(self) -> bool:
        return time.perf_counter() - self.start > 1.0

    def __call__(self, done: int, total: int) -> None:
        if self.live and self.slow():
            print(f"\r{self.label}: {done}/{total} postures", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    def done(self, runs) -> None:
        if self.live or not self.slow():
            return
        for run in runs:
            failed = sum(not pt.result.success for pt in run.points)
            n = len(run.points)
            print(f"{self.label} {run.scenario.name}: {n} posture{'s' if n != 1 else ''}"
                  + (f", {failed} not solved" if failed else ""), file=sys.stderr, flush=True)


def _load_all(paths):
    """The scenarios of every file named (folders expanded), and the problems of every bad
    path or file: all are reported, not just the first."""
    from .scenario import find_scenarios
    scenarios, problems = [], []
    for given in paths:
        try:
            files = find_scenarios([given])
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        found, bad = _load_files(files)
        scenarios.extend(found)
        problems.extend(bad)
    return scenarios, problems


def _load_files(files):
    from .scenario import load_scenario
    scenarios, problems = [], []
    for f in files:
        try:
            scenarios.append(load_scenario(f))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    return scenarios, problems


def _writable_folder(option: str, path: Path) -> None:
    """A bad-input error unless ``path`` is, or can be made, a folder this process may write."""
    if "\0" in str(path):
        raise _bad_input(f"{option} {_short(path)}: the path contains a NUL character")
    try:
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if existing == path and not path.is_dir():
            raise _bad_input(f"{option} {_short(path)}: exists and is not a folder; give a folder "
                             "for the outputs")
        if not existing.is_dir():
            raise _bad_input(f"{option} {_short(path)}: {_short(existing)} is not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise _bad_input(f"{option} {_short(path)}: no permission to write in "
                             f"{_short(existing)}; give a folder you may write in")
    except ValueError:
        raise _bad_input(f"{option}: the path contains a NUL character") from None
    except OSError as exc:
        raise _bad_input(f"{option} {_short(path)}: cannot be used ({exc.strerror or exc})") from None


def _check_dpi(dpi: int) -> None:
    if not 20 <= dpi <= 600:
        raise _bad_input(f"--dpi must be within 20-600, got {dpi}")


def _short(path) -> str:
    """A path for messages: control characters escaped, at most 120 characters."""
    text = "".join(f"\\x{ord(c):02x}" if ord(c) < 32 or ord(c) == 127 else c for c in str(path))
    return text if len(text) <= 120 else text[:60] + "..." + text[-57:]


def cmd_run(args) -> int:
    from .parallel import PRELOAD, available_cores, start_workers
    from .runner import document_bytes, run_scenarios, summary_table, write_all
    # several files: their figures are drawn by workers, whose imports overlap reading the files
    many = len(args.paths) > 1 or any(os.path.isdir(p) for p in args.paths)
    if many and (args.workers or available_cores()) > 1:
        start_workers(PRELOAD + (() if args.no_plots else ("biomech.viz",)))
    scenarios, problems = _load_all(args.paths)   # validate every file before solving anything
    if problems:
        raise ScenarioError(*problems)
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        files = ", ".join(_short(s.path) for s in scenarios if s.name == dup[0])
        raise _bad_input(f"two scenario files share the name {dup[0]!r} ({files}; [scenario] "
                         "name is the output folder): rename one")
    _check_dpi(args.dpi)
    _writable_folder("--out", Path(args.out))
    docs, code = [], EXIT_OK
    # solve everything first: an input error found while solving must leave no output at all
    progress = _Progress("solved")
    runs = run_scenarios(scenarios, workers=args.workers, dask=args.dask, progress=progress)
    progress.done(runs)
    try:
        write_all(runs, Path(args.out), plots=not args.no_plots, fmt=args.format, dpi=args.dpi,
                  workers=args.workers)
    except OSError as exc:
        raise _bad_input(f"--out {_short(args.out)}: cannot write the results "
                         f"({exc.strerror or exc})") from None
    for sc, run in zip(scenarios, runs):
        if not run.success:
            code = EXIT_UNSOLVED
        if args.json:
            docs.append(document_bytes(run))
        else:
            print(summary_table(run))
            print(f"  -> {Path(args.out) / sc.name}/\n")
    if args.json:
        sys.stdout.write((docs[0] if len(docs) == 1 else b"[" + b",".join(docs) + b"]").decode() + "\n")
    return code


def cmd_check(args) -> int:
    scenarios, problems = _load_all(args.paths)
    for sc in scenarios:
        n = len(sc.sweep.values) if sc.sweep is not None else 1
        print(f"ok  {sc.path}  ({sc.name}, {n} posture{'s' if n != 1 else ''})")
    if problems:
        raise ScenarioError(*problems)
    return EXIT_OK


def cmd_list(args) -> int:
    folder = Path(args.path)
    try:
        is_folder = folder.is_dir()
    except ValueError:                              # a NUL character in the path
        is_folder = False
    if not is_folder:
        raise _bad_input(f"{_short(folder)}: not a folder of scenario files; give a folder "
                         "that holds *.toml scenario files")
    scenarios, problems = _load_files(sorted(p for p in folder.glob("*.toml") if not p.is_dir()))
    width = max((len(sc.path.name) for sc in scenarios), default=10)
    for sc in scenarios:
        print(f"{sc.path.name:<{width}}  {sc.description.strip().splitlines()[0]}")
    if problems:
        raise ScenarioError(*problems)
    return EXIT_OK


def cmd_compare(args) -> int:
    from .names import LUMBAR_LEVELS, METRICS
    from .runner import run_scenarios
    scenarios, problems = _load_all(args.paths)
    if problems:
        raise ScenarioError(*problems)
    if len(scenarios) < 2:
        raise _bad_input("compare needs at least two scenario files")
    if not args.no_plots:
        _check_dpi(args.dpi)
        _writable_folder("--out", Path(args.out))
    for sc in scenarios:
        if sc.sweep is not None:
            raise _bad_input(f"{sc.path}: is a sweep; compare takes single-posture scenarios "
                             "(run the sweep with `biomech run` and read its sweep.png)")
    runs = run_scenarios(scenarios, workers=args.workers, dask=args.dask)
    reports = [r.points[0].report for r in runs]
    keys = list(METRICS) + [f"segmental_lordosis_deg.{lv}" for lv in LUMBAR_LEVELS]

    def value(rep, key):
        if key.startswith("segmental"):
            return rep.metrics["segmental_lordosis_deg"][key.split(".")[1]]
        return rep.metrics[key]
    table = {k: [float(value(rep, k)) for rep in reports] for k in keys}
    code = EXIT_OK if all(r.success for r in runs) else EXIT_UNSOLVED
    names = [sc.name for sc in scenarios]
    if not args.no_plots:
        from . import viz
        out = Path(args.out)
        stem = f"compare_{'_vs_'.join(names)}"
        if len(stem) > 200:                         # file names have at most 255 bytes
            stem = f"compare_{names[0]}_vs_{len(names) - 1}_more"
        path = out / f"{stem}.{args.format}"
        try:
            out.mkdir(parents=True, exist_ok=True)
            viz.save_figure(viz.overlay_figure(reports, names), path, dpi=args.dpi)
            side = out / f"{stem}_side_by_side.{args.format}"
            viz.save_figure(viz.side_by_side_figure(reports, names), side, dpi=args.dpi)
        except OSError as exc:
            raise _bad_input(f"--out {_short(out)}: cannot write the comparison figures "
                             f"({exc.strerror or exc})") from None
    if args.json:
        print(json.dumps({"scenarios": names, "metrics": table,
                          "status": [r.points[0].result.message for r in runs]}, indent=1))
        return code
    print(f"{'metric':<40}" + "".join(f"{n[:18]:>20}" for n in names) + "".join(
        f"{'Δ ' + n[:16]:>20}" for n in names[1:]))
    for k, vals in table.items():
        print(f"{k:<40}" + "".join(f"{v:20.2f}" for v in vals) + "".join(
            f"{v - vals[0]:+20.2f}" for v in vals[1:]))
    for sc, r in zip(scenarios, runs):
        if not r.success:
            print(f"! {sc.name}: {r.points[0].result.message}")
    if not args.no_plots:
        print(f"overlay figure: {path}")
        print(f"side by side: {side}")
    return code


def cmd_model(args) -> int:
    from .runner import model_description
    desc = model_description()
    if args.json:
        print(json.dumps(desc, indent=1))
        return EXIT_OK
    s = desc["subject"]
    print(f"biomech {__version__} default model: {s['body_mass_kg']} kg, {s['height_m']} m, "
          f"PI {s['pelvic_incidence_deg']}°")
    print("\nbodies (mass kg, COM in the reference posture m):")
    for b, v in desc["bodies"].items():
        print(f"  {b:<8} {v['mass_kg']:7.2f}  {v['com_m_reference_posture']}")
    print("\njoints (centre m, stress-free angle deg):")
    for j, v in desc["joints"].items():
        print(f"  {j:<7} {v['center_m_reference_posture']}  {v['rest_angle_deg']:+.2f}")
    print(f"\nmuscles ({len(desc['muscles'])} lines; F_max both sides, N; l_opt, l_ts m; baseline activation):")
    for n, v in desc["muscles"].items():
        print(f"  {n:<42} {v['group']:<19} {v['max_isometric_force_N']:8.1f} "
              f"{v['optimal_fiber_length_m']:.4f} {v['tendon_slack_length_m']:.4f} {v['baseline_activation']:.3f}")
    cav = desc["abdomen"]
    if cav is not None:
        print(f"\nabdominal cavity (docs/model.md §6a): floor on the {cav['floor']['body']} "
              f"{cav['floor']['point_m_reference_posture']}, roof on the {cav['roof']['body']} "
              f"{cav['roof']['point_m_reference_posture']} m; A {cav['area_m2'] * 1e4:.0f} cm², "
              f"hoop radius {cav['hoop_radius_m']:.3f} m, wall height {cav['wall_height_m']:.3f} m: "
              f"{cav['pressure_per_tension_Pa_per_N']:.2f} Pa per N of {', '.join(cav['pressure_groups'])}")
    print("\nsources:")
    for k, v in desc["sources"].items():
        print(f"  {k}: {v.get('repo', '')} {v.get('path', '')} {v.get('commit', '')}".rstrip())
    print("\nparameter sources and calibration: docs/model.md, docs/calibration.md")
    return EXIT_OK


def cmd_view(args) -> int:
    from .scenario import load_scenario
    from .viz.viewer import display_problem
    scenario = load_scenario(args.path)            # a bad file: exit 2 before any window
    why = display_problem()
    if why is None:
        try:
            import matplotlib.pyplot as plt
            fig = plt.figure(figsize=(13, 8.5))
        except Exception as e:                     # e.g. a GUI toolkit that cannot start
            why = f"matplotlib could not open a window ({type(e).__name__}: {e})"
    if why is not None:
        print(f"biomech view: cannot show a window here: {why}.\n  Without a display, use "
              f"`biomech animate {args.path} --out sweep.gif` (sweeps) or "
              f"`biomech run {args.path}` (figures in results/) instead.", file=sys.stderr)
        return EXIT_BAD_INPUT
    from .viz.viewer import LiveViewer
    if scenario.sweep is not None:
        print(f"biomech view: {scenario.name} is a sweep; showing its base point (the file "
              "without [sweep]); `biomech animate` shows every point", file=sys.stderr)
    viewer = LiveViewer(fig, scenario)             # noqa: F841  (the window keeps it alive)
    plt.show()
    return EXIT_OK


def cmd_export(args) -> int:
    from .export import write_osim
    from .runner import run_scenario, scenario_header
    from .scenario import load_scenario, sweep_points
    scenario = load_scenario(args.path)
    out = Path(args.osim)
    if out.suffix.lower() != ".osim":
        raise _bad_input(f"--osim {out}: the output file must end in .osim")
    if out.is_dir() or not out.parent.is_dir():
        raise _bad_input(f"--osim {out}: " + ("is a folder" if out.is_dir() else
                                              f"the folder {out.parent} does not exist"))
    n = len(sweep_points(scenario))
    if not 0 <= args.point < n:
        allowed = (f"0-{n - 1} (the sweep has {n} points)" if scenario.sweep is not None
                   else "0 (the scenario is not a sweep)")
        raise _bad_input(f"--point {args.point}: {args.path} allows {allowed}")
    progress = _Progress("solved")
    run = run_scenario(scenario, progress=progress)   # a sweep with continuation
    progress.done([run])
    result = run.points[args.point].result
    write_osim(result, out, scenario=scenario_header(scenario),
               point=args.point if scenario.sweep is not None else None)
    at = f", sweep point {args.point}" if scenario.sweep is not None else ""
    print(f"{out}  ({scenario.name}{at}: {result.message})")
    if not result.success:
        print("! the posture did not solve: the model is written at the posture where the solver "
              "stopped, which is not an answer", file=sys.stderr)
        return EXIT_UNSOLVED
    return EXIT_OK


def cmd_animate(args) -> int:
    from .viz.animation import check_output, write_animation
    from .runner import run_scenario
    from .scenario import load_scenario
    scenario = load_scenario(args.path)
    if scenario.sweep is None:
        raise _bad_input(f"{args.path}: not a sweep scenario (no [sweep] table); animate makes "
                         "one frame per sweep point. Use `biomech view` for one posture, or add "
                         "a [sweep] (docs/scenarios.md)")
    out = Path(args.out) if args.out else Path("results") / scenario.name / "sweep.gif"
    if "\0" in str(out):
        raise _bad_input(f"--out {_short(out)}: the path contains a NUL character")
    problem = check_output(out)
    if problem:
        raise _bad_input(problem)
    if not 0.2 <= args.fps <= 60:
        raise _bad_input(f"--fps must be within 0.2-60, got {args.fps:g}")
    _check_dpi(args.dpi)
    _writable_folder("--out", out.parent)
    progress = _Progress("solved")
    run = run_scenario(scenario, progress=progress)
    progress.done([run])
    try:
        write_animation(run, out, fps=args.fps, dpi=args.dpi)
    except OSError as exc:
        raise _bad_input(f"--out {_short(out)}: cannot write the animation "
                         f"({exc.strerror or exc})") from None
    print(f"{out}  ({len(run.points)} frames, {out.stat().st_size / 1024:.0f} KB)")
    if not run.success:
        print("! some postures could not be solved; their frames say so in red", file=sys.stderr)
        return EXIT_UNSOLVED
    return EXIT_OK


def _bad_input(msg: str) -> BiomechError:
    """An error in what the user asked for (exit code 2)."""
    return BiomechError(msg)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `biomech` console script and `python -m biomech`."""
    args = _parser().parse_args(argv)
    commands = {"run": cmd_run, "check": cmd_check, "list": cmd_list, "compare": cmd_compare,
                "model": cmd_model, "view": cmd_view, "animate": cmd_animate, "export": cmd_export}
    try:
        return commands[args.command](args)
    except BiomechError as e:
        problems = e.problems if isinstance(e, ScenarioError) else (str(e),)
        for problem in problems:
            print(f"biomech {args.command}: error: {problem}", file=sys.stderr)
        if len(problems) > 1:
            print(f"biomech {args.command}: {len(problems)} problems", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("biomech: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: say so plainly, without a traceback
        print(f"biomech {args.command}: internal error ({type(e).__name__}: {e}). This is a bug in "
              "biomech; please report it with the scenario file.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
