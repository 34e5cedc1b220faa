"""Passive joint tissues: intervertebral moment–angle laws and the hip's passive moment.

All functions return the moment (N·m) that the joint's passive tissues exert on the
**superior** body, counter-clockwise positive (extension for the spine, posterior pelvic tilt at
the hip), and its derivative with respect to the joint angle (N·m/rad).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .units import RAD_PER_DEG


class PassiveLaw:
    """Base class of the passive moment-angle laws a joint may have (`Model.passive`)."""


@dataclass(frozen=True)
class IntervertebralLaw(PassiveLaw):
    """Nonlinear moment–angle law of one motion segment (docs/model.md §5).

    ``M(θ) = −k0 θ − A_e g(θ/θ_e) + A_f g(−θ/θ_f)``, ``g(x) = eˣ − 1 − x`` for x > 0, else 0.

    Parameters
    ----------
    k0_Nm_per_rad : neutral-zone stiffness.
    rom_extension_rad, rom_flexion_rad : range of motion (> 0) reached at ``test_moment_Nm``.
    test_moment_Nm : pure moment of the in vitro test that defines the range of motion.
    curvature : θ_c = ROM / curvature; the exponential part reaches g(curvature) at the ROM.
        Default 4: ASSUMPTION (a shape parameter, not fitted to data): the law stays soft over
        the neutral zone and stiffens sharply over the last quarter of the range, the
        qualitative shape of in vitro moment-angle curves (e.g. Heuer F et al. (2007) J Biomech
        40:271-280, R).
    """

    k0_Nm_per_rad: float
    rom_extension_rad: float
    rom_flexion_rad: float
    test_moment_Nm: float
    curvature: float = 4.0

    def __post_init__(self):
        for name in ("rom_extension_rad", "rom_flexion_rad", "test_moment_Nm", "curvature"):
            if not getattr(self, name) > 0:
                raise ModelError(f"IntervertebralLaw.{name} must be > 0, got {getattr(self, name)}")
        if self.k0_Nm_per_rad < 0:
            raise ModelError(f"IntervertebralLaw.k0_Nm_per_rad must be >= 0, got {self.k0_Nm_per_rad}")
        for rom in (self.rom_extension_rad, self.rom_flexion_rad):
            if self.k0_Nm_per_rad * rom >= self.test_moment_Nm:
                raise ModelError("IntervertebralLaw: the neutral-zone stiffness alone exceeds the "
                                 "test moment within the range of motion; lower k0_Nm_per_rad")

    def _amplitude(self, rom: float) -> float:
        # A such that k0·ROM + A·g(curvature) = test moment
        c = self.curvature
        return (self.test_moment_Nm - self.k0_Nm_per_rad * rom) / (np.exp(c) - 1.0 - c)

    def scaled(self, factor: float) -> "IntervertebralLaw":
        """The same law with every moment multiplied by ``factor`` (> 0)."""
        if not factor > 0:
            raise ModelError(f"passive stiffness scale must be > 0, got {factor}")
        return IntervertebralLaw(self.k0_Nm_per_rad * factor, self.rom_extension_rad,
                                 self.rom_flexion_rad, self.test_moment_Nm * factor, self.curvature)

    def coefficients(self) -> tuple[float, float, float, float, float]:
        """(k0, A_e, θ_e, A_f, θ_f) in SI units."""
        te = self.rom_extension_rad / self.curvature
        tf = self.rom_flexion_rad / self.curvature
        return (self.k0_Nm_per_rad, self._amplitude(self.rom_extension_rad), te,
                self._amplitude(self.rom_flexion_rad), tf)


def _g(x):
    xp = np.maximum(x, 0.0)
    return np.where(x > 0, np.expm1(xp) - xp, 0.0), np.where(x > 0, np.expm1(xp), 0.0)


def intervertebral_moment(coeffs: np.ndarray, theta: np.ndarray):
    """Moment on the superior body and its slope for an array of levels.

    Parameters
    ----------
    coeffs : ndarray (n, 5) rows (k0, A_e, θ_e, A_f, θ_f).
    theta : ndarray (n,) joint angles from the stress-free angle (rad, extension +).

    Returns
    -------
    moment : ndarray (n,) N·m;  dmoment : ndarray (n,) N·m/rad.
    """
    k0, ae, te, af, tf = coeffs.T
    ge, dge = _g(theta / te)
    gf, dgf = _g(-theta / tf)
    m = -k0 * theta - ae * ge + af * gf
    dm = -k0 - ae * dge / te - af * dgf / tf
    return m, dm


def intervertebral_energy(coeffs: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Strain energy (J) stored at angle theta: ``−∫ M dθ`` from 0 (n,)."""
    k0, ae, te, af, tf = coeffs.T

    def big_g(x):  # ∫0^x g = e^x − 1 − x − x²/2 for x > 0
        xp = np.maximum(x, 0.0)
        return np.where(x > 0, np.expm1(xp) - xp - 0.5 * xp * xp, 0.0)

    return 0.5 * k0 * theta ** 2 + ae * te * big_g(theta / te) + af * tf * big_g(-theta / tf)


# ---------------------------------------------------------------------------------------------
# Default intervertebral laws.
#
# Range of motion per level under a pure moment of 10 N·m, in vitro, no preload: Yamamoto I,
# Panjabi MM, Crisco T, Oxland T (1989) Three-dimensional movements of the whole lumbar spine
# and lumbosacral joint. Spine 14(11):1256-1260, abstract (V; docs/references.md). Their neutral
# zones are 1.0-3.0° (flexion-extension). In vivo the segments carry the compressive preload of
# the upright trunk (L4/L5 ≈ 1.1 kN in standing: Callaghan JP, McGill SM (2001) Ergonomics
# 44:280-294, V), which stiffens them: ×1.71 at 250 N and ×2.11 at 500 N preload
# (Gardner-Morse MG, Stokes IAF (2004) J Biomech 37:205-212, V). The default law is the in
# vitro law multiplied by the 500 N factor 2.11, so the Yamamoto ROM is reached at 2.11 × 10 N·m.
# Its in vitro neutral-zone slope, 0.45 N·m/deg, is an ASSUMPTION (no source): with the factor
# 2.11 it gives ≈ 0.95 N·m/deg near neutral in vivo, at the low end of the 1-3 N·m/deg
# flexion-extension stiffness under preload quoted in the reference pack §4.1 (R, value not
# re-checked against Gardner-Morse & Stokes 2004).
# ---------------------------------------------------------------------------------------------
DEFAULT_TEST_MOMENT_NM = 10.0
DEFAULT_K0_NM_PER_RAD = 0.45 / RAD_PER_DEG
PRELOAD_STIFFENING = 2.11
DEFAULT_ROM_DEG = {  # level: (extension, flexion) in degrees at 10 N·m, Yamamoto et al. 1989
    "L1_L2": (4.3, 5.8),
    "L2_L3": (4.3, 6.5),
    "L3_L4": (3.7, 7.5),
    "L4_L5": (5.8, 8.9),
    "L5_S1": (7.8, 10.0),
    # T12/L1 was not tested by Yamamoto et al.; taken equal to L1-L2 (assumption).
    "T12_L1": (4.3, 5.8),
}


def default_intervertebral_laws(scale: float = 1.0) -> dict[str, IntervertebralLaw]:
    """The default law of every spinal joint, keyed by joint name; ``scale`` (> 0) multiplies
    every moment (a subject's disc stiffness, e.g. a scenario's `disc_stiffness_scale`)."""
    laws = {j: IntervertebralLaw(DEFAULT_K0_NM_PER_RAD, e * RAD_PER_DEG, f * RAD_PER_DEG,
                                 DEFAULT_TEST_MOMENT_NM).scaled(PRELOAD_STIFFENING)
            for j, (e, f) in DEFAULT_ROM_DEG.items()}
    return laws if scale == 1.0 else {j: law.scaled(scale) for j, law in laws.items()}


# ---------------------------------------------------------------------------------------------
# Hip: Riener R, Edrich T (1999) Identification of passive elastic joint moments in the lower
# extremities. J Biomech 32:539-544, as implemented in a public OpenSim MATLAB function
# (reference pack §4.2, V): per leg,
#   M = exp(1.4655 − 0.0034 φK − 0.0750 φH) − exp(1.3403 − 0.0226 φK + 0.0305 φH) + 8.072
# with φH hip flexion and φK knee flexion in degrees and M > 0 a hip *flexion* moment (on the
# thigh). It is measured on relaxed subjects, so it includes the passive muscles at their
# normal resting length (docs/model.md §5).
# ---------------------------------------------------------------------------------------------
RIENER_EDRICH_1999 = (1.4655, -0.0034, -0.0750, 1.3403, -0.0226, 0.0305, 8.072)


@dataclass(frozen=True)
class HipLaw(PassiveLaw):
    """The passive moment of both hips, Riener & Edrich (1999) (`hip_passive_moment`), times
    ``scale`` (0-10: a subject's hip stiffness, e.g. a scenario's `hip_stiffness_scale`)."""

    scale: float = 1.0

    def __post_init__(self):
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) or not 0.0 <= self.scale <= 10.0:
            raise ModelError(f"HipLaw.scale must be a number within 0-10, got {self.scale!r}")


def hip_passive_moment(q_hip: float, knee_flexion_rad: float, scale: float = 1.0):
    """Passive moment of both hips on the pelvis and its slope.

    Parameters
    ----------
    q_hip : hip coordinate (rad): posterior pelvic tilt on the femur, = −hip flexion.
    knee_flexion_rad : knee flexion (rad), + = flexed.
    scale : multiplies the moment (`HipLaw.scale`).

    Returns
    -------
    moment (N·m, on the pelvis, counter-clockwise +), slope (N·m/rad).
    """
    a0, ak1, ah1, b0, bk, bh, c = RIENER_EDRICH_1999
    phi_h = -q_hip / RAD_PER_DEG
    phi_k = knee_flexion_rad / RAD_PER_DEG
    e1 = np.exp(a0 + ak1 * phi_k + ah1 * phi_h)
    e2 = np.exp(b0 + bk * phi_k + bh * phi_h)
    m_flex_on_thigh = e1 - e2 + c                       # per leg, + = hip flexion on the thigh
    dm_dphi = ah1 * e1 - bh * e2                        # per degree of hip flexion
    # A flexion moment on the thigh is, by reaction, a clockwise (anterior-tilt) moment on the
    # pelvis: hence the minus sign; dφH/dq = −1/RAD_PER_DEG; two legs.
    moment = -2.0 * scale * m_flex_on_thigh
    slope = -2.0 * scale * dm_dphi * (-1.0 / RAD_PER_DEG)
    return moment, slope
