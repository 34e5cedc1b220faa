"""biomech: a 2D sagittal static model of the lumbar spine, pelvis, femur and thorax.

Typical use::

    import biomech as bm
    model = bm.build_model(bm.Subject(body_mass_kg=75, height_m=1.75, pelvic_incidence_deg=52))
    result = bm.solve_equilibrium(model, support=bm.Support("standing"),
                                  settings={"psoas": bm.MuscleSetting(tension_N=200)})
    report = bm.posture_report(result)
    report.metrics["lumbar_lordosis_deg"]
"""

__version__ = "0.1.0"

from .errors import BiomechError, ConvergenceError, ModelError, ScenarioError  # noqa: E402
from .model import Model, Subject, build_model  # noqa: E402
from .muscles import MuscleSetting  # noqa: E402
from .names import BODIES, JOINTS, METRICS, MUSCLE_GROUPS  # noqa: E402
from .passive import IntervertebralLaw, default_intervertebral_laws  # noqa: E402
from .results import PostureReport, posture_report, to_dict  # noqa: E402
from .statics import EquilibriumResult, Load, Problem, Support, prepare, solve_equilibrium  # noqa: E402

__all__ = [
    "BODIES", "JOINTS", "METRICS", "MUSCLE_GROUPS", "BiomechError", "ConvergenceError",
    "EquilibriumResult", "IntervertebralLaw", "Load", "Model", "ModelError", "MuscleSetting",
    "PostureReport", "Problem", "ScenarioError", "Subject", "Support", "build_model",
    "default_intervertebral_laws", "posture_report", "prepare", "solve_equilibrium", "to_dict",
]
