"""The psoas effect of one subject: how much lordosis and pelvic tilt change per 100 N of psoas.

The unit of work of the population and sensitivity studies (scripts/population.py,
scripts/sensitivity.py): a plain function of a `StudySubject`, picklable, so that
`parallel.map_tasks` can run it on all cores or on a Dask cluster.

The effect is the secant between relaxed standing and the same posture problem with
``tension_N`` more psoas tension (default 200 N, the whole psoas group, distributed over its
lines by maximum force), scaled to 100 N. In both postures each psoas line pulls with a fixed
tension: in the reference, the force its relaxed-standing tone exerts in the reference posture
(so that the reference posture is relaxed standing itself); in the loaded posture, that force plus
its share of ``tension_N``. (Removing the psoas tone instead, i.e. psoas at 0 N, is not relaxed
standing, and the trunk of some subjects, e.g. PI 35-47°, then falls backward.) Each solve
starts from the previous posture (equilibrium mode: relaxed standing, then the reference), so
that where several stable postures exist the secant follows the one nearest relaxed standing.

* mode "equilibrium": every other muscle keeps its frozen relaxed tone (docs/model.md §6);
* mode "upright" (the default mode of scenarios): every joint free, the other muscles
  recruited and the posture chosen by least effort, the gaze level and the balance over the
  feet kept (docs/model.md §12), with the given effort criterion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .anatomy import build_model
from .errors import BiomechError
from .model import Subject
from .muscles import MuscleSetting
from .passive import default_intervertebral_laws
from .problem import prepare
from .recruitment import Criterion
from .metrics import clinical_metrics
from .statics import generalized_forces, result_geometry, solve_equilibrium
from .supports import Support
from .tone import fit_tone
from .upright import UprightTarget, solve_upright

#: The metrics whose change is reported (deg).
EFFECT_METRICS = ("lumbar_lordosis_deg", "pelvic_tilt_deg", "sacral_slope_deg")


@dataclass(frozen=True)
class StudySubject:
    """One sampled subject of a study.

    subject : anatomy, mass, strength and tone (`Subject`).
    disc_stiffness_scale : multiplies every intervertebral passive moment (-).
    hip_stiffness_scale : multiplies the hip passive moment (-).
    short_range_stiffness : muscle stiffness gain q (-).
    mode : "equilibrium" (frozen tone) or "upright" (least-effort recruitment, gaze level).
    criterion : the upright mode's effort criterion.
    tension_N : the psoas tension of the loaded posture (N, whole group).
    """

    subject: Subject = field(default_factory=Subject)
    disc_stiffness_scale: float = 1.0
    hip_stiffness_scale: float = 1.0
    short_range_stiffness: float = 40.0
    mode: str = "equilibrium"
    criterion: Criterion = field(default_factory=Criterion)
    tension_N: float = 200.0

    def __post_init__(self):
        if self.mode not in ("equilibrium", "upright"):
            raise BiomechError(f"study mode must be 'equilibrium' or 'upright', got {self.mode!r}")
        if not (isinstance(self.tension_N, (int, float)) and 0 < self.tension_N <= 2000):
            raise BiomechError(f"tension_N must be within (0, 2000] N, got {self.tension_N!r}")


def psoas_effect(s: StudySubject) -> dict:
    """Change of each `EFFECT_METRICS` per 100 N of psoas tension for one subject.

    Returns a dict: ``"<metric>_per_100N"`` (deg per 100 N; NaN if either posture failed),
    ``"<metric>"`` in relaxed standing (deg), ``"success"`` (both postures solved) and ``"message"``.
    A subject whose model cannot be built (e.g. the muscles cannot hold its relaxed posture)
    is reported the same way, never dropped.
    """
    out = {f"{k}_per_100N": math.nan for k in EFFECT_METRICS} | {k: math.nan for k in EFFECT_METRICS}
    try:
        model = fit_tone(build_model(s.subject, intervertebral=default_intervertebral_laws(s.disc_stiffness_scale),
                                     hip_stiffness_scale=s.hip_stiffness_scale))
    except BiomechError as exc:
        return out | {"success": False, "message": f"model: {exc}"}
    q0 = None
    if s.mode == "equilibrium":
        # relaxed standing itself (frozen tone, psoas with its stretch response) must exist
        res = solve_equilibrium(model, support=Support("standing"),
                                short_range_stiffness=s.short_range_stiffness)
        if not res.success:
            return out | {"success": False, "message": f"relaxed standing: {res.message}"}
        q0 = res.q
    # each psoas line's tone force in the relaxed reference posture (the reference posture of
    # the standing support: no solve needed, and the upright mode does not use the frozen tone)
    relaxed = prepare(model, support=Support("standing"))
    lines = model.group_lines("psoas")
    tone_force = generalized_forces(relaxed, relaxed.q_ref)["muscle_forces"][lines]
    f_max = np.asarray(model.max_isometric_force)[lines]
    share = f_max / f_max.sum()
    metrics = []
    for tension in (0.0, s.tension_N):
        settings = {model.muscle_names[i]: MuscleSetting(tension_N=float(f0 + tension * w))
                    for i, f0, w in zip(lines, tone_force, share)}
        problem = prepare(model, support=Support("standing"), settings=settings,
                          short_range_stiffness=s.short_range_stiffness,
                          locked_joints=() if s.mode == "upright" else None)
        if s.mode == "upright":
            res = solve_upright(problem, UprightTarget(), criterion=s.criterion, q0=q0)
        else:
            res = solve_equilibrium(problem=problem, q0=q0)
        if not res.success:
            what = "psoas at its tone force" if tension == 0 else f"psoas tone + {tension:g} N"
            return out | {"success": False, "message": f"{what}: {res.message}"}
        metrics.append(_posture_metrics(res))
        q0 = res.q                       # continuation: the loaded posture starts from the reference
    for k in EFFECT_METRICS:
        out[k] = metrics[0][k]
        out[f"{k}_per_100N"] = (metrics[1][k] - metrics[0][k]) * 100.0 / s.tension_N
    return out | {"success": True, "message": "solved"}


def _posture_metrics(res) -> dict:
    """The clinical metrics of a solved posture (deg), from its geometry alone (the metrics of
    `results.posture_report`, without the forces the study does not use)."""
    return clinical_metrics(res.problem, result_geometry(res))


def psoas_effects(batch: tuple[StudySubject, ...]) -> list[dict]:
    """`psoas_effect` of each subject of a batch (one task of `parallel.map_tasks`)."""
    return [psoas_effect(s) for s in batch]
