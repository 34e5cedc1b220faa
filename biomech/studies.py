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
from .batch import solve_equilibria
from .errors import BiomechError
from .model import Subject
from .muscles import MuscleSetting
from .passive import default_intervertebral_laws
from .problem import prepare
from .recruitment import Criterion
from .metrics import clinical_metrics
from .statics import muscle_forces, result_geometry
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
    return psoas_effects((s,))[0]


def psoas_effects(batch: tuple[StudySubject, ...]) -> list[dict]:
    """`psoas_effect` of each subject of a batch (one task of `parallel.map_tasks`), in order.

    The equilibrium-mode subjects with the same short-range stiffness are solved together, each
    stage (relaxed standing, the reference, the loaded posture) as one batch of problems
    (`batch.solve_equilibria`: the same steps as one by one, the postures within the solver's
    tolerance of those solved alone); the upright mode solves each subject alone."""
    out: list = [None] * len(batch)
    groups: dict = {}
    for k, s in enumerate(batch):
        groups.setdefault((s.mode, s.short_range_stiffness), []).append(k)
    for members in groups.values():
        for k, effect in zip(members, _effects([batch[k] for k in members])):
            out[k] = effect
    return out


def _effects(subjects: list[StudySubject]) -> list[dict]:
    """`psoas_effect` of subjects of one mode and short-range stiffness (see `psoas_effects`)."""
    empty = {f"{k}_per_100N": math.nan for k in EFFECT_METRICS} | {k: math.nan for k in EFFECT_METRICS}
    out: list = [None] * len(subjects)
    upright = subjects[0].mode == "upright"
    # each subject's model, and every problem of it at once, while its arrays are cached
    # (`problem.prepare`): relaxed standing, and psoas at its tone force and with the tension
    relaxed, staged = {}, {}
    for k, s in enumerate(subjects):
        try:
            model = fit_tone(build_model(s.subject, intervertebral=default_intervertebral_laws(s.disc_stiffness_scale),
                                         hip_stiffness_scale=s.hip_stiffness_scale))
        except BiomechError as exc:
            out[k] = empty | {"success": False, "message": f"model: {exc}"}
            continue
        standing = prepare(model, support=Support("standing"), short_range_stiffness=s.short_range_stiffness)
        if not upright:
            relaxed[k] = standing
        tone = _psoas_tone(standing)
        staged[k] = [prepare(model, support=Support("standing"), settings=_psoas_settings(model, *tone, tension),
                             short_range_stiffness=s.short_range_stiffness, locked_joints=() if upright else None)
                     for tension in (0.0, s.tension_N)]
    q0 = {k: None for k in staged}
    # relaxed standing itself (frozen tone, psoas with its stretch response) must exist
    for k, res in zip(relaxed, solve_equilibria(list(relaxed.values())) if relaxed else []):
        if res.success:
            q0[k] = res.q
        else:
            out[k] = empty | {"success": False, "message": f"relaxed standing: {res.message}"}
    live = [k for k in staged if out[k] is None]
    metrics: dict = {k: [] for k in live}
    for stage in (0, 1):
        problems = [staged[k][stage] for k in live]
        if upright:
            results = [solve_upright(p, UprightTarget(), criterion=subjects[k].criterion, q0=q0[k])
                       for k, p in zip(live, problems)]
        else:
            results = solve_equilibria(problems, q0=np.array([q0[k] for k in live])) if live else []
        for k, res in zip(live, results):
            if not res.success:
                what = "psoas at its tone force" if stage == 0 else f"psoas tone + {subjects[k].tension_N:g} N"
                out[k] = empty | {"success": False, "message": f"{what}: {res.message}"}
                continue
            metrics[k].append(_posture_metrics(res))
            q0[k] = res.q                 # continuation: the loaded posture starts from the reference
        live = [k for k in live if out[k] is None]
    for k in live:
        effect = dict(empty)
        for name in EFFECT_METRICS:
            effect[name] = metrics[k][0][name]
            effect[f"{name}_per_100N"] = (metrics[k][1][name] - metrics[k][0][name]) * 100.0 / subjects[k].tension_N
        out[k] = effect | {"success": True, "message": "solved"}
    return out


def _psoas_tone(relaxed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The psoas lines, the force of each line's tone in the relaxed reference posture of a
    standing problem ``relaxed`` (the lengths its stretch response is set at: no solve needed,
    and the upright mode does not use the frozen tone) and each line's share of a group tension
    (by F_max)."""
    model = relaxed.model
    lines = model.group_lines("psoas")
    f_max = np.asarray(model.max_isometric_force)[lines]
    return lines, muscle_forces(relaxed, relaxed.lines.L_ref)[lines], f_max / f_max.sum()


def _psoas_settings(model, lines, tone_force, share, tension: float) -> dict:
    """Each psoas line pulling with its tone force plus its share of ``tension`` (N)."""
    return {model.muscle_names[i]: MuscleSetting(tension_N=float(f0 + tension * w))
            for i, f0, w in zip(lines, tone_force, share)}


def _posture_metrics(res) -> dict:
    """The clinical metrics of a solved posture (deg), from its geometry alone (the metrics of
    `results.posture_report`, without the forces the study does not use)."""
    return clinical_metrics(res.problem, result_geometry(res))


