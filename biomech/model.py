"""The model: an immutable description of bodies, joints, passive tissues and muscle lines.

A `Model` is data only. `anatomy.build_model` compiles the default lumbopelvic model from a
`Subject`; `tone.fit_tone` returns it with its relaxed-standing muscle tone; `attach_body`
returns it with one more body. Every count and array shape derives from the model itself
(`n_bodies`, `n_joints`, `n_muscles`, names in order): bodies and joints form a tree
(docs/model.md §1), of which the default chain femur–pelvis–L5…L1–thorax is a special case.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from . import limits
from .errors import ModelError
from .kinematics import path_signs
from .passive import PassiveLaw

FloatArray = np.ndarray


@dataclass(frozen=True)
class Subject:
    """Subject parameters.

    Parameters
    ----------
    body_mass_kg : 30-200 kg. Masses scale with it, muscle forces with its 2/3 power.
    height_m : 1.2-2.2 m. Lengths scale with height / 1.70 m.
    pelvic_incidence_deg : 20-90°. Rotates the sacrum and spine about the sacral plate.
    muscle_strength_scale : 0.2-5. Multiplies every line's maximum isometric force (on top of
        the body-mass scaling), e.g. for weak or trained subjects.
    tone_scale : 0-10. Multiplies the EMG floors of the relaxed-standing tone
        (`muscles.DEFAULT_TONE`); the baseline tone is recomputed on top of the scaled floors,
        so the relaxed posture is kept while co-contraction (and so muscle stiffness) changes.
    """

    body_mass_kg: float = 75.0
    height_m: float = 1.75
    pelvic_incidence_deg: float = 52.0
    muscle_strength_scale: float = 1.0
    tone_scale: float = 1.0

    def __post_init__(self):
        for name in ("body_mass_kg", "height_m", "pelvic_incidence_deg", "muscle_strength_scale",
                     "tone_scale"):
            limits.check("Subject", f"subject.{name}", getattr(self, name))


@dataclass(frozen=True)
class Cavity:
    """The abdominal cavity as a pressure vessel (docs/model.md §6a): a cylinder of cross-section
    ``area_m2`` whose axis runs from the centroid of its floor (the pelvic inlet, on the pelvis)
    to the centroid of its roof (the diaphragm, on the lower thorax). The pressure P pushes the
    two apart with the force P·A along that axis; the wall's hoop holds it in the transverse
    plane, P = Σ_i T_i / (2 r h) over the lines that wrap the cavity (``pressure_groups``). Its
    sagittal section, for the contents' hydrostatic head (`abdomen.floor_pressure`), is the
    ellipse through the floor, the roof and the two walls ``half_depth_m`` either side of the axis."""

    floor_body: int                  # body index of the pelvic floor (the pelvis)
    floor_point: tuple               # (x, y) centroid of the pelvic inlet in that body's frame (m)
    roof_body: int                   # body index of the diaphragm (the lower thorax)
    roof_point: tuple                # (x, y) centroid of the diaphragm in that body's frame (m)
    area_m2: float                   # cross-section A of the cavity (m²)
    hoop_radius_m: float             # radius r of the wall in the transverse plane (m)
    wall_height_m: float             # height h of the wall the hoop lines cover (m)
    half_depth_m: float              # half its sagittal depth at L3, spine to wall (m)
    pressure_groups: tuple           # the muscle groups whose tension is hoop tension

    @property
    def pressure_per_tension(self) -> float:
        """dP/dT (Pa per N of the lumped both-sides tension): 1 / (2 r h)."""
        return 1.0 / (2.0 * self.hoop_radius_m * self.wall_height_m)


@dataclass(frozen=True, eq=False)
class Model:
    """An immutable musculoskeletal model. Arrays are read-only; positions in body frames (m).

    Bodies and joints form a tree: joint j joins ``joint_inferior[j]`` to
    ``joint_superior[j]`` (body indices into ``bodies``) and its coordinate rotates the superior
    body relative to the inferior one (counter-clockwise positive; docs/model.md §1).
    """

    subject: Subject
    bodies: tuple                    # body names
    joints: tuple                    # joint names
    joint_inferior: FloatArray       # (n_joints,) int body index
    joint_superior: FloatArray       # (n_joints,) int body index
    joint_in_inferior: FloatArray    # (n_joints, 2) joint centre in the inferior body's frame
    joint_in_superior: FloatArray    # (n_joints, 2) joint centre in the superior body's frame
    joint_offset: FloatArray         # (n_joints,) rad: superior frame rotation at q = 0
    joint_range: FloatArray          # (n_joints, 2) rad: physiological range of q (low, high)
    reference_angle: FloatArray      # (n_joints,) rad: joint angles of the relaxed reference posture
    rest_angle: FloatArray           # (n_joints,) rad: stress-free angle of each passive law
    passive: tuple                   # (n_joints,) the passive law of each joint (`passive.PassiveLaw`)
    mass: FloatArray                 # (n_bodies,) kg
    com: FloatArray                  # (n_bodies, 2) centre of mass in the body frame
    reference_pelvis_angle: float    # rad: pelvis orientation (world) of the relaxed reference posture
    landmarks: MappingProxyType      # name -> (body index, (2,) point)
    plates: MappingProxyType         # name -> (body index, direction angle in its frame, rad)
    endplate_body: FloatArray        # (6,) int: S1 (pelvis), L5, L4, L3, L2, L1
    endplate_mid: FloatArray         # (6, 2) superior endplate midpoint in body frame
    endplate_angle: FloatArray       # (6,) anterior direction of the endplate in the body frame (rad)
    endplate_depth: FloatArray       # (6,) anteroposterior depth (m)
    muscle_names: tuple
    muscle_group: tuple
    max_isometric_force: FloatArray  # (M,) N, both sides
    optimal_fiber_length: FloatArray  # (M,) m
    tendon_slack_length: FloatArray  # (M,) m
    pennation: FloatArray            # (M,) rad
    excess_passive: FloatArray       # (M,) bool: a joint's published passive law contains its passive force
    parameter_source: tuple          # (M,) where each line's l_opt / l_ts come from
    line_ptr: FloatArray             # (M+1,) int: points of line i are line_ptr[i]:line_ptr[i+1]
    pt_body: FloatArray              # (P,) int body index
    pt_local: FloatArray             # (P, 2) in the body frame
    pt_z: FloatArray                 # (P,) lateral offset (m), constant
    pt_condition: FloatArray         # (P, 3): kind (0 none, 1 hip flexion, 2 knee angle), lo, hi (rad)
    pt_sacral: FloatArray            # (P,) bool: attached to the sacral part (moves with PI)
    sources: MappingProxyType = field(repr=False)
    cavity: Cavity | None = field(default=None, repr=False)   # the abdominal pressure vessel, if any
    sides: tuple = ()                # () with the legs lumped; ("right", "left") with two legs
    muscle_side: tuple = ()          # (M,) "right", "left" or "" (a trunk line), with two legs
    baseline_activation: FloatArray | None = field(default=None, repr=False)  # (M,) fitted tone

    @property
    def n_bodies(self) -> int:
        return len(self.bodies)

    @property
    def n_joints(self) -> int:
        return len(self.joints)

    @property
    def n_muscles(self) -> int:
        return len(self.muscle_names)

    def body_index(self, name: str) -> int:
        """Index of a body by name (`ModelError` with a suggestion if there is none)."""
        return _index(self.bodies, name, "body")

    def joint_index(self, name: str) -> int:
        """Index of a joint by name (`ModelError` with a suggestion if there is none)."""
        return _index(self.joints, name, "joint")

    @property
    def leg_suffixes(self) -> tuple[str, ...]:
        """The suffix of each leg's body, joint and landmark names: ``("",)`` with the legs
        lumped (``femur``, ``hip``, ``knee``), ``("_right", "_left")`` with two legs
        (``femur_right``, ``hip_left``; conventions §2)."""
        return tuple(f"_{s}" for s in self.sides) or ("",)

    def group_lines(self, group: str) -> np.ndarray:
        """Indices of the lines of a muscle group (empty if the model has none); with two legs,
        ``"psoas_left"`` names the group's lines of one side."""
        lines = self._group_lines.get(group)
        return lines.copy() if lines is not None else np.zeros(0, int)

    @functools.cached_property
    def _group_lines(self) -> dict:
        out: dict = {}
        for i, g in enumerate(self.muscle_group):
            out.setdefault(g, []).append(i)
            if self.muscle_side and self.muscle_side[i]:
                out.setdefault(f"{g}_{self.muscle_side[i]}", []).append(i)
        return {g: np.array(v, int) for g, v in out.items()}

    def group_index(self, groups: tuple) -> np.ndarray:
        """Index (M,) of each line's group in ``groups`` (len(groups) for a group not in it),
        for sums and means by group in one `np.bincount` (read-only, computed once)."""
        hit = self._group_index.get(groups)
        if hit is None:
            pos = {g: k for k, g in enumerate(groups)}
            hit = np.array([pos.get(g, len(groups)) for g in self.muscle_group], int)
            hit.flags.writeable = False
            self._group_index[groups] = hit
        return hit

    @functools.cached_property
    def _group_index(self) -> dict:
        return {}

    @functools.cached_property
    def pair_share(self) -> np.ndarray:
        """(M,) the share of a bilateral pair of muscles that each line is, by which the effort
        criteria count it (docs/model.md §1b): 1 for a lumped line (left and right in one), ½ for
        one side's line of a two-legged model, so that the two halves count as the lumped line
        (read-only)."""
        share = np.where(np.array(self.muscle_side or [""] * self.n_muscles) != "", 0.5, 1.0)
        share.flags.writeable = False
        return share

    @functools.cached_property
    def pressure_gain(self) -> np.ndarray:
        """dP/dT_i (M,) Pa/N: the cavity pressure each line's tension adds (0 without a cavity,
        and for lines that do not wrap it; read-only)."""
        gain = np.zeros(self.n_muscles)
        if self.cavity is not None:
            for g in self.cavity.pressure_groups:
                gain[self.group_lines(g)] = self.cavity.pressure_per_tension
        gain.flags.writeable = False
        return gain

    @property
    def intervertebral(self) -> MappingProxyType:
        """{joint name: law} of the joints with an intervertebral law (read-only)."""
        from .passive import IntervertebralLaw
        return MappingProxyType({j: law for j, law in zip(self.joints, self.passive)
                                 if isinstance(law, IntervertebralLaw)})

    @property
    def is_calibrated(self) -> bool:
        """True once `tone.fit_tone` has given the model its baseline tone."""
        return self.baseline_activation is not None

    # pickling (to send models and results to worker processes, `parallel.py`): read-only
    # mappings travel as dicts and come back read-only, arrays come back read-only
    def __getstate__(self) -> dict:
        return {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in self.__dict__.items()
                if k not in ("_group_lines", "_group_index", "pressure_gain", "pair_share")}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            if k == "landmarks":
                v = MappingProxyType({name: (b, readonly(p)) for name, (b, p) in v.items()})
            elif k in ("sources", "plates"):
                v = MappingProxyType(v)
            elif isinstance(v, np.ndarray):
                v.setflags(write=False)
            object.__setattr__(self, k, v)


def _index(names: tuple, name: str, what: str) -> int:
    try:
        return names.index(name)
    except ValueError:
        import difflib
        close = difflib.get_close_matches(str(name), list(names), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ModelError(f"unknown {what} {name!r}{hint}; {what}s: {', '.join(names)}") from None


def readonly(a) -> np.ndarray:
    """A read-only copy of an array."""
    a = np.array(a)
    a.setflags(write=False)
    return a


def replace(model: Model, **changes) -> Model:
    """A copy of ``model`` with some fields replaced (arrays made read-only)."""
    changes = {k: readonly(v) if isinstance(v, np.ndarray) else v for k, v in changes.items()}
    return dataclasses.replace(model, **changes)


def attach_body(model: Model, name: str, *, to: str, joint: str, joint_in_parent_m, joint_in_body_m,
                mass_kg: float, com_m, passive: PassiveLaw, range_deg: tuple[float, float],
                angle_deg: float = 0.0, distal: bool = False) -> Model:
    """The model with one more body, hinged to an existing one.

    Parameters
    ----------
    name : the new body's name; to : the body it hangs on; joint : the new joint's name.
    joint_in_parent_m, joint_in_body_m : (x, y) of the joint centre in the frames of ``to`` and
        of the new body (m).
    mass_kg, com_m : the new body's mass and centre of mass in its own frame.
    passive : the joint's passive law (e.g. `passive.IntervertebralLaw`, `passive.LinearSpring`).
    range_deg : physiological range of the joint coordinate (deg), about its stress-free angle.
    angle_deg : the joint's angle in the reference posture, which is also its stress-free angle.
    distal : False (default): the new body is the joint's *superior* body (e.g. a head on the
        thorax); True: it is the *inferior* one (a distal limb segment, conventions §5).

    The new body carries no muscle; the baseline tone (if any) is kept, so re-fit it
    (`tone.fit_tone`) if the new body's weight must be held by the muscles.
    """
    if name in model.bodies:
        raise ModelError(f"attach_body: the model already has a body {name!r}")
    if joint in model.joints:
        raise ModelError(f"attach_body: the model already has a joint {joint!r}")
    parent = model.body_index(to)
    if not isinstance(passive, PassiveLaw):
        raise ModelError(f"attach_body: passive must be a passive law, got {type(passive).__name__}")
    lo, hi = (float(v) * math.pi / 180.0 for v in range_deg)
    angle = float(angle_deg) * math.pi / 180.0
    if not lo < 0.0 < hi:
        raise ModelError("attach_body: range_deg must bracket 0 (it is measured from the stress-free angle)")
    new = model.n_bodies
    inferior, superior = (new, parent) if distal else (parent, new)
    jp, jb = np.asarray(joint_in_parent_m, float), np.asarray(joint_in_body_m, float)
    j_inf, j_sup = (jb, jp) if distal else (jp, jb)

    def add(arr, row):
        return np.concatenate([np.asarray(arr), np.asarray(row)[None]], axis=0)

    return replace(
        model, bodies=model.bodies + (name,), joints=model.joints + (joint,),
        joint_inferior=add(model.joint_inferior, inferior), joint_superior=add(model.joint_superior, superior),
        joint_in_inferior=add(model.joint_in_inferior, j_inf), joint_in_superior=add(model.joint_in_superior, j_sup),
        joint_offset=add(model.joint_offset, 0.0), joint_range=add(model.joint_range, [angle + lo, angle + hi]),
        reference_angle=add(model.reference_angle, angle), rest_angle=add(model.rest_angle, angle),
        passive=model.passive + (passive,), mass=add(model.mass, float(mass_kg)),
        com=add(model.com, np.asarray(com_m, float)))


def check_tree(model: Model) -> None:
    """Raise `ModelError` unless the joints form a tree over the bodies with consistent arrays."""
    nb, nj = model.n_bodies, model.n_joints
    shapes = {"joint_inferior": (nj,), "joint_superior": (nj,), "joint_in_inferior": (nj, 2),
              "joint_in_superior": (nj, 2), "joint_offset": (nj,), "joint_range": (nj, 2),
              "reference_angle": (nj,), "rest_angle": (nj,), "mass": (nb,), "com": (nb, 2)}
    for key, shape in shapes.items():
        if np.shape(getattr(model, key)) != shape:
            raise ModelError(f"model.{key} has shape {np.shape(getattr(model, key))}, expected {shape}")
    if len(model.passive) != nj:
        raise ModelError(f"model.passive has {len(model.passive)} laws for {nj} joints")
    try:
        path_signs(model.joint_inferior, model.joint_superior, nb, 0)
    except ValueError as exc:
        raise ModelError(f"the model's joints do not form a tree: {exc}") from None
