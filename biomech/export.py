"""A solved posture as an OpenSim 4 model: `to_osim(result) -> str` (.osim XML).

What is exported, how the frames map, what is approximated and how the tests check it:
docs/api.md §4. In short:

* bodies `foot` … `head` with their masses and centres of mass, each in our body frame (the
  source models' frames, scaled), z to the subject's right;
* a `PinJoint` per joint, named after it, whose coordinate (same name) *is* our joint angle q
  (rad, counter-clockwise about +z: spinal extension, posterior pelvic tilt), default value
  the solved angle, range the physiological range, locked where the support holds it; the
  tree grows from the root body (the foot, or lying the middle thorax), which a `WeldJoint`
  named `hold` fixes to ground in its solved pose (it carries the floor's or the table's
  reaction on the root);
* every line as a `Thelen2003Muscle` (the same Thelen 2003 curves and shape parameters as
  ours, but for our passive curve's rounded onset, `muscles.PASSIVE_ONSET_WIDTH`; rigid
  tendon) with its F_max, l_opt, l_ts and pennation, its path through the points the problem
  used, lateral offsets included;
* the passive joint laws as `ExpressionBasedCoordinateForce`s with the exact expressions of
  `biomech.passive`;
* the support's compliant contacts (seat, backrest, table), the external loads and the
  abdominal pressure's push on the pelvis and the lower thorax as `PrescribedForce`s frozen
  at their solved values.

The XML is written with the standard library: OpenSim is needed only to use the file
(`pip install 'biomech[opensim]'` for the tests that load it).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from . import __version__
from .errors import ModelError
from .files import atomic_write
from .kinematics import rotation
from .muscles import THELEN_E0, THELEN_GAMMA, THELEN_KPE
from .passive import (RIENER_EDRICH_1999, RIENER_EDRICH_1999_ANKLE, RIENER_EDRICH_1999_KNEE, IntervertebralLaw,
                      LegLaw)
from .problem import leg_partners
from .results import patch_names, to_dict
from .statics import geometry
from .units import RAD_PER_DEG

#: The .osim format version written (OpenSim 4.0 and later read it).
OSIM_FORMAT_VERSION = "40000"

#: Radius of gyration (m) of the placeholder inertia of every body, m r² about each axis through
#: its COM. A static model has no inertia: nothing biomech computes depends on it, and neither
#: does OpenSim's inverse dynamics at zero velocity and acceleration. Replace it before a
#: dynamic simulation.
INERTIA_RADIUS_M = 0.05

#: OpenSim's lower bound on a Thelen2003Muscle's activation.
MIN_ACTIVATION = 0.01


def _num(x: float) -> str:
    """A float as the shortest text that reads back to the same double."""
    x = float(x)
    if not math.isfinite(x):
        raise ModelError(f"to_osim: a non-finite number ({x}) cannot be exported")
    return repr(x + 0.0)          # + 0.0: no "-0.0"


def _vec(*xs) -> str:
    return " ".join(_num(x) for x in xs)


def _c(x: float) -> str:
    """A constant inside an expression, parenthesised so that its sign parses."""
    return f"({_num(x)})"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def intervertebral_expression(coefficients, rest_angle: float) -> str:
    """The OpenSim (Lepton) expression in q of an intervertebral law (docs/model.md §5):
    M = −k0 θ − A_e g(θ/θ_e) + A_f g(−θ/θ_f), θ = q − rest, g(x) = e^max(x,0) − 1 − max(x,0)
    (= e^x − 1 − x for x > 0, else 0: the law of `passive.intervertebral_moment` exactly)."""
    k0, ae, te, af, tf = (float(c) for c in coefficients)
    t = f"(q-{_c(rest_angle)})"

    def g(x):
        return f"(exp(max({x},0))-1-max({x},0))"
    return f"-{_c(k0)}*{t}-{_c(ae)}*{g(f'{t}/{_c(te)}')}+{_c(af)}*{g(f'-{t}/{_c(tf)}')}"


def leg_expression(joint: str, partner_rad, scale: float) -> str:
    """The OpenSim expression in q (rad) of the passive moment of both legs at the hip, the
    knee or the ankle on the joint's superior body, Riener & Edrich (1999)
    (`passive.leg_passive_moment`), the neighbouring joints at ``partner_rad`` = (hip flexion,
    knee flexion, ankle plantarflexion) rad: hip M = −2 s (e^(a0 + ak φK + ah φH) − e^(b0 + bk φK
    + bh φH) + c) with φH = −q; knee M = 2 s (e1 − e2 + c + e3) with φK = q; ankle M = 2 s (e1 −
    e2 + c) with φA = q (angles in degrees)."""
    phi_h, phi_k, phi_a = (_c(v / RAD_PER_DEG) for v in partner_rad)
    deg = f"(q/{_c(RAD_PER_DEG)})"
    if joint == "hip":
        a0, ak, ah, b0, bk, bh, c = RIENER_EDRICH_1999
        ph = f"(-{deg})"
        e1 = f"exp({_c(a0)}+{_c(ak)}*{phi_k}+{_c(ah)}*{ph})"
        e2 = f"exp({_c(b0)}+{_c(bk)}*{phi_k}+{_c(bh)}*{ph})"
        return f"-2*{_c(scale)}*({e1}-{e2}+{_c(c)})"
    if joint == "knee":
        a0, aa, ak, ah, b0, ba, bk, bh, c, d0, dk = RIENER_EDRICH_1999_KNEE
        e1 = f"exp({_c(a0)}+{_c(aa)}*{phi_a}+{_c(ak)}*{deg}+{_c(ah)}*{phi_h})"
        e2 = f"exp({_c(b0)}+{_c(ba)}*{phi_a}+{_c(bk)}*{deg}+{_c(bh)}*{phi_h})"
        e3 = f"exp({_c(d0)}+{_c(dk)}*{deg})"
        return f"2*{_c(scale)}*({e1}-{e2}+{_c(c)}+{e3})"
    a0, aa, ak, b0, ba, bk, c = RIENER_EDRICH_1999_ANKLE
    e1 = f"exp({_c(a0)}+{_c(aa)}*{deg}+{_c(ak)}*{phi_k})"
    e2 = f"exp({_c(b0)}+{_c(ba)}*{deg}+{_c(bk)}*{phi_k})"
    return f"2*{_c(scale)}*({e1}-{e2}+{_c(c)})"


def evaluate_expression(expression: str, q: float) -> float:
    """Evaluate an expression of `intervertebral_expression` or `leg_expression` at q (Python's
    reading of the same text OpenSim parses: the export checks itself with it)."""
    return float(eval(expression, {"__builtins__": {}}, {"exp": math.exp, "max": max, "q": float(q)}))


def passive_expressions(result, doc: dict) -> dict[str, str]:
    """{joint: expression in q} of every joint's passive moment on its superior body (N·m),
    from the model's laws (`model.passive`, `model.rest_angle`), each checked against the moment
    the result reports at its angle (ModelError if they differ: the laws would not be the ones
    the result used)."""
    model = result.problem.model
    out = {}
    for k, (j, law) in enumerate(zip(model.joints, model.passive)):
        if isinstance(law, LegLaw):
            out[j] = leg_expression(law.joint, leg_partners(model, result.problem.q_ref, j), law.factor)
        elif isinstance(law, IntervertebralLaw):
            out[j] = intervertebral_expression(law.coefficients(), float(model.rest_angle[k]))
        else:
            raise ModelError(f"to_osim: no OpenSim expression for the passive law of {j} "
                             f"({type(law).__name__})")
    for j, expr in out.items():
        value = evaluate_expression(expr, math.radians(doc["joints"][j]["angle_deg"]))
        reported = doc["joints"][j]["passive_moment_Nm"]
        if abs(value - reported) > 1e-8 * max(1.0, abs(reported)):
            raise ModelError(f"to_osim: the passive law of {j} does not give the reported moment "
                             f"({value:.6g} vs {reported:.6g} N·m)")
    return out


def to_osim(result, *, scenario: dict | None = None, mode: str | None = None,
            point: int | None = None) -> str:
    """The model at the solved posture of ``result`` as an OpenSim 4 .osim document (str).

    Parameters
    ----------
    result : an `EquilibriumResult` or a recruited result (`solve_upright`, `solve_inverse`).
    scenario, mode : the header, as for `results.to_dict` (a recruited result needs one of them).
    point : the sweep point this posture is, for the model's notes (None: not a sweep).

    Returns
    -------
    The XML text. Element names follow biomech's: bodies, joints and their coordinates
    (`hip`, `L5_S1`, …), lines, `<joint>_passive`, the weld `hold`, the contacts
    `<name>_<body>` (`_2`, `_3` … for a second, third contact on the same body) and the loads
    `load_<k>_<body>`. docs/api.md §4.

    Raises
    ------
    ModelError : as `to_dict` does for the header; if the result's passive moments do not
        follow the model's laws.
    """
    doc = to_dict(result, scenario=scenario, mode=mode)
    problem, q = result.problem, np.asarray(result.q, float)
    model = problem.model
    geo = geometry(problem, q)
    angles, origins = np.asarray(geo.angles, float), np.asarray(geo.origins, float)
    contacts = doc["support"]["contacts"]
    root = problem.root

    def local(body: str, p) -> np.ndarray:
        b = model.body_index(body)
        return rotation(-angles[b]) @ (np.asarray(p, float) - origins[b])

    head = doc["scenario"]
    osim = ET.Element("OpenSimDocument", Version=OSIM_FORMAT_VERSION)
    model_el = _sub(osim, "Model", name=head["name"] or "biomech")
    where = f"{head['file'] or 'the Python API'}" + (f", sweep point {point}" if point is not None else "")
    model_el.append(ET.Comment(
        f" Exported by biomech {__version__} from {where} ({head['mode']} mode): "
        f"{doc['status']['message']}. Frames, signs and approximations: biomech docs/api.md §4. "))
    _sub(model_el, "credits", f"biomech {__version__} (2D sagittal lumbopelvic model), "
         f"scenario {head['name']!r}, {head['mode']} mode")
    _sub(model_el, "publications", "Geometry: Christophy et al. (2012) Lumbar_C_210 and Delp et "
         "al. (1990) gait2392 frames; sources of every parameter: biomech docs/model.md")
    _sub(model_el, "length_units", "meters")
    _sub(model_el, "force_units", "N")
    gx, gy = doc["gravity_m_s2"]
    _sub(model_el, "gravity", _vec(gx, gy, 0.0))

    # bodies ------------------------------------------------------------------------------
    bodies = _sub(_sub(model_el, "BodySet", name="bodyset"), "objects")
    for name, v in doc["bodies"].items():
        b = _sub(bodies, "Body", name=name)
        m = v["mass_kg"]
        _sub(b, "mass", _num(m))
        cx, cy = local(name, v["com_m"])
        _sub(b, "mass_center", _vec(cx, cy, 0.0))
        inertia = m * INERTIA_RADIUS_M ** 2
        _sub(b, "inertia", _vec(inertia, inertia, inertia, 0.0, 0.0, 0.0))

    # joints: the held body welded to ground, the tree growing from it ----------------------
    joints = _sub(_sub(model_el, "JointSet", name="jointset"), "objects")
    weld = _sub(joints, "WeldJoint", name="hold")
    _sub(weld, "socket_parent_frame", "ground_offset")
    _sub(weld, "socket_child_frame", f"/bodyset/{model.bodies[root]}")
    frames = _sub(weld, "frames")
    _offset_frame(frames, "ground_offset", "/ground", origins[root], (0.0, 0.0, angles[root]))

    def pin(j: int, reversed_: bool):
        name = model.joints[j]
        i, k = int(problem.inferior[j]), int(problem.superior[j])
        inf, sup = model.bodies[i], model.bodies[k]
        centre = doc["joints"][name]["center_m"]
        # offset: the superior frame's rotation relative to the inferior frame at q_j = 0
        offset = float(angles[k] - angles[i] - q[j])
        parent, child = (sup, inf) if reversed_ else (inf, sup)
        flip = math.pi if reversed_ else 0.0      # frames turned about x: their z is −z
        el = _sub(joints, "PinJoint", name=name)
        _sub(el, "socket_parent_frame", f"{parent}_offset")
        _sub(el, "socket_child_frame", f"{child}_offset")
        coord = _sub(_sub(el, "coordinates"), "Coordinate", name=name)
        _sub(coord, "default_value", _num(q[j]))
        _sub(coord, "range", _vec(problem.q_low[j], problem.q_high[j]))
        _sub(coord, "clamped", "false")
        _sub(coord, "locked", "true" if name in problem.locked else "false")
        fr = _sub(el, "frames")
        _offset_frame(fr, f"{parent}_offset", f"/bodyset/{parent}", local(parent, centre), (flip, 0.0, 0.0))
        _offset_frame(fr, f"{child}_offset", f"/bodyset/{child}", local(child, centre), (flip, 0.0, -offset))
    for j in range(model.n_joints):
        # the tree grows from the held body: a joint whose inferior body lies on the held body's
        # side is a parent-to-child joint as it stands; one whose superior body does (lying:
        # the thorax is held, the tree grows downwards) is turned about x
        pin(j, bool(problem.S[problem.superior[j], j] == 0.0))

    # forces ------------------------------------------------------------------------------
    forces = _sub(_sub(model_el, "ForceSet", name="forceset"), "objects")
    for name, mu in doc["muscles"].items():
        el = _sub(forces, "Thelen2003Muscle", name=name)
        path = _sub(el, "GeometryPath", name="path")
        pts = _sub(_sub(path, "PathPointSet"), "objects")
        for k, pt in enumerate(mu["path"], start=1):
            p = _sub(pts, "PathPoint", name=f"{name}-P{k}")
            _sub(p, "socket_parent_frame", f"/bodyset/{pt['body']}")
            x, y = local(pt["body"], pt["point_m"])
            _sub(p, "location", _vec(x, y, pt["lateral_m"]))
        _sub(el, "max_isometric_force", _num(mu["max_isometric_force_N"]))
        _sub(el, "optimal_fiber_length", _num(mu["optimal_fiber_length_m"]))
        _sub(el, "tendon_slack_length", _num(mu["tendon_slack_length_m"]))
        _sub(el, "pennation_angle_at_optimal", _num(math.radians(mu["pennation_deg"])))
        a = mu["activation"]
        _sub(el, "default_activation", _num(min(max(MIN_ACTIVATION if a is None else a, MIN_ACTIVATION), 1.0)))
        _sub(el, "FmaxMuscleStrain", _num(THELEN_E0))
        _sub(el, "KshapeActive", _num(THELEN_GAMMA))
        _sub(el, "KshapePassive", _num(THELEN_KPE))
    for j, expr in passive_expressions(result, doc).items():
        el = _sub(forces, "ExpressionBasedCoordinateForce", name=f"{j}_passive")
        _sub(el, "coordinate", j)
        _sub(el, "expression", expr)
    patch = patch_names(problem.support)
    used: dict[str, int] = {}
    for c in contacts:
        if c["name"] in patch:                     # the floor's or table's reaction on the root: the weld
            continue
        label = f"{c['name']}_{c['body']}"
        used[label] = used.get(label, 0) + 1       # two contacts on one body: seat_pelvis, seat_pelvis_2
        if used[label] > 1:
            label = f"{label}_{used[label]}"
        prescribed_force(forces, label, c["body"], local(c["body"], c["point_m"]), c["force_N"], c["moment_Nm"])
    for k, ld in enumerate(doc["external_loads"]):
        prescribed_force(forces, f"load_{k}_{ld['body']}", ld["body"], local(ld["body"], ld["point_m"]),
                         ld["force_N"], 0.0)
    if doc["abdomen"] is not None:                 # the cavity pressure's push on its floor and roof
        for end in ("floor", "roof"):
            e = doc["abdomen"][end]
            prescribed_force(forces, f"abdominal_pressure_{end}", e["body"], local(e["body"], e["point_m"]),
                             e["force_N"], 0.0)

    ET.indent(osim, space="\t")
    return '<?xml version="1.0" encoding="UTF-8" ?>\n' + ET.tostring(osim, encoding="unicode") + "\n"


def write_osim(result, path, **kwargs) -> Path:
    """Write `to_osim(result, **kwargs)` to ``path`` atomically (a temporary file in the same
    folder, then renamed: an interrupted write leaves no half file). Returns the path."""
    return atomic_write(Path(path), to_osim(result, **kwargs).encode())


def _offset_frame(parent: ET.Element, name: str, of: str, xy, orientation) -> None:
    f = _sub(parent, "PhysicalOffsetFrame", name=name)
    _sub(f, "socket_parent", of)
    _sub(f, "translation", _vec(xy[0], xy[1], 0.0))
    _sub(f, "orientation", _vec(*orientation))


def prescribed_force(parent: ET.Element, name: str, body: str, point_local, force, moment: float) -> None:
    """A `PrescribedForce` of constant world force (and moment about z) at a body-frame point."""
    el = _sub(parent, "PrescribedForce", name=name)
    _sub(el, "socket_frame", f"/bodyset/{body}")
    _sub(el, "pointIsGlobal", "false")
    _sub(el, "forceIsGlobal", "true")

    def functions(label, values):
        objs = _sub(_sub(el, "FunctionSet", name=label), "objects")
        for v in values:
            _sub(_sub(objs, "Constant"), "value", _num(v))
    functions("forceFunctions", (force[0], force[1], 0.0))
    functions("pointFunctions", (point_local[0], point_local[1], 0.0))
    if moment:
        functions("torqueFunctions", (0.0, 0.0, moment))


__all__ = ["to_osim", "write_osim", "intervertebral_expression", "leg_expression", "evaluate_expression",
           "passive_expressions", "OSIM_FORMAT_VERSION", "INERTIA_RADIUS_M"]
