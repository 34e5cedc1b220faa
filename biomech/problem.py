"""The posture problem: everything fixed during one solve, computed once by `prepare`.

A `Problem` is a plain frozen container (model, support, muscle settings, loads, and the arrays
they imply); the algorithms that use it are functions of (problem, q) in `statics`, the way
Pinocchio and MuJoCo keep model, data and algorithms apart.

    problem = prepare(model, support=Support("standing"), settings={"psoas": MuscleSetting(tension_N=200)})
    R = statics.residual(problem, problem.q_ref)
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import numpy as np

from . import kinematics as kin
from . import limits
from .balance import RootPatch, root_patch
from .errors import ModelError
from .model import Model
from .muscles import DEFAULT_SHORT_RANGE_STIFFNESS, DEFAULT_TONE, Lines, MuscleSetting, make_lines
from .names import MUSCLE_GROUPS
from .passive import IntervertebralLaw, LegLaw, leg_law_terms
from .paths import Paths, path_lengths, resolve_paths
from .tissues import reference_moments
from .supports import (CONTACT_SMOOTHING_M, FOOT_POINTS, Load, Support, contact_specs, floor_feet, support_held_joints,
                       held_joints, held_legs,
                       reference_posture, suggest)


#: How far each support surface lies inside the body's outermost point in the reference posture
#: (m): the soft tissue there already compressed, so that the surfaces carry load, and have
#: their full stiffness, from the first step of a solve (a surface that only touches has no
#: force and, with `statics.contact_law`, no slope: the solvers would not see it). The smoothing
#: width of the contact law, 1 mm: a force of k·0.5 mm, ≈ 50 N per contact, against the ≈ 7 mm
#: a body weight compresses the default contact stiffness (a starting condition of the tissue).
CONTACT_PRELOAD_M = CONTACT_SMOOTHING_M


@dataclass(frozen=True, eq=False)
class Problem:
    """One posture problem (immutable): n_bodies bodies, n_joints joints, M lines, P points,
    Sg path segments. Made by `prepare`, the one place that computes its arrays."""

    model: Model
    support: Support
    settings: dict              # name -> MuscleSetting, as given
    loads: tuple                # Load, as given
    # kinematics for the support's root body (kinematics.py)
    root: int
    root_angle: float           # rad
    patch: RootPatch            # where the root rests on the support (`balance`)
    S: np.ndarray               # (n_bodies, n_joints) path signs for this root
    S_inferior: np.ndarray      # (n_joints, n_joints) S of each joint's inferior body
    inferior: np.ndarray        # (n_joints,) int
    superior: np.ndarray        # (n_joints,) int
    joint_a: np.ndarray         # (n_joints,) complex: joint centre in the inferior body
    joint_c: np.ndarray         # (n_joints,) complex: joint centre in the superior body
    joint_offset: np.ndarray    # (n_joints,) rad
    origin_joint: int           # the joint placed at the world origin (the hip, conventions §1)
    # gravity and masses
    gravity: np.ndarray         # (2,) m/s²
    mass: np.ndarray            # (n_bodies,) kg
    com_local: np.ndarray       # (n_bodies, 2)
    weight: np.ndarray          # (n_bodies, 2) N: the weight of each body
    # muscle paths, and index arrays of the hot path derived from them and S
    paths: Paths
    all_body: np.ndarray        # (P + n_bodies + nK,) bodies of the path points, the COMs, the cavity's ends
    all_local: np.ndarray       # (P + n_bodies + nK,) complex local positions
    # the abdominal cavity (`model.Cavity`, docs/model.md §6a); nK = 2 with one, 0 without
    cavity_body: np.ndarray     # (nK,) int: the bodies of its floor and roof
    cavity_area: float          # A (m²), 0 without a cavity
    pressure_gain: np.ndarray   # (M,) Pa per N of tension: the pressure each line adds
    seg_Sa: np.ndarray          # (n_joints, Sg) S of the body of each segment's first point
    seg_Sb: np.ndarray          # (n_joints, Sg) S of the body of its second point
    seg_dS: np.ndarray          # (n_joints, Sg) seg_Sb − seg_Sa
    cross_seg: np.ndarray       # (nX,) int: the segment of each (segment, joint it crosses) pair
    cross_joint: np.ndarray     # (nX,) int: the joint (the segment's two points lie on its two sides)
    cross_Sa: np.ndarray        # (nX,) S of the body of the segment's first point for that joint
    cross_Sb: np.ndarray        # (nX,) S of the body of its second point
    cross_slot: np.ndarray      # (nX,) int: line × n_joints + joint, the pair's entry of ∂L/∂q
    seg_dz2: np.ndarray         # (Sg,) squared lateral extent (m²)
    seg_inc: np.ndarray         # (n_bodies, Sg) [body of a = b] − [body of b = b]
    seg_inc_b: np.ndarray       # (n_bodies, Sg) [body of b = b]
    line_joints: tuple          # (M,) the joints each line crosses (its points lie on both sides)
    line_joint_index: tuple     # (lines, joints) int arrays: every (line, crossed joint) pair, line by line
    line_joint_names: tuple     # (M,) the names of the joints each line crosses (for the reports)
    # passive joint laws
    iv_joints: np.ndarray       # (n_iv,) joints with an intervertebral law
    iv_coeffs: np.ndarray       # (n_iv, 5)
    leg_joints: tuple           # ((joint index, "hip" | "knee" | "ankle", factor, partners), ...) the
                                # Riener & Edrich laws (`LegLaw.factor`); partners: (hip flexion, knee
                                # flexion, ankle plantarflexion) rad of the joint's leg in the reference
                                # posture, the neighbours' angles the law is evaluated at
    leg_terms: tuple            # the leg laws as sums of exponentials (`passive.leg_law_terms`), T terms
                                # in all: (the sum (T, n_joints) of each term into its joint, its
                                # joint (T,), w (T,) N·m, b (T,) 1/rad)
    leg_const: np.ndarray       # (n_joints,) N·m: their constant terms (0 at the other joints)
    rest_angle: np.ndarray      # (n_joints,) stress-free angles
    tissue_ref: np.ndarray      # (2, n_joints) M_ref of the tissue effort for M > 0, M < 0 (`tissues`)
    # coordinates: q = q_c + B u
    q_ref: np.ndarray           # (n_joints,) reference posture (set point of the stretch response)
    locked: tuple               # names of the joints held at their reference angles
    B: np.ndarray               # (n_joints, n_free)
    q_c: np.ndarray             # (n_joints,)
    q_low: np.ndarray           # (n_joints,) physiological range
    q_high: np.ndarray
    # support contacts (one-sided, compliant) and external loads
    contact_body: np.ndarray    # (nC,) int
    contact_local: np.ndarray   # (nC, 2)
    contact_normal: np.ndarray  # (nC, 2) outward normal of the support surface
    contact_offset: np.ndarray  # (nC,) the surface's position along the normal (support frame)
    contact_stiffness: np.ndarray  # (nC,) N/m
    contact_tangent: np.ndarray    # (nC, 2) the surface's direction: n turned by +90°
    contact_grip: np.ndarray       # (nC,) N/m: stiffness along the surface of a point that does not
                                   # slide (`ContactSpec.grip`: static friction), 0 where it slides freely
    contact_anchor: np.ndarray     # (nC,) where a gripping point is held along the surface (support frame)
    contacts: tuple             # (nC,) the `supports.ContactSpec` of each contact
    # the hands holding a knee drawn to the chest (two legs, `supports.Leg` "held"): a stiff spring
    # from the front of the knee (on the femur) to the shoulders (on the upper thorax)
    hand_body: np.ndarray       # (nH, 2) int: femur, thorax_upper
    hand_local: np.ndarray      # (nH, 2, 2) the two ends in their bodies' frames
    hand_rest: np.ndarray       # (nH,) m: its length in the reference posture
    hand_stiffness: np.ndarray  # (nH,) N/m
    hand_names: tuple           # (nH,) "hands_right", "hands_left"
    # a second foot on the floor (two legs standing, `supports.floor_feet`): the floor holds its
    # heel and forefoot where the reference posture puts them (a closed chain, solved by the
    # upright mode), pushing with floor_force: zero as prepared, found by `upright.solve_upright`
    # and set on the problem of its result
    floor_body: np.ndarray      # (nF,) int: foot, foot (heel, forefoot)
    floor_local: np.ndarray     # (nF, 2)
    floor_anchor: np.ndarray    # (nF, 2) where they are held, in the support's frame (world − shift)
    floor_force: np.ndarray     # (nF, 2) world N
    load_body: np.ndarray       # (nL,) int
    load_local: np.ndarray      # (nL, 2)
    load_force: np.ndarray      # (nL, 2) world N
    # muscles
    lines: Lines
    short_range_stiffness: float
    tolerance_Nm: float
    max_iterations: int
    # a batch of problems (`batch.stack`): the fields (``name``, or ``name.k`` for item k of a
    # tuple) that carry the batch's leading dimension; () for one problem
    batch_fields: tuple = ()

    @property
    def n_free(self) -> int:
        return self.B.shape[1]


def _crossings(S: np.ndarray, ba: np.ndarray, bb: np.ndarray, seg_line: np.ndarray) -> dict:
    """The (segment, joint) pairs where joint j lies between a segment's two points (S of their
    bodies differ), segment by segment: the only joints whose rotation changes its length."""
    seg, joint = np.nonzero((S[bb] - S[ba]) != 0)
    return dict(cross_seg=seg, cross_joint=joint, cross_Sa=S[ba[seg], joint], cross_Sb=S[bb[seg], joint],
                cross_slot=seg_line[seg] * S.shape[1] + joint)


def side_groups(model: Model) -> tuple[str, ...]:
    """The names of the muscle groups of one side (``psoas_left``, ...) of a two-legged model:
    each group with lines on a side ((), with the legs lumped)."""
    return tuple(f"{g}_{side}" for side in model.sides for g in MUSCLE_GROUPS
                 if len(model.group_lines(f"{g}_{side}")))


def resolve_settings(model: Model, settings: dict) -> dict[int, tuple[str, MuscleSetting]]:
    """Map group/line settings to lines: {line index: (name it was set by, setting)}; a line
    named explicitly overrides its side's group (two legs: ``psoas_left``), which overrides its
    group."""
    out: dict[int, tuple[str, MuscleSetting]] = {}
    sided = side_groups(model)
    names = set(model.muscle_names) | set(MUSCLE_GROUPS) | set(sided)
    for name, setting in settings.items():
        if name not in names:
            raise ModelError(f"unknown muscle group or line {name!r}" + suggest(name, names)
                             + f"; groups: {', '.join(MUSCLE_GROUPS + sided)}")
        if not isinstance(setting, MuscleSetting):
            raise ModelError(f"setting of {name!r} must be a MuscleSetting, got {type(setting).__name__}")
    for groups in (MUSCLE_GROUPS, sided):        # groups first, then one side's groups
        for name, setting in settings.items():
            if name in groups:
                for i in model.group_lines(name):
                    out[int(i)] = (name, setting)
    for name, setting in settings.items():       # then lines
        if name in model.muscle_names:
            out[model.muscle_names.index(name)] = (name, setting)
    return out


def tone_floor(model: Model) -> np.ndarray:
    """The EMG floor of every line's relaxed-standing tone (M,): `muscles.DEFAULT_TONE` of its
    group times the subject's `tone_scale`."""
    return np.array([DEFAULT_TONE[g] for g in model.muscle_group]) * model.subject.tone_scale


def prepare(model: Model, *, support: Support | None = None, settings: dict | None = None,
            loads: tuple = (), short_range_stiffness: float = DEFAULT_SHORT_RANGE_STIFFNESS,
            baseline_activation: np.ndarray | None = None, locked_joints: tuple | None = None,
            abdominal_pressure_kPa: float | None = None, tolerance_Nm: float = 1e-6,
            max_iterations: int = 100) -> Problem:
    """Fix a model, a support, muscle settings and loads into a `Problem` (validates all).

    Parameters
    ----------
    model : a model with its baseline tone (`tone.fit_tone`, or `make_model`), unless
        ``baseline_activation`` is given.
    support : `Support` (default standing).
    settings : {group or line name: `MuscleSetting`}.
    loads : `Load` objects.
    short_range_stiffness : the muscle stiffness gain q (0-100, docs/model.md §6).
    baseline_activation : (M,) activation of every line the settings do not set (0-1); default
        the model's fitted tone.
    locked_joints : names of the joints held at their reference angles (not free coordinates);
        default `supports.held_joints` (the ankles and knees: the equilibrium and inverse
        modes); ``()`` frees every joint (the upright mode: the person stands, sits or lies on
        the supports alone).
    abdominal_pressure_kPa : a prescribed intra-abdominal pressure (kPa, 0-30), held by the
        hoop of the cavity's wall (the transversus abdominis): its lines get the fixed tension
        2 r h P (docs/model.md §6a). Default: the pressure follows from their tension.
    tolerance_Nm : the solver's convergence tolerance on the largest residual (N·m).
    max_iterations : the solver's iteration limit.
    """
    support = support or Support()
    if not isinstance(support, Support):
        raise ModelError(f"support must be a biomech.Support, got {type(support).__name__}")
    settings = dict(settings or {})
    if not (isinstance(short_range_stiffness, (int, float)) and 0 <= short_range_stiffness <= 100):
        raise ModelError(f"short_range_stiffness must be within 0-100, got {short_range_stiffness!r}")
    if not (isinstance(tolerance_Nm, (int, float)) and 1e-12 <= tolerance_Nm <= 1.0):
        raise ModelError(f"tolerance_Nm must be within 1e-12-1, got {tolerance_Nm!r}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
        raise ModelError(f"max_iterations must be a whole number >= 1, got {max_iterations!r}")
    for ld in loads:
        if not isinstance(ld, Load):
            raise ModelError(f"loads must be biomech.Load objects, got {type(ld).__name__}")
    if baseline_activation is None:
        if not model.is_calibrated:
            raise ModelError("this model has no baseline muscle tone: build_model compiles the "
                             "anatomy only; fit the relaxed-standing tone with biomech.fit_tone(model) "
                             "(or build with biomech.make_model)")
        baseline_activation = model.baseline_activation
    act = np.array(baseline_activation, float)
    if act.shape != (model.n_muscles,) or not np.all((act >= 0) & (act <= 1)):
        raise ModelError(f"baseline_activation must be {model.n_muscles} activations within 0-1")
    if support.two_legs and not model.sides:
        raise ModelError("support: a leg's own position (right_leg, left_leg) needs a model with two "
                         "legs (biomech.two_legs(model))")
    if model.sides and not (support.kind == "standing" or (support.kind == "lying" and support.lying_on == "back")):
        raise ModelError(f"support: a model with two legs stands or lies on its back in this version "
                         f"(kind 'standing', or 'lying' with lying_on 'back'), got {support.kind!r}"
                         + (f" on the {support.lying_on}" if support.kind == "lying" else "")
                         + "; sitting and lying prone or on the side on two legs are not built yet: use "
                         "the model with the legs lumped")
    locked = held_joints(support, model.leg_suffixes) if locked_joints is None else tuple(locked_joints)
    locked = tuple(dict.fromkeys(locked + support_held_joints(support, model.leg_suffixes)))
    for j in locked:
        model.joint_index(j)                         # ModelError with a suggestion if unknown
    settings = _with_pressure(model, settings, abdominal_pressure_kPa)
    base = _support_arrays(Anatomy(model), support, tuple(loads), tuple(sorted(set(locked), key=model.joints.index)))
    base = base | {"rest_angle": np.asarray(model.rest_angle, float)}
    m = model

    # muscle settings
    n = m.n_muscles
    fixed = np.zeros(n, bool)
    tension = np.zeros(n)
    lopt = np.array(m.optimal_fiber_length, float)
    fmax = np.asarray(m.max_isometric_force)
    group_fmax: dict = {}                              # summed F_max of a group, per group
    for i, (name, s) in resolve_settings(m, settings).items():
        if s.tension_N is not None:
            fixed[i] = True
            if name not in m.muscle_names:               # a group: shared by F_max
                if name not in group_fmax:
                    group_fmax[name] = fmax[m.group_lines(name)].sum()
                tension[i] = s.tension_N * fmax[i] / group_fmax[name]
            else:
                tension[i] = s.tension_N
            act[i] = 0.0
        elif s.activation is not None:
            act[i] = s.activation
        else:
            # adaptive shortening/lengthening is a change in the number of sarcomeres in
            # series: the optimal fibre length changes, the tendon does not
            lopt[i] *= s.resting_length_scale
    fields = {k: v for k, v in base.items() if k != "L_ref"}
    lines = make_lines(m, lopt=lopt, lts=np.array(m.tendon_slack_length, float), fixed_tension=fixed,
                       tension=tension, activation=act, excess_passive=np.asarray(m.excess_passive, bool),
                       L_ref=base["L_ref"], short_range_stiffness=float(short_range_stiffness))
    return Problem(model=m, support=support, settings=settings, loads=tuple(loads), lines=lines,
                   short_range_stiffness=float(short_range_stiffness), tolerance_Nm=float(tolerance_Nm),
                   max_iterations=int(max_iterations), **fields)


def _with_pressure(model: Model, settings: dict, pressure_kPa) -> dict:
    """The settings with a prescribed cavity pressure turned into the fixed hoop tension of the
    lines that wrap the cavity, T = P / (dP/dT) shared by F_max (docs/model.md §6a)."""
    if pressure_kPa is None:
        return settings
    cav = model.cavity
    if cav is None:
        raise ModelError("abdominal_pressure_kPa: this model has no abdominal cavity")
    limits.check("prepare", "abdomen.pressure_kPa", pressure_kPa)
    for g in cav.pressure_groups:
        clash = [n for n in settings if n == g or n in {model.muscle_names[i] for i in model.group_lines(g)}]
        if clash:
            raise ModelError(f"abdominal_pressure_kPa sets the tension of {g}; do not also set "
                             f"{clash[0]!r} (set one or the other)")
    tension = float(pressure_kPa) * 1e3 / cav.pressure_per_tension
    groups = [g for g in cav.pressure_groups if len(model.group_lines(g))]
    fmax = np.asarray(model.max_isometric_force)
    total = sum(fmax[model.group_lines(g)].sum() for g in groups)
    return settings | {g: MuscleSetting(tension_N=tension * fmax[model.group_lines(g)].sum() / total)
                       for g in groups}


class Anatomy:
    """A model as the key of `_support_arrays`: equal for models that share every field but their
    tone (`Model.baseline_activation`) and the stress-free angles of their passive laws
    (`Model.rest_angle`), the two fields `tone.fit_tone` changes, by identity (models are
    immutable and `model.replace` passes the unchanged fields on as they are). A model and its
    fitted copy so share the arrays, computed once (a population study builds, fits and solves
    a new model per subject: 1.5 ms per subject saved)."""

    __slots__ = ("model", "_key", "_hash")

    def __init__(self, model: Model):
        self.model = model
        self._key = tuple(getattr(model, f.name) for f in dataclasses.fields(model)
                          if f.name not in ("rest_angle", "baseline_activation"))
        self._hash = hash(tuple(map(id, self._key)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return isinstance(other, Anatomy) and all(a is b for a, b in zip(self._key, other._key))


@functools.lru_cache(maxsize=32)
def _support_arrays(anatomy: Anatomy, support: Support, loads: tuple, locked: tuple) -> dict:
    """The arrays of a problem that depend on the model's anatomy (`Anatomy`), the support, the
    loads and the locked joints only (not on the muscle settings, the tone or the stress-free
    angles), computed once for each distinct combination and shared, read-only, by the problems
    prepared with them (a sweep over muscle settings prepares one problem per point)."""
    m = anatomy.model
    nb, nj = m.n_bodies, m.n_joints
    root, root_angle, q_ref = reference_posture(m, support)
    gravity = support.gravity
    hip = m.joint_index("hip" + m.leg_suffixes[0])          # the (right) hip: the world origin
    paths = resolve_paths(m, q_ref)

    # kinematics of this root
    inferior = np.asarray(m.joint_inferior, int)
    superior = np.asarray(m.joint_superior, int)
    S = kin.path_signs(inferior, superior, nb, root)
    joint_a, joint_c = kin.as_complex(m.joint_in_inferior), kin.as_complex(m.joint_in_superior)
    offset = np.asarray(m.joint_offset, float)
    mass = np.array(m.mass, float)
    com_local = np.array(m.com, float)
    weight = mass[:, None] * gravity[None, :]
    cav = m.cavity
    cavity_body = np.array([cav.floor_body, cav.roof_body] if cav else [], int)
    cavity_local = np.array([cav.floor_point, cav.roof_point] if cav else [], float).reshape(-1, 2)

    # coordinates: the locked joints stay at their reference angles, q = q_c + B u
    free = [j for j in range(nj) if m.joints[j] not in locked]
    B = np.zeros((nj, len(free)))
    B[free, np.arange(len(free))] = 1.0
    q_c = np.where(B.any(1), 0.0, q_ref)
    q_low = np.asarray(m.joint_range, float)[:, 0].copy()
    q_high = np.asarray(m.joint_range, float)[:, 1].copy()

    # passive laws, grouped by kind for vectorised evaluation
    iv = [j for j, law in enumerate(m.passive) if isinstance(law, IntervertebralLaw)]
    legs = tuple((j, law.joint, law.factor, leg_partners(m, q_ref, m.joints[j]))
                 for j, law in enumerate(m.passive) if isinstance(law, LegLaw))
    unknown = [m.joints[j] for j, law in enumerate(m.passive) if j not in iv and j not in [k[0] for k in legs]]
    if unknown:
        raise ModelError(f"no passive law that the solver knows for joint(s) {', '.join(unknown)}")

    # path points and segments on the bodies of this problem
    pb = paths.body
    ba, bb = pb[paths.seg_a], pb[paths.seg_b]
    n_seg = len(ba)
    seg_inc_b = np.zeros((nb, n_seg))
    seg_inc_b[bb, np.arange(n_seg)] = 1.0
    seg_inc = -seg_inc_b
    seg_inc[ba, np.arange(n_seg)] += 1.0
    dz = paths.z[paths.seg_b] - paths.z[paths.seg_a]

    # the reference posture: contacts touch there, loads are given there, and it is the set point
    # of the muscles' stretch response
    ang, _, org_c, cen_c = kin.poses(S, inferior, superior, joint_a, joint_c, q_ref + offset, root_angle)
    shift = -cen_c[hip]
    org = kin.as_real(org_c + shift)

    def support_point(name):          # a landmark in the support's frame (before the hip shift)
        b, loc = m.landmarks[name]
        return kin.points_world(ang, org, np.array([b]), np.asarray(loc)[None])[0] - kin.as_real(np.array([shift]))[0]
    specs = contact_specs(support, m.leg_suffixes)
    c_body = np.array([m.landmarks[c.landmark][0] for c in specs], int)
    c_local = np.array([m.landmarks[c.landmark][1] for c in specs], float).reshape(-1, 2)
    c_normal = np.array([c.normal for c in specs], float).reshape(-1, 2)
    along = np.array([support_point(c.landmark) @ n for c, n in zip(specs, c_normal)])
    patch = root_patch(support, support.root_leg(m.leg_suffixes))
    c_stiffness = float(support.contact_stiffness_N_per_m) * np.array([c.share for c in specs], float)
    c_offset = np.array([support_point(patch.a) @ n if c.surface == "root" else
                         min(a for a, d in zip(along, specs) if d.surface == c.surface)
                         for c, n in zip(specs, c_normal)]) + CONTACT_PRELOAD_M
    lb, ll, lf = [], [], []
    for ld in loads:
        b = m.body_index(ld.body)
        lb.append(b)
        ll.append(kin.rotation(ang[b]).T @ (np.asarray(ld.point_m, float) - org[b]))
        lf.append(np.asarray(ld.force_N, float) if ld.force_N is not None else ld.mass_kg * gravity)
    L_ref, _ = path_lengths(paths, kin.points_world(ang, org, paths.body, paths.local))
    crossed = _crossed_joints(S, paths)
    out = dict(
        root=root, root_angle=float(root_angle), patch=patch, S=S, S_inferior=S[inferior], inferior=inferior,
        superior=superior, joint_a=joint_a, joint_c=joint_c, joint_offset=offset, origin_joint=hip,
        gravity=gravity, mass=mass, com_local=com_local, weight=weight,
        paths=paths, all_body=np.concatenate((pb, np.arange(nb), cavity_body)),
        all_local=kin.as_complex(np.concatenate((paths.local.reshape(-1, 2), com_local, cavity_local))),
        cavity_body=cavity_body, cavity_area=float(cav.area_m2) if cav else 0.0,
        pressure_gain=np.asarray(m.pressure_gain),
        seg_Sa=S.T.take(ba, 1), seg_Sb=S.T.take(bb, 1), seg_dS=S.T.take(bb, 1) - S.T.take(ba, 1),
        **_crossings(S, ba, bb, paths.seg_line),
        seg_dz2=dz * dz, seg_inc=seg_inc, seg_inc_b=seg_inc_b, line_joints=crossed,
        line_joint_index=(np.repeat(np.arange(len(crossed)), [len(c) for c in crossed]),
                          np.array([j for c in crossed for j in c], int)),
        line_joint_names=tuple(tuple(map(m.joints.__getitem__, c)) for c in crossed),
        iv_joints=np.array(iv, int), iv_coeffs=np.array([m.passive[j].coefficients() for j in iv]).reshape(-1, 5),
        leg_joints=legs, **_leg_terms(nj, legs),
        tissue_ref=reference_moments(m),
        q_ref=q_ref, locked=locked, B=B, q_c=q_c, q_low=q_low, q_high=q_high,
        contact_body=c_body, contact_local=c_local, contact_normal=c_normal, contact_offset=c_offset,
        contact_stiffness=c_stiffness, contact_tangent=np.stack([-c_normal[:, 1], c_normal[:, 0]], -1),
        contact_grip=c_stiffness * np.array([c.grip for c in specs], float),
        contact_anchor=np.array([support_point(c.landmark) @ (-n[1], n[0]) for c, n in zip(specs, c_normal)]),
        contacts=specs, **_hand_arrays(m, support, ang, org), **_floor_arrays(m, support, ang, org, kin.as_real(np.array([shift]))[0]),
        load_body=np.array(lb, int), load_local=np.array(ll, float).reshape(-1, 2),
        load_force=np.array(lf, float).reshape(-1, 2), L_ref=L_ref)
    for v in list(out.values()) + list(vars(paths).values()):
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return out


def _leg_terms(n_joints: int, legs: tuple) -> dict:
    """The `Problem` fields of the leg laws (``legs``: `Problem.leg_joints`) as sums of
    exponentials of their joints' coordinates, for one vectorised evaluation
    (`statics.passive_moments`)."""
    terms = [(j,) + leg_law_terms(kind, *partners, factor) for j, kind, factor, partners in legs]
    joint = np.array([j for j, w, _, _ in terms for _ in w], int)
    total = np.zeros((len(joint), n_joints))
    total[np.arange(len(joint)), joint] = 1.0
    const = np.zeros(n_joints)
    for j, _, _, c in terms:
        const[j] = c
    return dict(leg_terms=(total, joint, np.concatenate([w for _, w, _, _ in terms] or [np.zeros(0)]),
                           np.concatenate([b for _, _, b, _ in terms] or [np.zeros(0)])),
                leg_const=const)


def _floor_arrays(model: Model, support: Support, ang: np.ndarray, org: np.ndarray, shift: np.ndarray) -> dict:
    """The `Problem` fields of a second foot on the floor (`supports.floor_feet`): its heel and
    forefoot, held at their places in the reference posture (in the support's frame: world −
    ``shift``, the hip's move to the origin), with no force yet."""
    names = [n + sfx for sfx in floor_feet(support, model.leg_suffixes) for n in FOOT_POINTS]
    body = np.array([model.landmarks[n][0] for n in names], int)
    local = np.array([model.landmarks[n][1] for n in names], float).reshape(-1, 2)
    return dict(floor_body=body, floor_local=local, floor_anchor=kin.points_world(ang, org, body, local) - shift,
                floor_force=np.zeros((len(names), 2)))


def _hand_arrays(model: Model, support: Support, ang: np.ndarray, org: np.ndarray) -> dict:
    """The `Problem` fields of the hands that hold a knee drawn to the chest (`supports.held_legs`),
    from the reference posture's body angles and origins: each spring's rest length is the knee's
    distance from the shoulders there; its stiffness the support's contact stiffness."""
    held = held_legs(support, model.leg_suffixes)
    ends = [[model.landmarks["knee_front" + sfx], model.landmarks["shoulder"]] for sfx, _ in held]
    body = np.array([[b for b, _ in e] for e in ends], int).reshape(-1, 2)
    local = np.array([[pt for _, pt in e] for e in ends], float).reshape(-1, 2, 2)
    world = kin.points_world(ang, org, body.ravel(), local.reshape(-1, 2)).reshape(-1, 2, 2)
    rest = np.linalg.norm(world[:, 1] - world[:, 0], axis=1)
    return dict(hand_body=body, hand_local=local, hand_rest=rest,
                hand_stiffness=np.full(len(held), float(support.contact_stiffness_N_per_m)),
                hand_names=tuple(f"hands_{side}" for _, side in held))


def leg_partners(model: Model, q: np.ndarray, joint: str) -> tuple[float, float, float]:
    """(hip flexion, knee flexion, ankle plantarflexion) (rad) at joint angles q of the leg of a
    leg joint (``hip``, ``knee_left``, ...): the angles its Riener & Edrich law depends on."""
    suffix = joint[len(joint.split("_")[0]):]
    hip, knee, ankle = (model.joint_index(j + suffix) for j in ("hip", "knee", "ankle"))
    return float(-q[hip]), float(q[knee]), float(q[ankle])


def _crossed_joints(S: np.ndarray, paths: Paths) -> tuple:
    """The joints each line crosses: those with some of its points on the far side from the
    root (S ≠ 0) and some not (a tuple of tuples of joint indices, one per line)."""
    far = S[paths.body] != 0.0                                    # (P, n_joints)
    starts = paths.line_ptr[:-1]
    crosses = np.logical_or.reduceat(far, starts, axis=0) & ~np.logical_and.reduceat(far, starts, axis=0)
    lines, joints = np.nonzero(crosses)                           # row by row, in order
    ends = np.searchsorted(lines, np.arange(len(crosses) + 1)).tolist()
    joints = joints.tolist()
    return tuple(tuple(joints[a:b]) for a, b in zip(ends[:-1], ends[1:]))
