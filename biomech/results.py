"""Everything a solved posture reports: metrics, joint loads, muscles, bodies (conventions §5).

`posture_report(result)` derives the outputs from an `EquilibriumResult`; `to_dict` gives the
JSON document of conventions §5.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import orjson

from . import __version__
from .abdomen import floor_pressure
from .anatomy import neutral_standing_lengths
from .balance import reaction as root_reaction
from .errors import ModelError
from .external import contact_forces, load_forces
from .inverse import RecruitedResult
from .metrics import clinical_metrics, endplates
from .statics import SOURCES, generalized_forces, landmark, result_geometry
from .supports import Support, reference_posture
from .units import DEG_PER_RAD


@dataclass(frozen=True, eq=False)
class PostureReport:
    """Derived quantities of one solved posture (world frame, SI)."""

    result: object                 # EquilibriumResult
    geometry: object               # statics.Geometry
    metrics: dict
    tau: dict                      # generalized forces by source (n_joints,) each
    muscle_force: np.ndarray       # (M,) N
    moment_arm: np.ndarray         # (M, n_joints) m
    passive_moment: np.ndarray     # (n_joints,) N·m on the superior body
    held_moment: np.ndarray        # (n_joints,) N·m on the superior body by a held joint's lock (0 if free)
    reaction: np.ndarray           # (n_joints, 2) N, inferior on superior
    compression: np.ndarray        # (n_joints,) N
    shear: np.ndarray              # (n_joints,) N
    body_forces: np.ndarray        # (n_bodies, 2) all forces on each body except joint reactions
    body_moments: np.ndarray       # (n_bodies,) their moments about the world origin (N·m)
    contact_points: np.ndarray
    contact_forces: np.ndarray
    contact_bodies: np.ndarray
    root_reaction: object          # balance.Reaction: the support's reaction on the root
    load_points: np.ndarray
    load_forces: np.ndarray
    abdominal_pressure_Pa: float   # the cavity pressure (0 without a cavity)
    cavity_forces: np.ndarray      # (nK, 2) N: the pressure's push on the floor (pelvis) and the roof (thorax)
    length_change: np.ndarray      # (M,) m, musculotendon length minus that in relaxed standing
    length_change_percent: np.ndarray   # (M,) % of the relaxed-standing musculotendon length
    fiber_length_norm: np.ndarray  # (M,) fibre length / optimal fibre length (rigid tendon)
    fiber_strain_percent: np.ndarray    # (M,) fibre length change, % of the relaxed-standing fibre length


#: Relaxed-standing musculotendon lengths by model (`relaxed_standing_lengths`), dropped with it.
_RELAXED: dict = {}


def relaxed_standing_lengths(model) -> np.ndarray:
    """Musculotendon length (M,) of every line in relaxed standing (m): the model's standing
    reference posture, the posture its relaxed tone is fitted to (docs/conventions.md §5,
    "Lengths"). Computed once per model."""
    key = id(model)
    hit = _RELAXED.get(key)
    if hit is not None and hit[0]() is model:
        return hit[1]
    lengths = np.array(neutral_standing_lengths(model, reference_posture(model, Support("standing"))[2])[0])
    lengths.flags.writeable = False
    _RELAXED[key] = (weakref.ref(model), lengths)
    weakref.finalize(model, _RELAXED.pop, key, None)
    return lengths


def length_changes(problem, length) -> tuple:
    """(length change (M,) m, its % of the relaxed-standing length, fibre length / optimal,
    fibre strain (M,) %: the fibre length's change in % of its relaxed-standing value) of lines
    at musculotendon lengths ``length`` (m). The tendon is rigid (docs/model.md §6), so a fibre
    changes length by as much as its line, over a shorter length: its strain is the larger."""
    lines = problem.lines
    rest = relaxed_standing_lengths(problem.model)
    change = np.asarray(length, float) - rest
    fiber_rest = np.maximum(rest - lines.lts, 1e-9)
    return (change, 100.0 * change / rest, (np.asarray(length, float) - lines.lts) / lines.lopt_cos,
            100.0 * change / fiber_rest)


def muscle_point_forces(problem, geo, forces):
    """Force (P, 2) that each path point receives from its line (N, world)."""
    paths = problem.paths
    seg_f = forces[paths.seg_line][:, None] * geo.segment_dir   # pulls a toward b, b toward a
    return _sum_by(paths.seg_a, seg_f, paths.n_points) - _sum_by(paths.seg_b, seg_f, paths.n_points)


def cavity_forces(problem, geo, pressure_Pa: float) -> np.ndarray:
    """The forces (nK, 2) N of the cavity pressure on its floor and its roof, −P A e and +P A e
    with e the unit axis from the floor to the roof (docs/model.md §6a); (0, 2) without a cavity.
    They sum to zero and have no net moment: the cavity is a closed system."""
    if not len(geo.cavity):
        return np.zeros((0, 2))
    f, d = geo.cavity
    push = problem.cavity_area * pressure_Pa * (d - f) / np.linalg.norm(d - f)
    return np.stack([-push, push])


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Σ of the rows of ``values`` (k,) or (k, 2) by ``index`` (k,) into n rows."""
    if values.ndim == 1:
        return np.bincount(index, values, n)
    return np.stack([np.bincount(index, values[:, 0], n), np.bincount(index, values[:, 1], n)], -1)


def _cross(r, f):
    return r[..., 0] * f[..., 1] - r[..., 1] * f[..., 0]


def posture_report(result) -> PostureReport:
    """Compute all reported quantities of a solved posture."""
    p = result.problem
    q = result.q
    g = getattr(result, "sources", None)                 # the solver's, if at q
    if g is None or not np.array_equal(g["geometry"].q, q):
        g = generalized_forces(p, q, result_geometry(result))
    geo = g["geometry"]
    forces = g["muscle_forces"]
    # forces on every body, joint reactions excluded. A segment's two end forces, +f at its first
    # point a and −f at b, f = T u along the segment, give each body seg_inc @ f; their moments
    # about the origin seg_inc @ (a × f), since (b − a) × f = 0
    nb = p.model.n_bodies
    seg_f = forces[p.paths.seg_line][:, None] * geo.segment_dir
    bf = p.weight + p.seg_inc @ seg_f
    bm = _cross(geo.com, p.weight) + p.seg_inc @ _cross(geo.points[p.paths.seg_a], seg_f)
    lp, lf = load_forces(p, geo)
    if len(lf):
        bf += _sum_by(p.load_body, lf, nb)
        bm += _sum_by(p.load_body, _cross(lp, lf), nb)
    cb, cp, cf = contact_forces(p, geo)
    if len(cf):
        bf += _sum_by(cb, cf, nb)
        bm += _sum_by(cb, _cross(cp, cf), nb)
    pressure = g["pressure_Pa"]
    cavity_force = cavity_forces(p, geo, pressure)
    if len(cavity_force):
        bf += _sum_by(p.cavity_body, cavity_force, nb)
        bm += _sum_by(p.cavity_body, _cross(geo.cavity, cavity_force), nb)
    # the reaction at joint j (inferior on superior) balances the forces on the bodies on the
    # far side of j from the root: −Σ_b S[b, j] F_b (S = +1: the superior side, −1: inferior)
    reaction = -(p.S.T @ bf)
    plates = endplates(p, geo)
    compression, shear = joint_loads(p, geo, reaction, plates)
    root = root_reaction(p, geo, loads=(lp, lf), contact=(cb, cp, cf))
    # a held (locked) joint carries the generalized force nothing else balances there
    free = p.B.any(1)
    held = np.where(free, 0.0, -sum(g[k] for k in SOURCES))
    return PostureReport(
        result=result, geometry=geo, metrics=clinical_metrics(p, geo, root, plates),
        tau={k: g[k] for k in SOURCES},
        muscle_force=forces, moment_arm=-geo.dLdq, passive_moment=g["passive"], held_moment=held,
        reaction=reaction, compression=compression, shear=shear, body_forces=bf, body_moments=bm,
        contact_points=cp, contact_forces=cf, contact_bodies=cb, root_reaction=root, load_points=lp,
        load_forces=lf, abdominal_pressure_Pa=pressure, cavity_forces=cavity_force,
        **dict(zip(("length_change", "length_change_percent", "fiber_length_norm",
                    "fiber_strain_percent"), length_changes(p, geo.length))))


def joint_loads(problem, geo, reaction: np.ndarray, plates=None):
    """Compression and shear (n_joints,) of the load the superior body transmits to the inferior
    one (−reaction), resolved on the inferior body's frame (conventions §5): its superior
    endplate where it has one (the sacral plate for L5_S1), the femoral axis (knee to hip) at the
    hip, and otherwise the inferior body's own frame (x anterior). Compression is positive when
    pressing, shear positive when the superior body pushes anteriorly. ``plates``: the
    `metrics.endplates` at ``geo``, if already computed."""
    m = problem.model
    _, t, _ = plates if plates is not None else endplates(problem, geo)
    inferior = problem.inferior
    ang = geo.angles[inferior]
    tangent = np.stack([np.cos(ang), np.sin(ang)], -1)     # the inferior body's own frame
    plate = np.full(m.n_bodies, -1)
    plate[np.asarray(m.endplate_body, int)] = np.arange(len(m.endplate_body))
    k = plate[inferior]
    tangent[k >= 0] = t[k[k >= 0]]                          # its superior endplate
    for sfx in m.leg_suffixes:
        femur = inferior == m.body_index("femur" + sfx)
        if femur.any():
            axis = geo.centres[m.joint_index("hip" + sfx)] - landmark(problem, geo, "knee" + sfx)
            axis /= np.linalg.norm(axis)                    # femoral axis, knee to hip
            tangent[femur] = [axis[1], -axis[0]]            # its anterior perpendicular
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], -1)
    return np.einsum("ij,ij->i", reaction, normal), -np.einsum("ij,ij->i", reaction, tangent)


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
    if problem.locked:
        notes.append("Held joints (" + ", ".join(problem.locked) + "): the support keeps them at the "
                     "reference angles; the moment that takes is their held_moment_Nm.")
    notes.append({"standing": "Standing: the feet are held flat on the floor, which pushes on the heels "
                              "and the forefeet only (support.contacts heel, forefoot).",
                  "sitting": "Sitting: the ischia and the thighs rest on a compliant seat (a backrest if "
                             "given), the feet flat on the floor, which pushes on heels and forefeet only.",
                  "lying": "Lying: the middle of the back is held on a flat table, which pushes only; "
                           "head, back, buttocks and (supported) legs rest on it through compliant contacts."}
                 [problem.support.kind] if problem.support.lying_on == "back" else
                 "Lying prone: the chest is held on a flat table, which pushes only; the forehead, the "
                 "lower ribs, the belly, the pelvis (ASIS) and the legs rest on it through compliant "
                 "contacts." if problem.support.lying_on == "front" else
                 "Lying on the side: gravity and the table's push act across the sagittal plane, so "
                 "no sagittal external force loads the body (friction neglected); muscles and passive "
                 "tissues alone hold the posture, the middle thorax held in place.")
    return notes


MODES = ("equilibrium", "upright", "inverse")


def to_dict(result, *, scenario: dict | None = None, mode: str | None = None,
            with_version: bool = True, report: PostureReport | None = None, muscles=None) -> dict:
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
    report : the result's `posture_report`, if already computed (it is computed otherwise).
    muscles : a function (problem, report) -> the ``muscles`` block; default `muscle_docs` (plain
        Python types). The command line passes `muscles_fragment`, the same block encoded.

    Raises
    ------
    ModelError
        A recruited result without ``mode`` or ``scenario``, or a mode that is not one of the
        three or does not fit the result (equilibrium vs recruited).
    """
    header = _header(result, scenario, mode)
    rep = report if report is not None else posture_report(result)
    p = result.problem
    m = p.model
    geo = rep.geometry
    checked = (result.q, geo.points, rep.body_forces, rep.muscle_force, rep.reaction, rep.moment_arm)
    if not np.isfinite(sum(float(np.sum(v)) for v in checked)):   # one NaN or inf anywhere spoils the sum
        raise ModelError("to_dict: the result holds non-finite numbers (a defect: please report it)")
    bodies, joints = m.bodies, m.joints
    # a metric the support does not define (the centre of pressure lying) is null
    met = {k: float(v) if np.isfinite(v) else None for k, v in rep.metrics.items() if k != "segmental_lordosis_deg"}
    met["segmental_lordosis_deg"] = {k: float(v) for k, v in rep.metrics["segmental_lordosis_deg"].items()}
    centres, reaction = geo.centres.tolist(), rep.reaction.tolist()
    angle = (result.q * DEG_PER_RAD).tolist()
    passive, comp, shear = rep.passive_moment.tolist(), rep.compression.tolist(), rep.shear.tolist()
    held = rep.held_moment.tolist()
    joint_docs = {
        name: {"inferior": bodies[int(p.inferior[j])], "superior": bodies[int(p.superior[j])],
               "center_m": centres[j], "angle_deg": angle[j], "passive_moment_Nm": passive[j],
               "held_moment_Nm": held[j], "reaction_force_N": reaction[j], "compression_N": comp[j],
               "shear_N": shear[j]}
        for j, name in enumerate(joints)}
    doc = {
        "scenario": header,
        "status": {"code": result.code.value, "converged": bool(result.converged), "stable": result.stable,
                   "message": result.message, "max_residual_Nm": float(result.max_residual_Nm),
                   "iterations": int(result.iterations)},
        "metrics": met,
        "bodies": {b: {"mass_kg": mk, "com_m": c} for b, mk, c in zip(bodies, p.mass.tolist(), geo.com.tolist())},
        "joints": joint_docs,
        "muscles": (muscles or muscle_docs)(p, rep),
        "external_loads": [{"body": bodies[b], "point_m": pt, "force_N": f} for b, pt, f in
                           zip(p.load_body.tolist(), rep.load_points.tolist(), rep.load_forces.tolist())],
        "gravity_m_s2": p.gravity.tolist(),
        "abdomen": _abdomen(p, rep),
        "support": _support(p, rep),
        "diagnostics": {"stiffness_eigenvalues_Nm_per_rad": [float(v) if np.isfinite(v) else None
                                                             for v in result.stiffness_eigenvalues],
                        "generalized_forces_Nm": {k: dict(zip(joints, v.tolist())) for k, v in rep.tau.items()}},
        "model_notes": model_notes(p, result),
    }
    rec = getattr(result, "recruitment", None)
    if rec is not None:
        doc["recruitment"] = {
            "criterion": result.criterion.name,
            "stress_exponent": result.criterion.exponent if result.criterion.name == "stress_power" else None,
            "effort": float(rec.effort),
            "recruited_lines": [m.muscle_names[i] for i in np.flatnonzero(rec.free)],
            "shortfall_Nm": dict(zip(joints, rec.shortfall.tolist()))}
    if with_version:
        doc = {"biomech_version": __version__, **doc}
    return doc


def _muscle_columns(p, rep):
    """Per line, in `muscle_docs`'s order: the numbers of a line's entry (M, 11), (force,
    activation or NaN, length, its change in mm and %, normalized fibre length, fibre strain %,
    F_max, optimal fibre length and tendon slack length as the problem used them, pennation in
    degrees), the path points (P, 2) and the moment arms at the crossed joints, line by line."""
    m, geo = p.model, rep.geometry
    li, ji = p.line_joint_index
    act = np.where(p.lines.fixed_tension, np.nan, p.lines.activation)
    scalars = np.stack([rep.muscle_force, act, geo.length, rep.length_change * 1000.0,
                        rep.length_change_percent, rep.fiber_length_norm, rep.fiber_strain_percent,
                        np.asarray(m.max_isometric_force, float), p.lines.lopt, p.lines.lts,
                        np.degrees(np.asarray(m.pennation, float))], 1)
    return scalars, geo.points, rep.moment_arm[li, ji]


#: The keys of a line's entry before its path, in order (`muscle_docs`; the group first).
MUSCLE_KEYS = ("force_N", "activation", "length_m", "length_change_mm", "length_change_percent",
               "fiber_length_normalized", "fiber_strain_percent", "max_isometric_force_N",
               "optimal_fiber_length_m", "tendon_slack_length_m", "pennation_deg")


def muscle_docs(p, rep: PostureReport) -> dict:
    """The ``muscles`` block of the JSON document (conventions §5): per line its group, force,
    activation (None where its tension is set), length and its change from relaxed standing,
    fibre length and strain, parameters as the problem used them, path (each point's body,
    world position and lateral offset) and moment arm at each joint it crosses (the joints with
    its points on both sides)."""
    m = p.model
    bodies = m.bodies
    scalars, points, arms = _muscle_columns(p, rep)
    paths = p.paths
    ptr = paths.line_ptr.tolist()
    point_docs = [{"body": bodies[b], "point_m": xy, "lateral_m": z}
                  for b, xy, z in zip(paths.body.tolist(), points.tolist(), paths.z.tolist())]
    arms = arms.tolist()
    arm_ptr = np.cumsum([0] + [len(c) for c in p.line_joint_names]).tolist()
    out = {}
    for k, (name, group, row) in enumerate(zip(m.muscle_names, m.muscle_group, scalars.tolist())):
        entry = {"group": group, **dict(zip(MUSCLE_KEYS, row))}
        if entry["activation"] != entry["activation"]:
            entry["activation"] = None
        entry["path"] = point_docs[ptr[k]:ptr[k + 1]]
        entry["moment_arms_m"] = dict(zip(p.line_joint_names[k], arms[arm_ptr[k]:arm_ptr[k + 1]]))
        out[name] = entry
    return out


#: Per `problem.Problem.paths` (shared by the problems prepared on one support): the constant
#: pieces of the encoded ``muscles`` block and the order of its numbers (`muscles_fragment`).
_TEMPLATES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _muscle_template(p):
    """(pieces, order): the bytes around the numbers of the encoded ``muscles`` block, and
    the index of each number in the concatenation of `_muscle_columns` (scalars, points, arms
    raveled), for the model and paths of problem ``p``."""
    cached = _TEMPLATES.get(p.paths)            # (one paths object: one model, support and root)
    if cached is not None:
        return cached
    m, paths = p.model, p.paths
    n, n_pts = len(m.muscle_names), len(paths.body)
    ptr = paths.line_ptr.tolist()
    dumps = orjson.dumps
    pieces, order, text = [], [], b"{"
    arm = 11 * n + 2 * n_pts
    for k, (name, group) in enumerate(zip(m.muscle_names, m.muscle_group)):
        text += (b"," if k else b"") + dumps(name) + b':{"group":' + dumps(group)
        for c, key_name in enumerate(MUSCLE_KEYS):
            pieces.append(text + b',"' + key_name.encode() + b'":')
            order.append(11 * k + c)
            text = b""
        text = b',"path":['
        for i in range(ptr[k], ptr[k + 1]):
            pieces.append(text + (b"," if i > ptr[k] else b"") + b'{"body":' + dumps(m.bodies[int(paths.body[i])])
                          + b',"point_m":[')
            order.append(11 * n + 2 * i)
            pieces.append(b",")
            order.append(11 * n + 2 * i + 1)
            text = b'],"lateral_m":' + dumps(float(paths.z[i])) + b"}"
        text += b'],"moment_arms_m":{'
        for c, joint in enumerate(p.line_joint_names[k]):
            pieces.append(text + (b"," if c else b"") + dumps(joint) + b":")
            order.append(arm)
            arm += 1
            text = b""
        text += b"}}"
    pieces.append(text + b"}")
    template = (pieces, np.array(order, int))
    _TEMPLATES[paths] = template
    return template


def muscles_fragment(p, rep: PostureReport):
    """`muscle_docs` encoded as the command line's compact JSON (`runner.dumps`) in one pass:
    the numbers in one call of the encoder, the keys, names and constants from a template built
    once per model and paths (`_muscle_template`); an ``orjson.Fragment`` that the encoder copies
    into the document. The same bytes as encoding `muscle_docs` (tests/test_parallel.py), in
    about a third of the time (issue 12)."""
    pieces, order = _muscle_template(p)
    scalars, points, arms = _muscle_columns(p, rep)
    values = np.concatenate([scalars.ravel(), points.ravel(), arms])[order]
    numbers = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].split(b",")
    out = [None] * (2 * len(numbers) + 1)
    out[0::2] = pieces
    out[1::2] = numbers
    return orjson.Fragment(b"".join(out))


#: Names of the two ends of the root's resting patch in `support.contacts` (conventions §5).
PATCH_NAMES = {"standing": ("heel", "forefoot"), "sitting": ("heel", "forefoot"),
               "lying": ("back_T8", "back_T5"), "prone": ("front_T8", "front_T5"), "bridge": ("back_T5", "back_T1")}


def patch_names(support) -> tuple[str, str]:
    """The names of the two ends of the root's resting patch of a support (`PATCH_NAMES`)."""
    if support.kind == "lying" and (support.lying_on == "front" or support.bridge):
        return PATCH_NAMES["prone" if support.lying_on == "front" else "bridge"]
    return PATCH_NAMES[support.kind]
#: Names of the other support contacts, by surface (`supports.contact_specs`); standing on two
#: legs, a kneeling leg's are "floor".
SURFACE_NAMES = {"seat": "seat", "backrest": "backrest", "root": "table"}


def support_contacts(problem, rep: PostureReport) -> list[dict]:
    """Every force the support puts on a body (conventions §5 `support.contacts`).

    In order: the compliant contacts (seat, backrest or table, at their landmarks), the hands
    drawing a knee to the chest (``hands_left_knee`` on the femur, ``hands_left_shoulder`` on the
    upper thorax: equal and opposite), then the root's reaction (`balance.reaction`) as the normal force and its share of the
    friction at each end of the root's resting patch (the heels and forefeet on the floor; the
    back of the middle thorax at T8 and T5 on the table). With these, the weights of all bodies,
    the muscles, the external loads, the passive moments, the held joints' moments and the
    joint reactions, every body and every sub-chain balances (tests/test_json_balance.py reads
    only the JSON).
    """
    p = problem
    bodies = p.model.bodies
    out = []

    def entry(name, body, point, force):
        out.append({"name": name, "body": bodies[int(body)], "point_m": [float(point[0]), float(point[1])],
                    "force_N": [float(force[0]), float(force[1])], "moment_Nm": 0.0})
    names = [("floor" if p.support.kind == "standing" else SURFACE_NAMES[spec.surface]) for spec in p.contacts]
    names += [n for name in p.hand_names for n in (f"{name}_knee", f"{name}_shoulder")]
    names += ["floor"] * len(p.floor_body)                # a second foot's heel and forefoot
    for name, b, pt, f in zip(names, rep.contact_bodies, rep.contact_points, rep.contact_forces):
        entry(name, b, pt, f)
    r = rep.root_reaction
    t = np.array([r.normal[1], -r.normal[0]])
    total = r.normal_N
    share = (0.5, 0.5) if total == 0.0 else (r.a_N / total, r.b_N / total)
    for name, point, n_force, k in zip(patch_names(p.support), (r.a, r.b), (r.a_N, r.b_N), share):
        entry(name, p.root, point, n_force * r.normal + k * r.friction_N * t)
    return out


#: Pascals per millimetre of mercury (the unit of clinical intra-abdominal pressure).
PA_PER_MMHG = 133.322387415


def _abdomen(problem, rep: PostureReport) -> dict | None:
    """The ``abdomen`` block of conventions §5: the cavity pressure and its push on the floor
    (pelvis) and the roof (lower thorax); None for a model without a cavity."""
    if not len(rep.cavity_forces):
        return None
    bodies = problem.model.bodies
    geo = rep.geometry
    arm = geo.pressure_arm / problem.cavity_area                  # m: ∂ℓ/∂q of the axis
    crossed = np.flatnonzero(np.abs(problem.S[problem.cavity_body[0]] - problem.S[problem.cavity_body[1]]) > 0)
    ends = {name: {"body": bodies[int(b)], "point_m": pt, "force_N": f}
            for name, b, pt, f in zip(("floor", "roof"), problem.cavity_body, geo.cavity.tolist(),
                                      rep.cavity_forces.tolist())}
    return {"intra_abdominal_pressure_kPa": rep.abdominal_pressure_Pa / 1e3,
            "intra_abdominal_pressure_mmHg": rep.abdominal_pressure_Pa / PA_PER_MMHG,
            "pelvic_floor_pressure_kPa": floor_pressure(problem, geo, rep.abdominal_pressure_Pa) / 1e3,
            "area_m2": problem.cavity_area, **ends,
            "moment_arms_m": {problem.model.joints[j]: float(arm[j]) for j in crossed}}


def _support(problem, rep: PostureReport) -> dict:
    s = problem.support
    doc = {"kind": s.kind, "thigh_inclination_deg": s.thigh_deg, "knee_flexion_deg": s.knee_deg}
    if s.kind == "lying":
        doc["legs"] = s.legs
        doc["lying_on"] = s.lying_on
    if s.backrest_inclination_deg is not None:
        doc["backrest_inclination_deg"] = float(s.backrest_inclination_deg)
    doc["held_joints"] = list(problem.locked)
    doc["contacts"] = support_contacts(problem, rep)
    for side in problem.model.sides:                 # two legs: each leg's position
        leg = s.leg(side)
        doc[f"{side}_leg"] = {"position": leg.position, "hip_flexion_deg": leg.hip_deg,
                              "knee_flexion_deg": leg.knee_deg}
    return doc


def _header(result, scenario: dict | None, mode: str | None) -> dict:
    """The ``scenario`` header of `to_dict`, its mode checked against the result's type."""
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
