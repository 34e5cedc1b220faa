"""Run scenarios: build models, solve every point (warm-started along sweeps), write outputs.

The command line (`cli.py`) is a thin layer over these functions; they are public for scripts.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import gc
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import orjson

from . import __version__
from .files import atomic_write
from .inverse import solve_inverse
from .model import Model
from .metrics import LEG_METRICS
from .names import LUMBAR_LEVELS, METRICS, MUSCLE_GROUPS
from .parallel import map_tasks
from .problem import prepare
from .results import PA_PER_MMHG, PostureReport, muscles_fragment, posture_report, to_dict
from .scenario import Scenario, sweep_points
from .statics import EquilibriumResult, geometry, solve_equilibrium
from .supports import Support
from .threads import one_blas_thread
from .tone import calibrated_model
from .upright import solve_upright


@dataclass(frozen=True, eq=False)
class PointResult:
    """One solved posture of a scenario: the swept values, the concrete scenario, the result
    and its report (`results.posture_report`, computed once where the posture was solved)."""

    values: tuple
    scenario: Scenario
    result: EquilibriumResult
    report: PostureReport


@dataclass(frozen=True, eq=False)
class ScenarioRun:
    """All points of one scenario file."""

    scenario: Scenario
    points: tuple

    @property
    def success(self) -> bool:
        return all(pt.result.success for pt in self.points)

    @property
    def is_sweep(self) -> bool:
        return self.scenario.sweep is not None


def model_for(scenario: Scenario) -> Model:
    """The calibrated model of a scenario (its subject and passive laws), built once per
    process for each distinct subject (`tone.calibrated_model`)."""
    return calibrated_model(scenario.subject, scenario.disc_stiffness_scale, scenario.hip_stiffness_scale,
                            2 if scenario.support.two_legs else 1)


def solve_point(scenario: Scenario, model: Model, q0=None) -> EquilibriumResult:
    """Solve one concrete (non-sweep) scenario on a model, in its mode."""
    problem = prepare(model, support=scenario.support, settings=dict(scenario.muscles),
                      loads=scenario.loads, short_range_stiffness=scenario.short_range_stiffness,
                      tolerance_Nm=scenario.tolerance_Nm, max_iterations=scenario.max_iterations,
                      locked_joints=() if scenario.mode == "upright" else None,
                      abdominal_pressure_kPa=scenario.abdominal_pressure_kPa)
    if scenario.mode == "upright":
        return solve_upright(problem, scenario.upright, criterion=scenario.criterion, q0=q0)
    if scenario.mode == "inverse":
        return solve_inverse(problem, scenario.inverse, criterion=scenario.criterion)
    return solve_equilibrium(problem=problem, q0=q0)


#: Sweep points are solved in blocks of this many, one after another within a block, each
#: point starting from the previous converged postures (continuation, `solve_block`). The first
#: points of a sweep's blocks are solved first, one after another with continuation (every
#: `CONTINUATION_BLOCK`-th point: `run_scenarios`), and each block then continues from its own;
#: the blocks are independent tasks, so a run gives the same results however many processes
#: solve them (`parallel.py`).
CONTINUATION_BLOCK = 10


@one_blas_thread
def solve_block(points: Sequence[Scenario], values: Sequence[tuple] | None = None, first=None
                ) -> list[tuple[EquilibriumResult, PostureReport]]:
    """Solve consecutive concrete points with continuation; each point's result and its report.
    ``first``: the first point's (result, report), already solved (`run_scenarios`).

    A point starts from the previous converged posture of the same support kind; given the
    swept ``values`` of each point, where the last two steps are equal (a range, not a grid's
    jump to its next row) it starts from the secant prediction 2 q_(k−1) − q_(k−2) instead, one
    Newton step nearer (measured on a 101-point psoas sweep: 239 -> 167 iterations, the postures
    equal within 3e-7°). A start that does not solve is followed by the previous posture, then
    the reference posture.
    """
    out = []
    chain: list = []                       # the converged postures just before, same support kind
    for k, pt in enumerate(points):
        if k == 0 and first is not None:
            out.append(first)
            chain = [(pt.support.kind, first[0].q)] if first[0].success else []
            continue
        model = model_for(pt)
        if chain and chain[-1][0] != pt.support.kind:
            chain = []
        starts = [chain[-1][1]] if chain else []
        if len(chain) == 2 and values is not None and _equal_steps(values[k - 2], values[k - 1], values[k]):
            starts.insert(0, 2.0 * chain[-1][1] - chain[-2][1])
        res = None
        for q0 in starts + [None]:         # None: the reference posture
            res = solve_point(pt, model, q0=q0)
            if res.success:
                break
        out.append((res, posture_report(res)))
        chain = (chain + [(pt.support.kind, res.q)])[-2:] if res.success else []
    return out


def _equal_steps(a: tuple, b: tuple, c: tuple) -> bool:
    """Whether c − b equals b − a (the swept values of three consecutive points)."""
    a, b, c = (np.asarray(v, float) for v in (a, b, c))
    if not c.size:
        return False
    return bool(np.allclose(c - b, b - a, rtol=1e-9, atol=1e-12 * max(1.0, float(np.abs(c).max()))))


def _solve_task(task) -> list[tuple[EquilibriumResult, PostureReport]]:
    return solve_block(*task)


def run_scenarios(scenarios: Sequence[Scenario], *, workers: int | None = 1, dask: str | None = None,
                  progress=None) -> list[ScenarioRun]:
    """Solve every point of several scenarios, in blocks of `CONTINUATION_BLOCK` points.

    workers : processes to use (None: every core; 1, the default: this process only).
    dask : a Dask scheduler address (``"tcp://host:8786"``) to run the blocks on a cluster.
    progress : optional callable(done, total) in postures, called as blocks finish.

    The results do not depend on `workers` or `dask` (tests/test_parallel.py).
    """
    blocks, owner = [], []
    expanded = [sweep_points(sc) for sc in scenarios]
    swept = [[_values(sc, pt) for pt in points] for sc, points in zip(scenarios, expanded)]
    # the first point of each block of a longer sweep, one after another with continuation (a
    # task per sweep): each block then starts from its own instead of the reference posture
    # (measured on a 401-point forward sweep, old and new run in turn: 1.71 -> 1.53 ms per point)
    long = [s for s, points in enumerate(expanded) if len(points) > CONTINUATION_BLOCK]
    heads = map_tasks(_solve_task, [(tuple(expanded[s][::CONTINUATION_BLOCK]),
                                     tuple(swept[s][::CONTINUATION_BLOCK])) for s in long],
                      workers=workers, dask=dask)
    firsts = {(s, k * CONTINUATION_BLOCK): head for s, solved in zip(long, heads) for k, head in enumerate(solved)}
    for s, points in enumerate(expanded):
        for b in range(0, len(points), CONTINUATION_BLOCK):
            blocks.append((tuple(points[b:b + CONTINUATION_BLOCK]), tuple(swept[s][b:b + CONTINUATION_BLOCK]),
                           firsts.get((s, b))))
            owner.append(s)
    total = sum(len(p) for p in expanded)
    done = [0]

    def block_done(k: int) -> None:
        done[0] += len(blocks[k][0])
        progress(done[0], total)

    solved = map_tasks(_solve_task, blocks, workers=workers, dask=dask,
                       progress=block_done if progress else None)
    results: list[list] = [[] for _ in scenarios]
    for s, block in zip(owner, solved):
        results[s].extend(block)
    return [ScenarioRun(scenario=sc, points=tuple(
                PointResult(values=v, scenario=pt, result=r, report=rep)
                for pt, v, (r, rep) in zip(points, values, res)))
            for sc, points, values, res in zip(scenarios, expanded, swept, results)]


def run_scenario(scenario: Scenario, *, workers: int | None = 1, dask: str | None = None,
                 progress=None) -> ScenarioRun:
    """Solve every point of one scenario (see `run_scenarios`)."""
    return run_scenarios([scenario], workers=workers, dask=dask, progress=progress)[0]


def _values(scenario: Scenario, point: Scenario) -> tuple:
    """The swept values of a point of ``scenario`` (() without a sweep)."""
    return tuple(_get(point.document, key) for key in scenario.sweep.parameters) if scenario.sweep else ()


def _get(doc: dict, dotted: str):
    node = doc
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return float(node)


# ---------------------------------------------------------------------------------------------
def scenario_header(scenario: Scenario) -> dict:
    return {"name": scenario.name, "file": str(scenario.path), "mode": scenario.mode}


def run_document(run: ScenarioRun) -> dict:
    """The conventions §5 JSON document of a run (one posture, or a sweep)."""
    with _no_cyclic_gc():
        return _run_document(run)


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pause Python's cyclic garbage collector: a sweep's document is ~10⁵ small dicts and
    lists without a reference cycle, whose creation triggers collections that took half of the
    time of building it (measured: 95 -> 46 ms for 101 points)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _run_document(run: ScenarioRun, muscles=None) -> dict:
    head = scenario_header(run.scenario)
    if not run.is_sweep:
        pt = run.points[0]
        return to_dict(pt.result, scenario=head, report=pt.report, muscles=muscles)
    return {**_sweep_head(run, head),
            "points": [to_dict(pt.result, scenario=head, with_version=False, report=pt.report, muscles=muscles)
                       for pt in run.points]}


def _sweep_head(run: ScenarioRun, head: dict) -> dict:
    return {"biomech_version": __version__, "scenario": head,
            "sweep": {"parameters": list(run.scenario.sweep.parameters),
                      "values": [list(pt.values) for pt in run.points]}}


def document_chunks(run: ScenarioRun):
    """``dumps(run_document(run))`` as consecutive pieces of bytes, built and encoded one posture
    at a time: a sweep's points never exist as Python objects all at once, nor, written piece by
    piece (`write_outputs`), as one large string, so memory stays small and is reused (measured
    on a 401-point sweep: 1.3 -> 0.8 ms per point, building, encoding, writing); each point's
    ``muscles`` block, most of its bytes, is encoded in one pass (`results.muscles_fragment`)."""
    if not run.is_sweep:
        with _no_cyclic_gc():
            yield dumps(_run_document(run, muscles_fragment))
        return
    head = scenario_header(run.scenario)
    yield dumps(_sweep_head(run, head))[:-1] + b',"points":['
    for k, pt in enumerate(run.points):
        with _no_cyclic_gc():
            doc = dumps(to_dict(pt.result, scenario=head, with_version=False, report=pt.report,
                                muscles=muscles_fragment))
        yield doc if k == 0 else b"," + doc
    yield b"]}"


def document_bytes(run: ScenarioRun) -> bytes:
    """``dumps(run_document(run))``, the same bytes, from `document_chunks`."""
    return b"".join(document_chunks(run))


def dumps(document) -> bytes:
    """A result document as compact UTF-8 JSON (no indentation, no spaces): the form that scales
    to sweeps of many points (docs/api.md, "The result files"); `python -m json.tool` or any
    viewer shows it indented. Encoded by orjson, 15× faster than the standard library's encoder
    on these documents (0.09 against 1.45 ms for one posture, 88 KB), the same text; the
    documents hold only finite numbers (`results.to_dict` checks)."""
    return orjson.dumps(document)


def metrics_row(report) -> dict:
    """One metrics.csv row: every metric, segmental lordosis, group forces, each group's mean
    length change and fibre strain from relaxed standing (%), lumbosacral loads."""
    res = report.result
    m = res.problem.model
    row = {"converged": res.converged, "stable": res.stable, "max_residual_Nm": res.max_residual_Nm}
    for k in METRICS:
        row[k] = report.metrics[k]
    for sfx in m.leg_suffixes if m.sides else ():      # two legs: each leg's (metrics.LEG_METRICS)
        for k in LEG_METRICS:
            row[k + sfx] = report.metrics[k + sfx]
    for lv in LUMBAR_LEVELS:
        row[f"segmental_lordosis_{lv}_deg"] = report.metrics["segmental_lordosis_deg"][lv]
    ids = m.group_index(MUSCLE_GROUPS)
    n = len(MUSCLE_GROUPS) + 1
    count = np.bincount(ids, minlength=n)
    force = np.bincount(ids, report.muscle_force, n).tolist()
    with np.errstate(invalid="ignore"):            # the mean over no line is NaN
        change = (np.bincount(ids, report.length_change_percent, n) / count).tolist()
        strain = (np.bincount(ids, report.fiber_strain_percent, n) / count).tolist()
    for k, g in enumerate(MUSCLE_GROUPS):
        row[f"{g}_force_N"] = force[k]
    for k, g in enumerate(MUSCLE_GROUPS):          # the mean over the group's lines (each line: result.json)
        row[f"{g}_length_change_percent"] = change[k]
        row[f"{g}_fiber_strain_percent"] = strain[k]
    for j in ("L4_L5", "L5_S1"):
        k = m.joint_index(j)
        row[f"{j}_compression_N"] = float(report.compression[k])
        row[f"{j}_shear_N"] = float(report.shear[k])
    row["intra_abdominal_pressure_kPa"] = report.abdominal_pressure_Pa / 1e3
    return row


def metrics_csv(run: ScenarioRun) -> str:
    """metrics.csv of a run: one row per posture (`metrics_row`), the swept values first."""
    params = list(run.scenario.sweep.parameters) if run.is_sweep else []
    rows = [{**dict(zip(params, pt.values)), **metrics_row(pt.report)} for pt in run.points]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(rows[0])
    w.writerows([f"{v:.6g}" if isinstance(v, float) else v for v in r.values()] for r in rows)
    return buf.getvalue()


def write_outputs(run: ScenarioRun, out_dir: Path, *, plots: bool = True, fmt: str = "png",
                  dpi: int = 150) -> list[Path]:
    """Write result.json, metrics.csv and the figures of a run into ``out_dir/<name>/``.

    Every file is written to a temporary file and renamed into place, so a failed or
    interrupted run leaves either the previous file or the new one, never half of one.
    The figures are drawn without the cyclic garbage collector (`_figure_gc`).
    """
    folder = Path(out_dir) / run.scenario.name
    folder.mkdir(parents=True, exist_ok=True)

    def write_json(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            for chunk in document_chunks(run):
                f.write(chunk)
    written = [atomic_write(folder / name, data)
               for name, data in (("result.json", write_json), ("metrics.csv", metrics_csv(run).encode()))]
    if plots:
        with _figure_gc():                 # the figures are garbage once `_write_figures` returns
            written += _write_figures(run, folder, fmt, dpi)
    return written


def _write_figures(run: ScenarioRun, folder: Path, fmt: str, dpi: int) -> list[Path]:
    """Draw and save the figures of a run into ``folder``: a sweep's overlay of its last point on
    its first and its sweep figure, or a single posture's figure."""
    from . import viz  # matplotlib only when figures are drawn
    reports = [pt.report for pt in run.points]
    title = run.scenario.name
    if run.is_sweep:
        sweep = run.scenario.sweep
        figures = [(f"posture.{fmt}", viz.overlay_figure(
                       [reports[0], reports[-1]], [_point_label(run, 0), _point_label(run, len(reports) - 1)],
                       title=f"{title}: last point of the sweep vs the first (reference)")),
                   (f"sweep.{fmt}", viz.sweep_figure(
                       [pt.values[0] for pt in run.points], reports, parameter=sweep.parameters[0],
                       also=sweep.parameters[1:], grid=sweep.grid))]
    else:
        figures = [(f"posture.{fmt}", viz.posture_figure(
            reports[0], title=title, highlight=[name for name, _ in run.scenario.muscles]))]
    for name, fig in figures:
        viz.save_figure(fig, folder / name, dpi=dpi)
    return [folder / name for name, _ in figures]


@contextlib.contextmanager
def _figure_gc():
    """Draw figures with the cyclic garbage collector paused and collect their garbage once at
    the end, the objects that existed before frozen (`gc.freeze`: not scanned) unless the
    program froze some itself. A matplotlib figure is ~10⁵ objects in reference cycles: the
    collections its creation triggers scanned every object of the process each time, the
    solved runs included (measured with `biomech run scenarios/`, 2 workers: 8.4 -> 6.7 s
    of drawing per worker)."""
    was, freeze = gc.isenabled(), gc.get_freeze_count() == 0
    gc.disable()
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        gc.collect()
        if freeze:
            gc.unfreeze()
        if was:
            gc.enable()


def write_all(runs: Sequence[ScenarioRun], out_dir: Path, *, plots: bool = True, fmt: str = "png",
              dpi: int = 150, workers: int | None = 1) -> list[list[Path]]:
    """`write_outputs` of several runs, the figures drawn by ``workers`` local processes
    (None: every core). Always on this machine: the files belong here, even when the postures
    were solved on a Dask cluster. The runs are handed out longest first (a sweep's two figures
    before a posture's one), so that the processes finish together; the result lists are in
    the order of ``runs``."""
    order = sorted(range(len(runs)), key=lambda k: (not runs[k].is_sweep, -len(runs[k].points)))
    tasks = [(runs[k], Path(out_dir), plots, fmt, dpi) for k in order]
    if not plots:                                      # nothing worth a process
        workers = 1
    written = map_tasks(_write_task, tasks, workers=workers)
    out: list = [None] * len(runs)
    for k, files in zip(order, written):
        out[k] = files
    return out


def _write_task(task) -> list[Path]:
    run, out_dir, plots, fmt, dpi = task
    return write_outputs(run, out_dir, plots=plots, fmt=fmt, dpi=dpi)


def _point_label(run: ScenarioRun, k: int) -> str:
    """'psoas tension_N = 400' for point k of a sweep."""
    return ", ".join(f"{_short_key(p)} = {v:g}" for p, v in zip(run.scenario.sweep.parameters, run.points[k].values))


def _short_key(dotted: str) -> str:
    """The last two parts of a dotted key: 'muscles.psoas.tension_N' -> 'psoas.tension_N'."""
    return ".".join(dotted.split(".")[-2:])


def summary_table(run: ScenarioRun) -> str:
    """A short human-readable table of a run."""
    lines = [f"== {run.scenario.name}: {run.scenario.description}"]
    head = ["SS", "PT", "LL", "APT", "hip", "trunk", "SVA", "L4L5 C", "L5S1 C", "IAP", "status"]
    params = [_short_key(p) for p in (run.scenario.sweep.parameters if run.is_sweep else ())]
    lines.append("  ".join([f"{p:>22}" for p in params] + [f"{h:>7}" for h in head]))
    pts = run.points
    show = range(len(pts)) if len(pts) <= 25 else sorted(set(np.linspace(0, len(pts) - 1, 21).astype(int)))
    for k in show:
        pt = pts[k]
        res = pt.result
        if res.converged:
            rep = pt.report
            mt = rep.metrics
            vals = [mt["sacral_slope_deg"], mt["pelvic_tilt_deg"], mt["lumbar_lordosis_deg"],
                    mt["anterior_pelvic_tilt_deg"], mt["hip_flexion_deg"], mt["trunk_inclination_deg"],
                    mt["sagittal_vertical_axis_mm"], rep.compression[res.problem.model.joint_index("L4_L5")],
                    rep.compression[res.problem.model.joint_index("L5_S1")]]
            cells = ([f"{v:7.1f}" for v in vals[:7]] + [f"{v:7.0f}" for v in vals[7:]]
                     + [f"{rep.abdominal_pressure_Pa / PA_PER_MMHG:7.1f}"])
            if "hip_flexion_deg_right" in mt:             # two legs: right/left
                cells[4] = f"{mt['hip_flexion_deg_right']:.0f}/{mt['hip_flexion_deg_left']:.0f}".rjust(7)
        else:
            cells = [f"{'-':>7}"] * 10
        status = ("ok" if res.stable is not False else "ok†") if res.success else \
            res.code.value.upper()                  # FALLEN, NOT_CONVERGED, SHORTFALL, ...
        lines.append("  ".join([f"{v:22.6g}" for v in pt.values] + cells + [f"{status:>7}"]))
    lines.append("  (degrees; SVA mm; compression N; IAP: intra-abdominal pressure, mmHg"
                 + ("; hip: right/left" if run.points[0].result.problem.model.sides else "") + ")")
    if any(pt.result.success and pt.result.stable is False for pt in pts):
        lines.append("  † statically unstable with the recruited activations: the posture is held by "
                     "active control (upright/inverse modes)")
    for pt in pts:
        if not pt.result.success:
            where = f" at {dict(zip(params, pt.values))}" if params else ""
            lines.append(f"  ! {pt.result.message}{where}")
            break
    return "\n".join(lines)


def model_description(model: Model | None = None) -> dict:
    """Bodies, joints, muscles and parameters of a model, with sources (for `biomech model`)."""
    model = model or model_for_subject()
    p = prepare(model, support=Support("standing"))
    geo = geometry(p, p.q_ref)
    subj = model.subject
    return {
        "biomech_version": __version__,
        "subject": dataclasses.asdict(subj),
        "bodies": {b: {"mass_kg": float(p.mass[k]), "com_m_reference_posture": geo.com[k].round(5).tolist()}
                   for k, b in enumerate(model.bodies)},
        "joints": {j: {"inferior": model.bodies[int(model.joint_inferior[k])],
                       "superior": model.bodies[int(model.joint_superior[k])],
                       "center_m_reference_posture": geo.centres[k].round(5).tolist(),
                       "rest_angle_deg": float(np.degrees(model.rest_angle[k])),
                       "range_deg": np.degrees(model.joint_range[k]).round(3).tolist()}
                   for k, j in enumerate(model.joints)},
        "muscles": {n: {"group": model.muscle_group[i],
                        "max_isometric_force_N": round(float(model.max_isometric_force[i]), 2),
                        "optimal_fiber_length_m": round(float(model.optimal_fiber_length[i]), 5),
                        "tendon_slack_length_m": round(float(model.tendon_slack_length[i]), 5),
                        "pennation_deg": round(float(np.degrees(model.pennation[i])), 2),
                        "baseline_activation": round(float(model.baseline_activation[i]), 4),
                        "parameter_source": model.parameter_source[i]}
                    for i, n in enumerate(model.muscle_names)},
        "abdomen": _cavity_description(model, p, geo),
        "sources": {k: dict(v) for k, v in model.sources.items()},
        "parameters": "every parameter with its value, unit and source: docs/model.md and "
                      "docs/calibration.md",
    }


def _cavity_description(model: Model, problem, geo) -> dict | None:
    """The abdominal cavity of `model_description` (docs/model.md §6a), or None."""
    cav = model.cavity
    if cav is None:
        return None
    return {"floor": {"body": model.bodies[cav.floor_body], "point_m_reference_posture": geo.cavity[0].round(5).tolist()},
            "roof": {"body": model.bodies[cav.roof_body], "point_m_reference_posture": geo.cavity[1].round(5).tolist()},
            "area_m2": cav.area_m2, "hoop_radius_m": cav.hoop_radius_m, "wall_height_m": cav.wall_height_m,
            "half_depth_m": cav.half_depth_m,
            "pressure_groups": list(cav.pressure_groups),
            "pressure_per_tension_Pa_per_N": cav.pressure_per_tension,
            "sources": "area: Morris et al. 1961 (R); hoop radius: Förstemann et al. 2011 (V); "
                       "transversus F_max: AnyBody AMMR trunk (V); axis, wall height and half-depth: "
                       "derived from the model's geometry (biomech/abdomen.py)"}


def model_for_subject(subject=None) -> Model:
    """The calibrated default model of a subject (default: the average adult), cached."""
    from .model import Subject
    return calibrated_model(subject or Subject())


__all__ = ["PointResult", "ScenarioRun", "CONTINUATION_BLOCK", "model_for", "solve_point", "solve_block",
           "run_scenarios", "run_scenario", "run_document", "document_chunks", "document_bytes",
           "write_all",
           "metrics_csv", "write_outputs", "summary_table", "model_description"]
