"""biomech: a 2D sagittal static model of the lumbar spine, pelvis, femur and thorax.

Typical use::

    import biomech as bm
    model = bm.make_model(bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52))
    result = bm.solve_equilibrium(model, support=bm.Support("standing"),
                                  settings={"psoas": bm.MuscleSetting(tension_N=200)})
    report = bm.posture_report(result)
    report.metrics["lumbar_lordosis_deg"]

`make_model` is `fit_tone(build_model(subject))`: `build_model` compiles the anatomy,
`fit_tone` calibrates the relaxed-standing muscle tone on it (docs/architecture.md).
"""

__version__ = "0.1.0"

from .anatomy import build_model  # noqa: E402
from .errors import BiomechError, ConvergenceError, ModelError, ScenarioError  # noqa: E402
from .legs import two_legs  # noqa: E402
from .model import Model, Subject, attach_body  # noqa: E402
from .muscles import MuscleSetting  # noqa: E402
from .names import BODIES, JOINTS, METRICS, MUSCLE_GROUPS  # noqa: E402
from .passive import IntervertebralLaw, LegLaw, default_intervertebral_laws  # noqa: E402
from .problem import Problem, prepare  # noqa: E402
from .results import PostureReport, posture_report, to_dict  # noqa: E402
from .statics import (EquilibriumResult, generalized_forces, geometry, jacobian, residual,  # noqa: E402
                      solve_equilibrium, stiffness)
from .status import Status  # noqa: E402
from .supports import Leg, Load, Support  # noqa: E402
from .tone import fit_tone  # noqa: E402


def make_model(subject: Subject | None = None, **kwargs) -> Model:
    """The default model of a subject with its relaxed-standing tone: ``fit_tone(build_model(
    subject, **kwargs))`` (keywords as `build_model`: ``intervertebral``, ``hip_stiffness_scale``)."""
    return fit_tone(build_model(subject, **kwargs))


__all__ = [
    "BODIES", "JOINTS", "METRICS", "MUSCLE_GROUPS", "BiomechError", "ConvergenceError",
    "EquilibriumResult", "IntervertebralLaw", "Leg", "LegLaw", "Load", "Model", "ModelError",
    "MuscleSetting", "PostureReport", "Problem", "ScenarioError", "Status", "Subject", "Support",
    "attach_body", "build_model", "default_intervertebral_laws", "fit_tone", "generalized_forces",
    "geometry", "jacobian", "make_model", "posture_report", "prepare", "residual",
    "solve_equilibrium", "stiffness", "to_dict", "two_legs",
]
