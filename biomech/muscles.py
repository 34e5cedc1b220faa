"""Muscle force laws and muscle settings.

Geometry (paths, lengths, moment arms) lives in `statics.py`; this module holds what turns a
length into a tension. Positive tension is contractile: it pulls the ends of the path together.

    origin o----------o via -----------o insertion
            <-- T                T -->          (tension T >= 0 shortens the path)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import limits
from .errors import ModelError

# Thelen DG (2003) Adjustment of muscle mechanics model parameters to simulate dynamic
# contractions in older adults. J Biomech Eng 125:70-77: active force-length Gaussian width
# gamma = 0.45; passive force-length (exp(kPE (l - 1)/e0) - 1)/(exp(kPE) - 1) with kPE = 5,
# e0 = 0.6 for young adults (R: as implemented in OpenSim's Thelen2003Muscle defaults and
# ArtiSynth's Thelen2003AxialMuscle; the paper's Table 1 was not re-checked).
THELEN_GAMMA = 0.45
THELEN_KPE = 5.0
THELEN_E0 = 0.6

#: Muscle stiffness gain q in k = q F / l_fibre (dimensionless): the short-range stiffness of an
#: activated muscle, proportional to its active force over its fibre length (Bergmark A (1989)
#: Stability of the lumbar spine. Acta Orthop Scand Suppl 230, who used q ≈ 40 (R); Cholewicki J,
#: McGill SM (1996) Clin Biomech 11:1-15, who used a conservative q = 10 (R); Brown SHM, McGill SM
#: (2010) CMBBE 13:829-835 (V) found q to fall with activation). Default 40: with q = 10 or 20 the
#: default model's relaxed standing is unstable (docs/calibration.md); q is a scenario option.
DEFAULT_SHORT_RANGE_STIFFNESS = 40.0

#: Floor of the baseline activation of each group (the least tone every line keeps in relaxed
#: standing; `tone.baseline_activation` adds what holding the reference posture needs). EMG in
#: quiet standing: ≈ 1-5 % MVC for the lumbar extensors, ≈ 1-8 % for the obliques (internal
#: oblique the most active), a few % or less for rectus abdominis, psoas, gluteus maximus and
#: hamstrings (R, O'Sullivan PB et al. 2002 Spine 27:1238-1244; Snijders CJ, Ribbers MT, de
#: Bakker HV, Stoeckart R, Stam HJ (1998) J Electromyogr Kinesiol 8:205-214; Juker D et al. 1998
#: Med Sci Sports Exerc 30:301-310; docs/references.md). Torso muscles are continuously active
#: in relaxed standing ("Activity in torso muscles during relaxed standing", abstract V; most
#: likely Woodhull-McNeal AP (1986) Eur J Appl Physiol 55:419-424, authors and journal R,
#: docs/references.md).
DEFAULT_TONE = {
    "psoas": 0.02,
    "iliacus": 0.02,
    "rectus_abdominis": 0.01,
    "external_oblique": 0.01,
    "internal_oblique": 0.02,
    "erector_spinae": 0.03,
    "multifidus": 0.03,
    "quadratus_lumborum": 0.02,
    "hamstrings": 0.02,
    "gluteus_maximus": 0.01,
    "rectus_femoris": 0.01,
}


def force_length_active(lt: np.ndarray):
    """Thelen (2003) active force-length curve f_L(l̃) and its derivative."""
    f = np.exp(-((lt - 1.0) ** 2) / THELEN_GAMMA)
    return f, f * (-2.0 * (lt - 1.0) / THELEN_GAMMA)


def force_length_passive(lt: np.ndarray):
    """Thelen (2003) passive force-length curve f_PE(l̃) (zero below l̃ = 1) and its derivative."""
    x = np.maximum(lt - 1.0, 0.0)
    den = math.expm1(THELEN_KPE)
    f = np.expm1(THELEN_KPE * x / THELEN_E0) / den
    df = np.where(lt > 1.0, THELEN_KPE / THELEN_E0 * np.exp(THELEN_KPE * x / THELEN_E0) / den, 0.0)
    return f, df


@dataclass(frozen=True)
class MuscleSetting:
    """How a scenario sets one muscle group or line: exactly one of the three ways.

    Parameters
    ----------
    tension_N : a fixed tension along the path (N, >= 0); for a group, shared among its lines
        in proportion to their maximum isometric force. No stiffness.
    activation : 0-1, through the Hill-type law with short-range stiffness.
    resting_length_scale : 0.5-1.5; multiplies the optimal fibre length only (the number of
        sarcomeres in series; the tendon slack length is unchanged, docs/model.md §6):
        < 1 = "tight", adaptively shortened; > 1 = "long". The muscle keeps its default
        activation.
    """

    tension_N: float | None = None
    activation: float | None = None
    resting_length_scale: float | None = None

    def __post_init__(self):
        given = [k for k in ("tension_N", "activation", "resting_length_scale")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ModelError("a muscle setting needs exactly one of tension_N, activation, "
                             f"resting_length_scale; got {given or 'none'}")
        limits.check("MuscleSetting", f"muscles.{given[0]}", getattr(self, given[0]))

    @property
    def kind(self) -> str:
        return next(k for k in ("tension_N", "activation", "resting_length_scale")
                    if getattr(self, k) is not None)
