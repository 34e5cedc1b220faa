"""How the body is supported, what loads it, and the reference posture of a support.

`Support` and `Load` are the Python API's inputs (docs/model.md §7); `reference_posture` gives
the root body the support holds and the joint angles of its reference posture (the set point of
the muscles' stretch response); `contact_specs` the one-sided contacts of a support.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import numpy as np

from . import kinematics as kin
from . import limits
from .errors import ModelError
from .names import SUPPORTS
from .units import RAD_PER_DEG, STANDARD_GRAVITY

#: Compressive (tangent) stiffness of the loaded soft tissue between a bony prominence and a seat
#: or table, both sides together (N/m). The secant stiffness under one ischial tuberosity is
#: ≈ 5-6 N/mm (D: ~18 % of body weight per tuberosity, Drummond DS et al. (1982) J Bone Joint
#: Surg Am 64:1034-1039 (R), over the 20-25 mm thinning of the tissue in sitting, PMC10267746
#: Table 4 (V, a finite-element study of buttock tissue; authors not identified)); the tissue
#: stiffens strongly with compression (Linder-Ganz et al. 2007, V: 46-74 % strains,
#: docs/references.md),
#: so the tangent stiffness of the loaded tissue is taken ~10× the secant: 50 N/mm per side.
DEFAULT_CONTACT_STIFFNESS_N_PER_M = 1.0e5

LEGS = ("supported", "lifted")
#: How a lying body rests on the table: on its back (supine), on its front (prone) or on its
#: side (gravity then acts across the sagittal plane), docs/model.md §7.
LYING_ON = ("back", "front", "side")

#: Penetration (m) over which a contact's force rises smoothly from zero to the linear law
#: (`contact_law`): a regularisation of the one-sided contact, small against the ≈ 7 mm a
#: body weight compresses the default contact stiffness.
CONTACT_SMOOTHING_M = 1e-3


def contact_law(pen: np.ndarray, k: np.ndarray):
    """Normal force (N) of compliant one-sided contacts at penetrations ``pen`` (m), and its
    slope dF/dpen (N/m): 0 for pen ≤ 0, k pen² / (2δ) for 0 < pen < δ, k (pen − δ/2) beyond,
    δ = `CONTACT_SMOOTHING_M` (continuous with its slope, the potential k·∫F exists)."""
    d = CONTACT_SMOOTHING_M
    p = np.maximum(pen, 0.0)
    force = k * np.where(p < d, 0.5 * p * p / d, p - 0.5 * d)
    slope = k * np.minimum(p / d, 1.0)
    return force, slope



def suggest(name, allowed) -> str:
    """' (did you mean 'x'?)' for the nearest of ``allowed``, or ''."""
    close = difflib.get_close_matches(str(name), list(allowed), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_choice(owner: str, value, allowed) -> None:
    """`ModelError` "<owner> must be one of ..., got ... (did you mean ...?)" unless ``value`` is
    one of ``allowed``."""
    if value not in allowed:
        raise ModelError(f"{owner} must be one of {', '.join(allowed)}, got {value!r}" + suggest(value, allowed))


def held_joints(support: "Support", suffixes: tuple = ("",)) -> tuple[str, ...]:
    """The joints the equilibrium mode holds at their reference angles (`prepare`'s default
    ``locked_joints``): the ankles and knees (of each leg: name suffixes ``suffixes``), so that
    the thighs keep the support's inclination.
    This is the equilibrium mode's experiment, the pull of one muscle with everything else held
    (docs/model.md §7), and the inverse mode's (the measured posture is the spine's and the
    pelvis's); the upright mode frees every joint: the person stands, sits and lies on the
    supports alone. Sitting with the knees held, the seat holds the legs: there is no balance on
    the feet to check (`balance.balance_checked`)."""
    return tuple(j + sfx for sfx in suffixes for j in ("ankle", "knee"))


def support_held_joints(support: "Support", suffixes: tuple = ("",)) -> tuple[str, ...]:
    """The joints a support holds in every mode: the knee of a leg drawn to the chest (`Leg`
    "held": the hands keep it bent)."""
    return tuple("knee" + sfx for sfx, _ in held_legs(support, suffixes))


#: Where one leg of a two-legged model is, by the support's kind (docs/model.md §7): lying on
#: the back, or standing (and kneeling) on the floor.
LEG_POSITIONS_BY_KIND = {"lying": ("table", "lifted", "bent", "hanging", "held"),
                         "standing": ("floor", "kneeling", "lifted")}
LEG_POSITIONS = tuple(dict.fromkeys(p for ps in LEG_POSITIONS_BY_KIND.values() for p in ps))


@dataclass(frozen=True)
class Leg:
    """The position of one leg of a two-legged model (docs/model.md §7), lying on its back or
    standing.

    Parameters
    ----------
    position : lying on the back: "table" (the leg lies on the table: thigh, calf and heel on
        it), "lifted" (no table under it: its weight hangs on the hip), "bent" (the knee bent,
        the foot flat on the table: heel and forefoot on it), "hanging" (over the end of the
        table, the Thomas-test leg: no table under the thigh) or "held" (drawn towards the chest
        by the hands: they pull the front of the knee towards the shoulders and keep the knee at
        its angle). Standing: "floor" (the foot flat on the floor), "kneeling" (the knee and the
        instep on the floor) or "lifted" (off the floor: standing on the other leg); a foot at
        least stands on the floor (both: a closed chain, the default mode only).
    hip_flexion_deg : the hip flexion of the reference posture. Lying: lifted, hanging, held
        (default: lifted, the support's thigh inclination, as the lumped legs; hanging 0; held
        120); table and bent: found, the leg laid on the table, but a bent leg's given hip
        flexion lifts the pelvis until the hip has it (a bridge, kept in the upright mode).
        Standing: on the floor, the support's thigh inclination (a second foot's: found where
        it reaches the floor); kneeling and lifted 0; a given one is kept in the upright mode
        (the person holds the lunge, the stride).
    knee_flexion_deg : the knee flexion of the reference posture. Defaults: lying, table and
        lifted 0 (lifted: the support's), bent and hanging 90, held 120; standing, on the floor
        the support's (found if only the hip is given: the kneeling knee reaches the floor),
        lifted 90; kneeling: found, the knee and the instep on the floor (not to be given).
    """

    position: str = "table"
    hip_flexion_deg: float | None = None
    knee_flexion_deg: float | None = None

    def __post_init__(self):
        check_choice("Leg.position", self.position, LEG_POSITIONS)
        if self.hip_flexion_deg is not None:
            if self.position == "table":
                raise ModelError(f"Leg.hip_flexion_deg: a leg on the table ({self.position!r}) takes the hip "
                                 "flexion that lays it there; give it for a lifted, hanging or held leg")
            limits.check("Leg", "leg.hip_flexion_deg", self.hip_flexion_deg)
        if self.knee_flexion_deg is not None:
            if self.position == "kneeling":
                raise ModelError("Leg.knee_flexion_deg: a kneeling leg takes the knee flexion that lays its "
                                 "knee and its instep on the floor; give its hip_flexion_deg")
            limits.check("Leg", "leg.knee_flexion_deg", self.knee_flexion_deg)

    @property
    def knee_deg(self) -> float | None:
        """The reference knee flexion (deg), None: the support's (or, standing, found)."""
        if self.knee_flexion_deg is not None:
            return float(self.knee_flexion_deg)
        return {"bent": 90.0, "hanging": 90.0, "held": 120.0}.get(self.position)

    @property
    def hip_deg(self) -> float | None:
        """The reference hip flexion (deg), None: found (table, bent) or the support's (lifted)."""
        if self.hip_flexion_deg is not None:
            return float(self.hip_flexion_deg)
        return {"hanging": 0.0, "held": 120.0, "kneeling": 0.0}.get(self.position)


@dataclass(frozen=True)
class Support:
    """How the body is supported (docs/model.md §7).

    Parameters
    ----------
    kind : "standing" (the feet flat on the floor), "sitting" (the thighs on a seat, the ischia
        on it, the feet on the floor) or "lying" (supine on a table).
    thigh_inclination_deg : thigh axis against the body's vertical (the world y axis), + = knee
        forward (anterior), in the reference posture. Defaults: standing 0, sitting 90, lying 0.
        Where the knees and ankles are held (equilibrium mode), the thigh keeps it.
    knee_flexion_deg : 0-150, in the reference posture; defaults: standing 0, sitting 90, lying 0.
    legs : lying on the back only: "supported" (the legs rest on the table) or "lifted" (no
        table under them: their weight hangs on the hip muscles).
    lying_on : lying only: "back" (supine, the default), "front" (prone: the table in front,
        under the chest, the pelvis and the legs, gravity along +x) or "side": gravity is then
        perpendicular to the sagittal plane and the table's push on the side is too, so no
        sagittal force of gravity or of the table acts (friction neglected); the body keeps the
        standing reference shape, the legs straight.
    backrest_inclination_deg : sitting only: a backrest behind the thorax, inclined this far back
        from the vertical (0-45°), touching the back of the middle thorax in the reference posture;
        None (default): no backrest.
    contact_stiffness_N_per_m : seat, backrest or table soft-tissue stiffness.
    right_leg, left_leg : lying on the back or standing, a model with two legs
        (`legs.two_legs`): where each leg is (`Leg`, its positions for the kind:
        `LEG_POSITIONS_BY_KIND`); a leg not given lies as ``legs`` says (on the table or lifted)
        or stands on the floor. Either makes the support one for two legs (`two_legs`).
    """

    kind: str = "standing"
    thigh_inclination_deg: float | None = None
    knee_flexion_deg: float | None = None
    legs: str = "supported"
    lying_on: str = "back"
    backrest_inclination_deg: float | None = None
    contact_stiffness_N_per_m: float = DEFAULT_CONTACT_STIFFNESS_N_PER_M
    right_leg: Leg | None = None
    left_leg: Leg | None = None

    def __post_init__(self):
        check_choice("Support.kind", self.kind, SUPPORTS)
        if self.legs not in LEGS:
            raise ModelError(f"Support.legs must be 'supported' or 'lifted', got {self.legs!r}")
        if self.legs == "lifted" and self.kind != "lying":
            raise ModelError("Support.legs = 'lifted' applies to lying only")
        if self.lying_on not in LYING_ON:
            raise ModelError(f"Support.lying_on must be 'back', 'front' or 'side', got {self.lying_on!r}"
                             + suggest(self.lying_on, LYING_ON))
        if self.lying_on != "back" and self.kind != "lying":
            raise ModelError(f"Support.lying_on = {self.lying_on!r} applies to lying only")
        if self.lying_on != "back" and self.legs == "lifted":
            raise ModelError("Support.legs = 'lifted' applies to lying on the back only")
        if self.backrest_inclination_deg is not None and self.kind != "sitting":
            raise ModelError("Support.backrest_inclination_deg applies to sitting only")
        for name in ("thigh_inclination_deg", "knee_flexion_deg", "backrest_inclination_deg"):
            if getattr(self, name) is not None:
                limits.check("Support", f"support.{name}", getattr(self, name))
        limits.check("Support", "support.contact_stiffness_N_per_m", self.contact_stiffness_N_per_m)
        for side in ("right", "left"):
            leg = getattr(self, f"{side}_leg")
            if leg is None:
                continue
            if not isinstance(leg, Leg):
                raise ModelError(f"Support.{side}_leg must be a biomech.Leg, got {type(leg).__name__}")
            kind = self.kind if self.lying_on == "back" else None
            if kind not in LEG_POSITIONS_BY_KIND:
                raise ModelError(f"Support.{side}_leg applies to lying on the back and to standing only "
                                 f"(a leg's own position on the table or the floor), not to {self.kind}"
                                 + (f" on the {self.lying_on}" if self.kind == "lying" else ""))
            allowed = LEG_POSITIONS_BY_KIND[kind]
            if leg.position not in allowed:
                raise ModelError(f"Support.{side}_leg: a leg {'lying' if kind == 'lying' else kind} is "
                                 f"{', '.join(allowed)}, got {leg.position!r}" + suggest(leg.position, allowed))
        if self.bridge and not all(self.leg(s).position in ("bent", "lifted") for s in ("right", "left")):
            raise ModelError("Support: a bridge (a bent leg with a hip flexion of its own lifts the pelvis) "
                             "takes the other leg bent on the table or lifted, not "
                             + ", ".join(repr(self.leg(s).position) for s in ("right", "left")
                                         if self.leg(s).position not in ("bent", "lifted")))
        if self.kind == "standing" and self.two_legs and all(self.leg(s).position != "floor" for s in ("right", "left")):
            raise ModelError("Support: standing on two legs needs a foot on the floor (a leg \"floor\"): "
                             "kneeling on both knees is not built in this version")

    @property
    def two_legs(self) -> bool:
        """True when the support places each leg (`right_leg`, `left_leg`): it needs a model with
        two legs (`legs.two_legs`)."""
        return self.right_leg is not None or self.left_leg is not None

    def leg(self, side: str) -> Leg:
        """The position of one leg ("right" or "left"): its own, or lying that of the support's
        ``legs`` (on the table, or lifted), standing on the floor. Standing, a lifted leg's
        defaults are filled in (hip 0, knee 90°: the foot lifted behind)."""
        own = getattr(self, f"{side}_leg")
        if self.kind == "standing":
            own = own if own is not None else Leg("floor")
            if own.position == "lifted":
                own = Leg("lifted", own.hip_flexion_deg if own.hip_flexion_deg is not None else 0.0,
                          own.knee_flexion_deg if own.knee_flexion_deg is not None else 90.0)
            return own
        return own if own is not None else Leg("table" if self.legs == "supported" else "lifted")

    @property
    def bridge(self) -> bool:
        """Lying on the back with a bent leg at a hip flexion of its own: the pelvis lifted off the
        table until that hip has it, the upper back on the table (docs/model.md §7)."""
        return self.kind == "lying" and any(
            self.leg(side).position == "bent" and self.leg(side).hip_flexion_deg is not None for side in ("right", "left"))

    def root_leg(self, suffixes: tuple) -> str:
        """The name suffix of the leg whose foot the support holds (the root: `reference_posture`):
        the first leg's ("" for the lumped legs), standing on two legs the first on the floor."""
        if self.kind == "standing" and suffixes != ("",):
            return next(sfx for sfx, side in zip(suffixes, ("right", "left")) if self.leg(side).position == "floor")
        return suffixes[0]

    @property
    def thigh_deg(self) -> float:
        if self.thigh_inclination_deg is not None:
            return float(self.thigh_inclination_deg)
        return {"standing": 0.0, "sitting": 90.0, "lying": 0.0}[self.kind]

    @property
    def knee_deg(self) -> float:
        if self.knee_flexion_deg is not None:
            return float(self.knee_flexion_deg)
        return {"standing": 0.0, "sitting": 90.0, "lying": 0.0}[self.kind]

    @property
    def side_lying(self) -> bool:
        """Lying on the side: no sagittal gravity and no sagittal table force."""
        return self.kind == "lying" and self.lying_on == "side"

    @property
    def gravity(self) -> np.ndarray:
        """(2,) m/s² in the world frame: down the y axis, or lying (the table is the world y axis)
        along −x on the back, along +x on the front; zero in the plane lying on the side."""
        if self.side_lying:
            return np.zeros(2)
        if self.kind == "lying" and self.lying_on == "front":
            return np.array([STANDARD_GRAVITY, 0.0])
        if self.kind == "lying":
            return np.array([-STANDARD_GRAVITY, 0.0])
        return np.array([0.0, -STANDARD_GRAVITY])


@dataclass(frozen=True)
class Load:
    """An external load attached to a body.

    Parameters
    ----------
    body : body name.
    point_m : (x, y) where the load acts, in world coordinates of the model's reference posture
        for this support (it then moves with the body).
    force_N : (Fx, Fy) world force, or
    mass_kg : a mass whose weight (in the support's gravity) acts at the point.
    """

    body: str
    point_m: tuple[float, float]
    force_N: tuple[float, float] | None = None
    mass_kg: float | None = None

    def __post_init__(self):
        if not isinstance(self.body, str) or not self.body:
            raise ModelError(f"Load.body must be a body name, got {self.body!r}")
        if (self.force_N is None) == (self.mass_kg is None):
            raise ModelError("a Load needs exactly one of force_N and mass_kg")
        for name in ("point_m", "force_N", "mass_kg"):
            if getattr(self, name) is not None:
                limits.check("Load", f"loads.{name}", getattr(self, name))


def reference_posture(model, support: Support) -> tuple[int, float, np.ndarray]:
    """Root body, its angle (rad) and the reference joint angles q_ref (n_joints,) of a support.

    The femur has the support's thigh inclination, the knee its flexion, the foot is flat, the
    pelvis has the orientation of the calibrated relaxed posture and the spine its reference
    angles (docs/calibration.md). The root, the body the support holds: standing and sitting,
    the foot, flat on the floor (`balance`: the floor pushes on its heel and forefoot only);
    lying, the middle thorax, on the table (the world y axis along it), the body in its standing
    shape, lying on the back with the legs laid down on the table at the hip, on the front (prone)
    and on the side with the legs as in standing. With two legs lying on the back, each leg lies
    as its `Leg` says (`_place_leg`); standing on two legs, the root is the foot of the first leg
    on the floor, and the chain through the floor is closed (`_stand_legs`).
    """
    first = model.leg_suffixes[0]
    knee_pt = model.landmarks["knee" + first][1]
    beta0 = math.atan2(knee_pt[0], -knee_pt[1])          # hip->knee line in the femur frame
    phi_femur = support.thigh_deg * RAD_PER_DEG - beta0
    q_ref = np.array(model.reference_angle, float)
    for sfx in model.leg_suffixes:
        knee, ankle, hip = (model.joint_index(j + sfx) for j in ("knee", "ankle", "hip"))
        q_ref[hip] = model.reference_pelvis_angle - phi_femur
        q_ref[knee] = support.knee_deg * RAD_PER_DEG
        q_ref[ankle] = phi_femur - q_ref[knee]            # the foot flat: φ_foot = φ_femur − q_knee − q_ankle = 0
    if support.kind == "sitting":
        q_ref = _pelvis_to_seat(model, q_ref)
    if support.kind == "lying":
        # the relaxed standing posture laid back on a table, the table where a wall behind it
        # would be (`anatomy._with_wall_landmarks`): the root (the middle thorax; in a bridge the
        # upper thorax) keeps its orientation (the world frame turns with the table, gravity −x)
        root = model.body_index("thorax_upper" if support.bridge else "thorax_middle")
        angle = _standing_angle(model, root, q_ref)
        specs = contact_specs(support, model.leg_suffixes)
        if model.sides and support.lying_on == "back":
            for sfx, side in zip(model.leg_suffixes, model.sides):
                q_ref = _place_leg(model, root, angle, q_ref, specs, sfx, support.leg(side), -beta0)
            if support.bridge:
                q_ref = _lift_pelvis(model, support, root, angle, q_ref)
        elif support.legs == "supported" and not support.side_lying:
            q_ref[model.joint_index("hip")] += _legs_to_table(model, root, angle, q_ref, specs)
        return root, angle, q_ref
    root_sfx = support.root_leg(model.leg_suffixes)
    if model.sides:
        q_ref = _stand_legs(model, support, q_ref, -beta0)
    return model.body_index("foot" + root_sfx), 0.0, q_ref


def _close(residual, u: np.ndarray, max_step: float = 0.2) -> np.ndarray:
    """Angles u (rad) that zero ``residual`` (m or rad), from ``u``: Newton's method with
    least-change (pseudo-inverse) steps of a finite-difference Jacobian, each step at most
    ``max_step`` rad long (a chain that only just closes has a nearly singular Jacobian at the
    start). The caller checks the residual at the result."""
    u = np.asarray(u, float).copy()
    for _ in range(200):
        r = residual(u)
        if np.abs(r).max() < 1e-12:
            break
        J = np.stack([(residual(u + 1e-7 * e) - r) / 1e-7 for e in np.eye(len(u))], 1)
        step = np.linalg.pinv(J) @ r
        u -= step * min(1.0, max_step / max(float(np.linalg.norm(step)), 1e-300))
    return u


def floor_feet(support: Support, suffixes: tuple) -> tuple[str, ...]:
    """The name suffixes of the legs whose foot stands on the floor besides the root's (two legs
    standing, both feet on the floor): the floor holds that foot too, a closed chain
    (`problem.Problem.floor_body`)."""
    if support.kind != "standing" or suffixes == ("",):
        return ()
    root = support.root_leg(suffixes)
    return tuple(sfx for sfx, side in zip(suffixes, ("right", "left"))
                 if sfx != root and support.leg(side).position == "floor")


#: The landmarks of a foot on the floor that the floor holds: heel and forefoot (the root's
#: resting patch, `balance.root_patch`; a second foot's, `floor_feet`).
FOOT_POINTS = ("heel", "forefoot")
#: The landmarks of a kneeling leg that rest on the floor (`Leg` "kneeling"; the foot on the floor
#: is the root, its heel and forefoot the root's resting patch, `balance.root_patch`).
FLOOR_CONTACTS = {"kneeling": ("tibial_tuberosity", "instep")}
#: The ankle of a kneeling leg in the reference posture (rad: plantar flexion 55°, near the end of
#: its range, 60°): the instep on the floor, the shin rising from the knee to the ankle.
KNEELING_ANKLE = math.radians(55.0)


def _stand_legs(model, support: Support, q: np.ndarray, ankle_neutral: float) -> np.ndarray:
    """The reference angles of a two-legged model standing (docs/model.md §7): from
    ``q``, the lumped rule for each leg, the angles each `Leg` gives are set, a lifted leg's foot
    at its standing angle to the shank (``ankle_neutral``), a kneeling leg's ankle at
    `KNEELING_ANKLE`, and the rest found by Newton's method (least-change pseudo-inverse steps)
    so that the chain closes through the floor: the pelvis at its calibrated orientation, a
    kneeling leg's tuberosity and instep on the floor (the root's plane), a second foot flat with
    its heel on it. Unknown: each foot's ankle, its knee where its hip is given and its knee not,
    a second foot's hip unless given, and a kneeling leg's knee."""
    q = q.copy()
    root_sfx = support.root_leg(model.leg_suffixes)
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies,
                       model.body_index("foot" + root_sfx))
    a, c = kin.as_complex(model.joint_in_inferior), kin.as_complex(model.joint_in_superior)
    offset = np.asarray(model.joint_offset, float)
    lm = model.landmarks
    unknown, on_floor, flat = [], [], []        # joint indices; landmarks on the floor; feet flat on it
    for sfx, side in zip(model.leg_suffixes, model.sides):
        leg = support.leg(side)
        hip, knee, ankle = (model.joint_index(j + sfx) for j in ("hip", "knee", "ankle"))
        if leg.hip_deg is not None:
            q[hip] = -leg.hip_deg * RAD_PER_DEG
        if leg.knee_deg is not None:
            q[knee] = leg.knee_deg * RAD_PER_DEG
        if leg.position == "lifted":
            q[ankle] = ankle_neutral
        elif leg.position == "kneeling":
            q[knee], q[ankle] = 0.5 * math.pi, KNEELING_ANKLE    # the knee from a level shank
            unknown.append(knee)
            on_floor += [n + sfx for n in FLOOR_CONTACTS["kneeling"]]
        else:                                                    # a foot on the floor
            unknown.append(ankle)
            if leg.hip_deg is not None and leg.knee_deg is None:
                q[knee] = max(-q[hip], 0.0)                      # from a vertical shank
                unknown.append(knee)
            if sfx != root_sfx:                                  # a second foot: flat, on the floor
                if leg.hip_deg is None:
                    unknown.append(hip)
                flat.append(model.body_index("foot" + sfx))
                on_floor.append("heel" + sfx)
    pelvis = model.body_index("pelvis")
    names = ["heel" + root_sfx] + on_floor                  # the floor: through the root's heel
    bodies = np.array([lm[n][0] for n in names])
    local = np.array([lm[n][1] for n in names], float)

    def residual(u):
        qq = q.copy()
        qq[unknown] = u
        ang, _, org, _ = kin.poses(S, model.joint_inferior, model.joint_superior, a, c, qq + offset, 0.0)
        y = kin.points_world(ang, kin.as_real(org), bodies, local)[:, 1]
        return np.concatenate([[ang[pelvis] - model.reference_pelvis_angle], y[1:] - y[0], ang[flat]])

    u = _close(residual, q[unknown])
    u = np.mod(u + math.pi, 2.0 * math.pi) - math.pi
    r = residual(u)
    rng = np.asarray(model.joint_range, float)[unknown]
    beyond = [model.joints[j] for j, v, (lo, hi) in zip(unknown, u, rng) if not lo <= v <= hi]
    if np.abs(r).max() > 1e-9 or beyond:
        what = (f"{', '.join(n for n, v in zip(['the pelvis'] + on_floor + [model.bodies[b] for b in flat], r) if abs(v) > 1e-9)} cannot reach "
                "the floor" if np.abs(r).max() > 1e-9 else f"{', '.join(beyond)} would turn beyond its range")
        hint = ("give the foot on the floor a hip flexion (and the kneeling leg one) that brings the kneeling "
                "knee to the floor, e.g. a lunge: hip_flexion_deg 100 in front, 0 behind"
                if any(support.leg(s).position == "kneeling" for s in model.sides) else
                "a foot stepped forward or back (its hip flexion given) needs the other leg's knee bent to "
                "reach the floor too, or leave its hip to be found")
        raise ModelError(f"Support: the legs cannot stand as given: {what}; {hint}")
    q[unknown] = u
    lifted = [sfx for sfx, side in zip(model.leg_suffixes, model.sides) if support.leg(side).position == "lifted"]
    if lifted:                          # a lifted foot clears the floor
        feet = ["heel" + root_sfx] + [n + sfx for sfx in lifted for n in ("heel", "forefoot")]
        ang, _, org, _ = kin.poses(S, model.joint_inferior, model.joint_superior, a, c, q + offset, 0.0)
        y = kin.points_world(ang, kin.as_real(org), np.array([lm[n][0] for n in feet]),
                             np.array([lm[n][1] for n in feet], float))[:, 1]
        if y[1:].min() < y[0]:
            raise ModelError("Support: the legs cannot stand as given: the lifted leg's foot would be "
                             f"{(y[0] - y[1:].min()) * 1000:.0f} mm under the floor; give it a hip or knee "
                             "flexion that lifts it (the default knee flexion, 90°, does)")
    return q


def _place_leg(model, root: int, root_angle: float, q: np.ndarray, specs, sfx: str, leg: Leg,
               ankle_neutral: float) -> np.ndarray:
    """The reference angles of one leg (name suffix ``sfx``) of a two-legged model lying on its
    back: on the table (laid down at the hip, as the lumped legs), lifted (at the support's
    thigh inclination, or at the leg's hip flexion), bent (the knee at its flexion, the foot flat
    on the table: the ankle turns the sole onto it, the hip flexes until it touches), hanging or
    held (at the leg's hip and knee flexion; the foot at its standing angle to the shank,
    ``ankle_neutral``)."""
    q = q.copy()
    hip, knee, ankle = (model.joint_index(j + sfx) for j in ("hip", "knee", "ankle"))
    if leg.knee_deg is not None:
        q[knee] = leg.knee_deg * RAD_PER_DEG
        if leg.position != "bent":
            q[ankle] = ankle_neutral
    if leg.position == "table":
        q[hip] += _legs_to_table(model, root, root_angle, q, specs, sfx)
    elif leg.position == "bent" and leg.hip_deg is not None:
        q[hip] = -leg.hip_deg * RAD_PER_DEG            # a bridge: the pelvis is lifted to it (`_lift_pelvis`)
    elif leg.position == "bent":
        S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, root)
        foot = model.body_index("foot" + sfx)
        offset = np.asarray(model.joint_offset)

        def flat(qq):                    # the sole on the table's plane: the foot at −90° (world)
            qq = qq.copy()
            qq[ankle] += (-0.5 * math.pi - root_angle - S[foot] @ (qq + offset)) / S[foot, ankle]
            return qq
        q[hip] = 0.0
        q[hip] += _legs_to_table(model, root, root_angle, q, specs, sfx, adjust=flat, span=(-0.5 * math.pi, 0.0))
        q = flat(q)
    elif leg.hip_deg is not None:
        q[hip] = -leg.hip_deg * RAD_PER_DEG
    return q


#: The joints of the spine below the upper thorax that bend to put a bridge's feet on the table
#: (`_lift_pelvis`).
BRIDGE_JOINTS = ("T4_T5", "T8_T9", "T12_L1", "L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1")


def _lift_pelvis(model, support: Support, root: int, root_angle: float, q: np.ndarray) -> np.ndarray:
    """A bridge's reference posture (docs/model.md §7): the upper thorax (the root) on the table,
    the spine below it bent by one angle β shared among `BRIDGE_JOINTS` in proportion to their
    ranges of flexion (it curls: the upper thorax cannot roll up to the shoulders), each bent leg
    at its hip and knee flexion with the ankle laying the sole on the table: β and the ankles found
    by Newton's method (`_close`) so that each such foot lies flat with its heel on the table."""
    q = q.copy()
    spine = [model.joint_index(j) for j in BRIDGE_JOINTS]
    rom = np.array([model.passive[j].rom_flexion_rad for j in spine])
    share = rom / rom.sum()
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, root)
    a, c = kin.as_complex(model.joint_in_inferior), kin.as_complex(model.joint_in_superior)
    offset = np.asarray(model.joint_offset, float)
    lm = model.landmarks
    legs = [sfx for sfx, side in zip(model.leg_suffixes, model.sides)
            if support.leg(side).position == "bent" and support.leg(side).hip_deg is not None]
    ankles = [model.joint_index("ankle" + sfx) for sfx in legs]
    feet = [model.body_index("foot" + sfx) for sfx in legs]
    names = ["thorax_upper_back_inferior"] + ["heel" + sfx for sfx in legs]   # the table: through the root's patch
    bodies = np.array([lm[n][0] for n in names])
    local = np.array([lm[n][1] for n in names], float)

    def posture(u):
        qq = q.copy()
        qq[spine] += u[0] * share
        qq[ankles] = u[1:]
        return qq

    def residual(u):
        ang, _, org, _ = kin.poses(S, model.joint_inferior, model.joint_superior, a, c, posture(u) + offset,
                                   root_angle)
        x = kin.points_world(ang, kin.as_real(org), bodies, local)[:, 0]
        return np.concatenate([ang[feet] + 0.5 * math.pi, x[1:] - x[0]])   # the soles flat, the heels on it

    u = _close(residual, np.concatenate([[0.0], q[ankles]]))
    u[1:] = np.mod(u[1:] + math.pi, 2.0 * math.pi) - math.pi
    qq = posture(u)
    rng = np.asarray(model.joint_range, float)
    beyond = [model.joints[j] for j in spine + ankles if not rng[j, 0] <= qq[j] <= rng[j, 1]]
    if np.abs(residual(u)).max() > 1e-9 or beyond:
        raise ModelError("Support: the bridge cannot be built as given: "
                         + (f"{', '.join(beyond)} would turn beyond its range" if beyond else
                            "the bent legs' feet cannot both lie flat on the table")
                         + "; give the bent legs the same hip and knee flexion, a hip flexion nearer "
                         "hook lying (e.g. 20°), or a smaller knee flexion")
    return qq


def _pelvis_to_seat(model, q: np.ndarray) -> np.ndarray:
    """Sitting: the pelvis rolled back on the hips until the ischia are as low as the thighs (the
    seat is flat), the lumbar levels flexed by as much, shared in proportion to their range of
    motion, so that the trunk keeps its orientation (the foot flat on the floor, the root)."""
    root = model.body_index("foot")
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, root)
    a, c = kin.as_complex(model.joint_in_inferior), kin.as_complex(model.joint_in_superior)
    hip = model.joint_index("hip")
    lumbar = [model.joint_index(j) for j in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2")]
    rom = np.array([model.passive[j].rom_extension_rad + model.passive[j].rom_flexion_rad for j in lumbar])
    share = rom / rom.sum()
    lm = model.landmarks
    names = ("ischial_seat", "thigh_back")
    body = np.array([lm[n][0] for n in names])
    local = np.array([lm[n][1] for n in names])

    def posture(delta):
        qq = q.copy()
        qq[hip] += delta
        qq[lumbar] -= delta * share
        return qq

    def gap(delta):                                    # ischia above the thighs (m)
        ang, _, org, _ = kin.poses(S, model.joint_inferior, model.joint_superior, a, c,
                                   posture(delta) + np.asarray(model.joint_offset), 0.0)
        y = kin.points_world(ang, kin.as_real(org), body, local)[:, 1]
        return y[0] - y[1]

    # the least roll that brings the ischia down to the thighs: the first sign change of the gap
    # in 1° steps up to 90° (the ischia circle the hips: the gap falls, then rises again), then
    # bisection; none if they are already as low
    steps = np.radians(np.arange(0.0, 91.0, 1.0))
    gaps = [gap(d) for d in steps]
    if gaps[0] <= 0.0:
        return q
    k = next((i for i, g in enumerate(gaps) if g <= 0.0), None)
    if k is None:                                      # they never reach it: the least gap
        return posture(float(steps[int(np.argmin(gaps))]))
    delta = _bisect(gap, float(steps[k - 1]), float(steps[k]))
    return posture(delta)


def _bisect(f, lo: float, hi: float, tol: float = 1e-12) -> float:
    """A root of f in [lo, hi] where f changes sign, or the end of smaller |f| if it does not."""
    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0.0:
        return lo if abs(f_lo) < abs(f_hi) else hi
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if (f_mid > 0.0) == (f_lo > 0.0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _standing_angle(model, body: int, q: np.ndarray) -> float:
    """World angle (rad) of a body in the standing reference posture with joint angles q (the
    pelvis at its reference orientation)."""
    pelvis = model.body_index("pelvis")
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, pelvis)
    return float(model.reference_pelvis_angle + S[body] @ (q + np.asarray(model.joint_offset)))


def _legs_to_table(model, root: int, root_angle: float, q: np.ndarray, specs, sfx: str = "",
                   adjust=None, span: tuple = (-math.pi / 3, math.pi / 3)) -> float:
    """The hip rotation (rad) that lays a leg (name suffix ``sfx``; the lumped legs: "") on the
    table: the outermost of its contact points level with the outermost of the trunk's (the leg
    rotates about the hip, the trunk stays where its reference angles put it; ``adjust`` turns
    the rotated angles, e.g. the ankle that keeps a foot flat), the rotation within ``span``."""
    S = kin.path_signs(model.joint_inferior, model.joint_superior, model.n_bodies, root)
    a, c = kin.as_complex(model.joint_in_inferior), kin.as_complex(model.joint_in_superior)
    legs = [model.body_index(b + s) for s in model.leg_suffixes for b in ("femur", "shank", "foot")]
    leg = [model.body_index(b + sfx) for b in ("femur", "shank", "foot")]
    hip = model.joint_index("hip" + sfx)
    lm = model.landmarks
    body = np.array([lm[sp.landmark][0] for sp in specs])
    local = np.array([lm[sp.landmark][1] for sp in specs])
    normal = np.array([sp.normal for sp in specs])
    on_leg, on_trunk = np.isin(body, leg), ~np.isin(body, legs)

    def gap(delta):
        qq = q.copy()
        qq[hip] += delta
        if adjust is not None:
            qq = adjust(qq)
        ang, _, org, _ = kin.poses(S, model.joint_inferior, model.joint_superior, a, c,
                                   qq + np.asarray(model.joint_offset), root_angle)
        x = np.einsum("ij,ij->i", kin.points_world(ang, kin.as_real(org), body, local), normal)
        return x[on_leg].min() - x[on_trunk].min()

    # the hip rotation that lowers the leg to the table (bisection over the span)
    lo, hi = span
    if gap(lo) * gap(hi) > 0.0:
        return 0.0
    return _bisect(gap, lo, hi)


@dataclass(frozen=True)
class ContactSpec:
    """A one-sided contact of a support: a landmark pressing on a flat surface with outward
    normal ``normal`` (world). Contacts with the same ``surface`` share one plane, placed in
    the reference posture through the outermost of them (the one farthest along −normal): it
    touches there, the others hover above it until the body settles. The surface ``"root"`` is
    the one the root body rests on (`balance.root_patch`): its plane passes through the patch.
    ``share``: the part of the support's contact stiffness it has (½ under one of two legs: the
    support's stiffness is that of both sides together). ``grip``: the point does not slide along
    the surface either (static friction, as a stiff spring along it about the reference posture's
    point: `problem.Problem.contact_grip`)."""

    landmark: str
    normal: tuple[float, float]
    surface: str
    share: float = 1.0
    grip: bool = False


#: The landmarks of a leg that rest on the table, by the leg's position (`Leg`).
LEG_CONTACTS = {"table": ("thigh_back", "calf_back", "heel_back"), "bent": ("heel", "forefoot")}


def contact_specs(support: Support, suffixes: tuple = ("",)) -> tuple[ContactSpec, ...]:
    """The one-sided contacts of a support (docs/model.md §7), for a model whose legs have the
    name suffixes ``suffixes`` (`Model.leg_suffixes`). Sitting: the ischial
    tuberosities, the thighs and, rolled far back, the sacrum on one flat seat (through the
    lowest of them in the reference posture: the pelvis rolls until the ischia reach it); a
    backrest if asked, behind the lower and middle thorax.
    Lying: the head, the upper and lower back, the buttocks and (supported) the thighs, calves
    and heels on the flat table the middle of the back (the root) rests on; with two legs, each
    leg's own (`LEG_CONTACTS`)."""
    up = (0.0, 1.0)
    if support.kind == "sitting":
        out = [ContactSpec("ischial_seat", up, "seat"), ContactSpec("sacrum_back", up, "seat"),
               ContactSpec("thigh_back", up, "seat")]
        if support.backrest_inclination_deg is not None:
            b = math.radians(support.backrest_inclination_deg)
            n = (math.cos(b), math.sin(b))                        # a plane leaning back by b
            out += [ContactSpec("thorax_middle_back", n, "backrest"),
                    ContactSpec("thorax_lower_back", n, "backrest")]
        return tuple(out)
    if support.side_lying:
        return ()                                                 # the table pushes across the plane
    if support.kind == "lying" and support.lying_on == "front":
        table = (-1.0, 0.0)                                       # the table, in front of the body
        names = ["forehead", "thorax_lower_front", "ASIS_front", "thigh_front", "knee_front", "shin_front"]
        return tuple(ContactSpec(n, table, "root") for n in names)
    if support.kind == "standing" and suffixes != ("",):      # two legs: a kneeling leg's knee and instep
        out = []                                                  # (the knee grips the floor; the instep slides)
        for sfx, side in zip(suffixes, ("right", "left")):
            out += [ContactSpec(n + sfx, up, "root", grip=n == "tibial_tuberosity")
                    for n in FLOOR_CONTACTS.get(support.leg(side).position, ())]
        return tuple(out)
    if support.kind == "lying":
        table = (1.0, 0.0)                                        # the table, behind the body
        back = ("occiput", "thorax_lower_back", "buttock") if support.bridge else \
            ("occiput", "thorax_upper_back", "thorax_lower_back", "buttock")    # a bridge: on the upper back
        out = [ContactSpec(n, table, "root") for n in back]
        if suffixes != ("",):
            for sfx, side in zip(suffixes, ("right", "left")):
                position = support.leg(side).position             # a foot on the table does not slide
                out += [ContactSpec(n + sfx, table, "root", 1.0 / len(suffixes), grip=position == "bent")
                        for n in LEG_CONTACTS.get(position, ())]
        elif support.legs == "supported":
            out += [ContactSpec(n, table, "root") for n in LEG_CONTACTS["table"]]
        return tuple(out)
    return ()


def held_legs(support: Support, suffixes: tuple) -> tuple[tuple[str, str], ...]:
    """The legs the hands draw towards the chest: (suffix, side) of each `Leg` "held"."""
    if suffixes == ("",):
        return ()
    return tuple((sfx, side) for sfx, side in zip(suffixes, ("right", "left"))
                 if support.leg(side).position == "held")
