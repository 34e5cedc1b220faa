"""Everything a solved posture reports: metrics, joint loads, muscles, bodies (conventions §5).

`posture_report(result)` derives the outputs from an `EquilibriumResult`; `to_dict` gives the
JSON document of conventions §5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import __version__
from .errors import ModelError
from .metrics import clinical_metrics, endplates
from .names import BODIES, JOINTS

_DEG = 180.0 / math.pi


@dataclass(frozen=True, eq=False)
class PostureReport:
    """Derived quantities of one solved posture (world frame, SI)."""

    result: object                 # EquilibriumResult
    geometry: object               # statics.Geometry
    metrics: dict
    tau: dict                      # generalized forces by source (7,) each
    muscle_force: np.ndarray       # (M,) N
    moment_arm: np.ndarray         # (M, 7) m
    passive_moment: np.ndarray     # (7,) N·m on the superior body
    reaction: np.ndarray           # (7, 2) N, inferior on superior
    compression: np.ndarray        # (7,) N
    shear: np.ndarray              # (7,) N
    body_forces: np.ndarray        # (8, 2) all forces on each body except joint reactions
    body_moments: np.ndarray       # (8,) their moments about the world origin (N·m)
    contact_points: np.ndarray
    contact_forces: np.ndarray
    contact_bodies: np.ndarray
    load_points: np.ndarray
    load_forces: np.ndarray


def muscle_point_forces(problem, geo, forces):
    """Force (P, 2) that each path point receives from its line (N, world)."""
    f = np.zeros((len(problem.pt_body), 2))
    seg_f = forces[problem.seg_line][:, None] * geo.segment_dir   # pulls a toward b, b toward a
    np.add.at(f, problem.seg_a, seg_f)
    np.add.at(f, problem.seg_b, -seg_f)
    return f


def _cross(r, f):
    return r[..., 0] * f[..., 1] - r[..., 1] * f[..., 0]


def posture_report(result) -> PostureReport:
    """Compute all reported quantities of a solved posture."""
    p = result.problem
    q = result.q
    geo = p.geometry(q)
    g = p.generalized_forces(q, geo)
    forces = g["muscle_forces"]
    # forces on every body, joint reactions excluded
    bf = np.zeros((8, 2))
    bm = np.zeros(8)
    w = p.mass[:, None] * p.gravity[None, :] * p.weight_mask[:, None]
    bf += w
    bm += _cross(geo.com, w)
    pf = muscle_point_forces(p, geo, forces)
    np.add.at(bf, p.pt_body, pf)
    np.add.at(bm, p.pt_body, _cross(geo.points, pf))
    lp, lf = p.load_forces(geo)
    if len(lf):
        np.add.at(bf, p.load_body, lf)
        np.add.at(bm, p.load_body, _cross(lp, lf))
    cb, cp, cf = p.contact_forces(geo)
    if len(cf):
        np.add.at(bf, cb, cf)
        np.add.at(bm, cb, _cross(cp, cf))
    # reaction at joint j: from the free body on the side of j away from the root
    reaction = np.zeros((7, 2))
    for j in range(7):
        if p.root <= j:
            reaction[j] = -bf[j + 1:].sum(0)
        else:
            reaction[j] = bf[:j + 1].sum(0)
    # endplate frames of the inferior body of each joint
    mid, t, _ = endplates(p, geo)
    tangent = np.zeros((7, 2))
    tangent[1:] = t                      # L5_S1: sacral plate; L4_L5: L5 superior endplate; ...
    knee = p.model.landmarks["knee"]
    knee_w = geo.origins[0] + np.array([[math.cos(geo.angles[0]), -math.sin(geo.angles[0])],
                                        [math.sin(geo.angles[0]), math.cos(geo.angles[0])]]) @ knee[1]
    axis = geo.centres[0] - knee_w
    axis /= np.linalg.norm(axis)          # femoral axis, knee to hip
    tangent[0] = [axis[1], -axis[0]]      # anterior perpendicular
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], -1)
    compression = np.einsum("ij,ij->i", reaction, normal)
    shear = -np.einsum("ij,ij->i", reaction, tangent)
    return PostureReport(
        result=result, geometry=geo, metrics=clinical_metrics(p, geo), tau={k: g[k] for k in (
            "gravity", "external", "contact", "passive", "muscle")},
        muscle_force=forces, moment_arm=-geo.dLdq, passive_moment=p.passive_moments(q)[0],
        reaction=reaction, compression=compression, shear=shear, body_forces=bf, body_moments=bm,
        contact_points=cp, contact_forces=cf, contact_bodies=cb, load_points=lp, load_forces=lf)


def model_notes(problem, result=None) -> list[str]:
    """Plain statements a reader needs so as not to be misled by this result."""
    notes = ["2D sagittal model; left and right muscles lumped; hinge joints at the disc centres."]
    if getattr(result, "recruitment", None) is not None:
        notes.append("Muscles not set by the scenario were recruited by the effort criterion "
                     f"({result.criterion.name}) to hold the posture; no reserve actuators. Static "
                     "stability is reported with the muscles' short-range stiffness "
                     f"(q = {problem.short_range_stiffness:g}); it does not decide success, since the "
                     "posture is held actively.")
    else:
        notes.append(
            "Muscles a scenario does not set keep their computed relaxed-standing tone; in the "
            "equilibrium mode nothing re-recruits them: a posture change is resisted by the muscles' "
            f"stretch response (q = {problem.short_range_stiffness:g}), passive tissues and gravity.")
    if problem.support.kind == "lying":
        notes.append("Lying: the table carries the weight of every segment "
                     + ("except the lifted legs." if problem.support.legs == "lifted" else
                        "and the legs' orientation."))
    if problem.support.kind == "sitting":
        notes.append("Sitting: the thighs are held by the seat; the ischial tuberosities rest on "
                     "a compliant, frictionless seat contact; the muscles' set point keeps the "
                     "standing orientation of the pelvis.")
    return notes


def _xy(v) -> list[float]:
    return [float(v[0]), float(v[1])]


MODES = ("equilibrium", "upright", "inverse")


def to_dict(result, *, scenario: dict | None = None, mode: str | None = None,
            with_version: bool = True) -> dict:
    """The conventions §5 JSON document of one posture (plain Python types).

    Parameters
    ----------
    result : an `EquilibriumResult`, or the `inverse.RecruitedResult` of `solve_upright` or
        `solve_inverse`.
    scenario : the header ``{"name": str, "file": str, "mode": str}``; default
        ``{"name": "python-api", "file": "", "mode": <the result's mode>}``.
    mode : "equilibrium", "upright" or "inverse", when ``scenario`` is not given. An
        `EquilibriumResult` is "equilibrium" by default. A recruited result does not record
        whether `solve_upright` or `solve_inverse` produced it, so it needs ``mode`` (or
        ``scenario``): the header never guesses.
    with_version : start the document with ``biomech_version``.

    Raises
    ------
    ModelError
        A recruited result without ``mode`` or ``scenario``, or a mode that is not one of the
        three or does not fit the result (equilibrium vs recruited).
    """
    header = _header(result, scenario, mode)
    rep = posture_report(result)
    p = result.problem
    m = p.model
    geo = rep.geometry
    met = {k: float(v) for k, v in rep.metrics.items() if k != "segmental_lordosis_deg"}
    met["segmental_lordosis_deg"] = {k: float(v) for k, v in rep.metrics["segmental_lordosis_deg"].items()}
    joints = {}
    for j, name in enumerate(JOINTS):
        joints[name] = {"inferior": BODIES[j], "superior": BODIES[j + 1],
                        "center_m": _xy(geo.centres[j]), "angle_deg": float(result.q[j] * _DEG),
                        "passive_moment_Nm": float(rep.passive_moment[j]),
                        "reaction_force_N": _xy(rep.reaction[j]),
                        "compression_N": float(rep.compression[j]), "shear_N": float(rep.shear[j])}
    muscles = {}
    # the path points as the problem uses them (conditional points resolved), with their
    # constant lateral offsets: the segment rule of conventions §5 needs z
    pt_body = [BODIES[b] for b in p.pt_body.tolist()]
    pt_xy = geo.points.tolist()
    pt_z = np.asarray(p.pt_z, float).tolist()
    ptr = p.line_ptr.tolist()
    # the line parameters the problem used (a resting_length_scale changes l_opt)
    lopt, lts = np.asarray(p.lopt, float).tolist(), np.asarray(p.lts, float).tolist()
    pennation = np.degrees(np.asarray(m.pennation, float)).tolist()
    for i, name in enumerate(m.muscle_names):
        a, b = ptr[i], ptr[i + 1]
        bodies = p.pt_body[a:b]
        lo, hi = int(bodies.min()), int(bodies.max())
        muscles[name] = {
            "group": m.muscle_group[i], "force_N": float(rep.muscle_force[i]),
            "activation": None if p.mode_tension[i] else float(p.activation[i]),
            "length_m": float(geo.length[i]), "max_isometric_force_N": float(m.max_isometric_force[i]),
            "optimal_fiber_length_m": lopt[i], "tendon_slack_length_m": lts[i],
            "pennation_deg": pennation[i],
            "path": [{"body": pt_body[k], "point_m": pt_xy[k], "lateral_m": pt_z[k]} for k in range(a, b)],
            "moment_arms_m": {JOINTS[j]: float(rep.moment_arm[i, j]) for j in range(lo, hi)},
        }
    doc = {
        "scenario": header,
        "status": {"converged": bool(result.converged), "stable": result.stable,
                   "message": result.message, "max_residual_Nm": float(result.max_residual_Nm),
                   "iterations": int(result.iterations)},
        "metrics": met,
        "bodies": {b: {"mass_kg": float(p.mass[k]), "com_m": _xy(geo.com[k])} for k, b in enumerate(BODIES)},
        "joints": joints,
        "muscles": muscles,
        "external_loads": [{"body": BODIES[int(b)], "point_m": _xy(pt), "force_N": _xy(f)}
                           for b, pt, f in zip(p.load_body, rep.load_points, rep.load_forces)],
        "gravity_m_s2": _xy(p.gravity),
        "support": _support(p, rep),
        "diagnostics": {"stiffness_eigenvalues_Nm_per_rad": [float(v) if np.isfinite(v) else None
                                                             for v in result.stiffness_eigenvalues],
                        "generalized_forces_Nm": {k: {JOINTS[j]: float(v[j]) for j in range(7)}
                                                  for k, v in rep.tau.items()}},
        "model_notes": model_notes(p, result),
    }
    rec = getattr(result, "recruitment", None)
    if rec is not None:
        doc["recruitment"] = {
            "criterion": result.criterion.name,
            "stress_exponent": result.criterion.exponent if result.criterion.name == "stress_power" else None,
            "effort": float(rec.effort),
            "recruited_lines": [m.muscle_names[i] for i in np.flatnonzero(rec.free)],
            "shortfall_Nm": {JOINTS[j]: float(rec.shortfall[j]) for j in range(7)}}
    if with_version:
        doc = {"biomech_version": __version__, **doc}
    return doc


def support_contacts(problem, rep: PostureReport) -> list[dict]:
    """Every force and moment the support puts on a body (conventions §5 `support.contacts`).

    In order: the seat (sitting) or table (lying) contact at its bony point; lying, the table
    carrying the weight of each body whose weight it holds (−m g at the COM, every body, or all
    but the lifted legs); lying with the legs supported, the moment with which the table holds
    the legs' orientation (on the femur, from the femur's balance); last, the hold of the held
    (root) body: the force and the moment about its COM that balance everything else on the
    model (the femur standing and sitting, the thorax lying). With these, the weights of all
    bodies, the muscles, the external loads, the passive moments and the joint reactions, every
    body and every sub-chain balances (tests/test_json_balance.py reads only the JSON).
    """
    p, geo = problem, rep.geometry
    out = []

    def entry(name, body, point, force, moment=0.0):
        out.append({"name": name, "body": BODIES[int(body)], "point_m": _xy(point),
                    "force_N": _xy(force), "moment_Nm": float(moment)})
    contact = "seat" if p.support.kind == "sitting" else "table"
    for b, pt, f in zip(rep.contact_bodies, rep.contact_points, rep.contact_forces):
        entry(contact, b, pt, f)
    # force and moment about the origin of everything but the hold, joint reactions excluded
    # (internal), the table's carriage of the weights included (it cancels those weights)
    total_f = rep.body_forces.sum(0)
    total_m = float(rep.body_moments.sum())
    for b in np.flatnonzero(~p.weight_mask):
        entry("table_weight", b, geo.com[b], 0.0 - p.mass[b] * p.gravity)   # 0.0 -: no −0.0
    if p.B.shape[1] < p.B.shape[0]:
        # lying, legs supported: the femur's orientation is fixed (q = q_c + B u), so the table
        # holds it with a moment. The femur is balanced by it, the forces on the femur, the
        # hip's passive moment on it (−M_hip) and the hip reaction through the hip centre
        c = geo.centres[0]
        m_femur = float(rep.body_moments[0] - _cross(c, rep.body_forces[0])) - float(rep.passive_moment[0])
        entry("table_legs", 0, geo.com[0], (0.0, 0.0), -m_femur)
        total_m -= m_femur
    r = p.root
    hold_f = -total_f
    entry("hold", r, geo.com[r], hold_f, -total_m - _cross(geo.com[r], hold_f))
    return out


def _support(problem, rep: PostureReport) -> dict:
    s = problem.support
    doc = {"kind": s.kind, "thigh_inclination_deg": s.thigh_deg, "knee_flexion_deg": s.knee_deg}
    if s.kind == "lying":
        doc["legs"] = s.legs
    doc["contacts"] = support_contacts(problem, rep)
    return doc


def _header(result, scenario: dict | None, mode: str | None) -> dict:
    """The ``scenario`` header of `to_dict`, its mode checked against the result's type."""
    from .inverse import RecruitedResult   # local: inverse builds on statics and recruitment
    recruited = isinstance(result, RecruitedResult)
    if scenario is not None and mode is not None and scenario.get("mode") != mode:
        raise ModelError(f"to_dict: mode {mode!r} contradicts scenario mode {scenario.get('mode')!r}")
    given = scenario.get("mode") if scenario is not None else mode
    if given is None:
        if recruited:
            raise ModelError("to_dict: a recruited result does not record whether solve_upright or "
                             "solve_inverse produced it; pass mode='upright' or mode='inverse'")
        given = "equilibrium"
    if given not in MODES:
        raise ModelError(f"to_dict: mode must be one of {', '.join(MODES)}, got {given!r}")
    if recruited != (given != "equilibrium"):
        kind = "a recruited (upright or inverse)" if recruited else "an equilibrium"
        raise ModelError(f"to_dict: mode {given!r} does not fit {kind} result")
    if scenario is not None:
        return scenario
    return {"name": "python-api", "file": "", "mode": given}
