"""Passive joint tissues: intervertebral moment–angle laws and the hip's passive moment.

All functions return the moment (N·m) that the joint's passive tissues exert on the
**superior** body, counter-clockwise positive (extension for the spine, posterior pelvic tilt at
the hip), and its derivative with respect to the joint angle (N·m/rad).
"""

from __future__ import annotations

import math
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
    k0, ae, te, af, tf = np.moveaxis(coeffs, -1, 0)
    # g(x) = eˣ − 1 − x and g′ = eˣ − 1 for x > 0, 0 elsewhere: at x⁺ = max(x, 0) both
    # expressions are exactly 0 where x ≤ 0
    xe, xf = np.maximum(theta / te, 0.0), np.maximum(-theta / tf, 0.0)
    ee, ef = np.expm1(xe), np.expm1(xf)
    m = -k0 * theta - ae * (ee - xe) + af * (ef - xf)
    dm = -k0 - ae * ee / te - af * ef / tf
    return m, dm


def intervertebral_curvature(coeffs: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """d²M/dθ² (n,) N·m/rad² of `intervertebral_moment` (same arguments): with g(x) = eˣ − 1 − x
    for x > 0, g″ = eˣ there and 0 elsewhere, M″ = −A_e g″(θ/θ_e)/θ_e² + A_f g″(−θ/θ_f)/θ_f²."""
    k0, ae, te, af, tf = np.moveaxis(coeffs, -1, 0)
    xe, xf = theta / te, -theta / tf
    return (-ae * np.where(xe > 0, np.exp(np.minimum(xe, 700.0)), 0.0) / te ** 2
            + af * np.where(xf > 0, np.exp(np.minimum(xf, 700.0)), 0.0) / tf ** 2)


def intervertebral_energy(coeffs: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Strain energy (J) stored at angle theta: ``−∫ M dθ`` from 0 (n,)."""
    k0, ae, te, af, tf = np.moveaxis(coeffs, -1, 0)

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
# Thoracic and cervical joints (issue 13). Each thoracic joint of the model stands for the four
# motion segments of one region, the ribs included: T8_T9 for T8/T9-T11/T12, T4_T5 for
# T4/T5-T7/T8. Per segment, flexion-extension range of motion 6-8° (flexion + extension,
# symmetric, with the costovertebral joints) at ±7.5 N·m, no preload, at every level below T2
# (Wilke HJ, Herkommer A, Werner K, Liebsch C (2017) PLoS One 12:e0177823, V): 7°, four in
# series, 28° per region; the intact rib cage reduces it, removing the anterior rib cage raised
# the flexion-extension range by 52.2 % (Liebsch C et al. (2017) PLoS One 12:e0178733, V):
# 28° / 1.522 = 18.4°, ±9.2°. The in vivo preload stiffens the segments as in the lumbar spine
# (the factor 2.11 of `PRELOAD_STIFFENING`, ASSUMPTION for the thorax), so the range is reached
# at 2.11 × 7.5 N·m; the neutral-zone slope is the lumbar default's (0.45 N·m/° in vitro per
# segment, ×2.11), four segments in series. (Mannen EM et al. (2018) J Mech Behav Biomed Mater
# 84:258-264, PMC6016553, Table 2, V, give regional elastic-zone stiffnesses of 2.97 (T8/T12)
# and 4.74 N·m/° (T4/T8) with the rib cage under a 400 N follower load: read as N·m per degree
# of the region they would make it about five times stiffer than Wilke's segments in series; the
# unit of that table was not confirmed (R), so it is not used.)
# C7_T1 stands for the whole cervical spine with the occiput joints (the head-neck body is rigid)
# and, in series, the T1/T4 region (its blocks are rigid): range of motion in flexion-extension
# 40° (skull-C2) + 82° (C2-T1) = 122° (Vasavada AN, Li S, Delp SL (1998) Spine 23:412-422,
# Table 2, as tabulated in mjhmilla/kinematicPassengerModel, M), split equally into flexion and
# extension (ASSUMPTION), at the largest passive moment living subjects tolerated, 10 N·m
# (Bishop/McGill SM et al. (1994) Clin Biomech 9:193-198, V: "less than 10 N·m"); neutral-zone
# stiffness: the quasi-static flexion stiffness of one cervical motion segment, 1.03 N·m/° (Voo
# LM et al. (1998) J Biomech Eng 120:693-696, V), for six segments C2/C3-C7/T1 in series with
# the T1/T4 region's neutral-zone stiffness 1.05 N·m/° (Mannen 2018, the table whose unit was
# not confirmed, R): 1 / (6/1.03 + 1/1.05) ≈ 0.1475 N·m/°.
# ---------------------------------------------------------------------------------------------
THORACIC_TEST_MOMENT_NM = 7.5                      # Wilke et al. 2017
THORACIC_SEGMENT_ROM_DEG = 7.0                     # flexion + extension per segment, Wilke et al. 2017
THORACIC_RIB_CAGE_FACTOR = 1.0 + 0.522             # Liebsch et al. 2017
THORACIC_SEGMENTS_PER_JOINT = 4
CERVICAL_TEST_MOMENT_NM = 10.0
CERVICAL_ROM_DEG = (40.0 + 82.0) / 2.0
CERVICAL_K0_NM_PER_DEG = 1.0 / (6.0 / 1.03 + 1.0 / 1.05)


def default_trunk_laws() -> dict[str, IntervertebralLaw]:
    """The passive laws of the thoracic joints T8_T9 and T4_T5 and of the neck, C7_T1."""
    half = THORACIC_SEGMENTS_PER_JOINT * THORACIC_SEGMENT_ROM_DEG / THORACIC_RIB_CAGE_FACTOR / 2.0
    k0 = DEFAULT_K0_NM_PER_RAD / THORACIC_SEGMENTS_PER_JOINT
    thoracic = IntervertebralLaw(k0, half * RAD_PER_DEG, half * RAD_PER_DEG,
                                 THORACIC_TEST_MOMENT_NM).scaled(PRELOAD_STIFFENING)
    laws = {"T8_T9": thoracic, "T4_T5": thoracic}
    rom = CERVICAL_ROM_DEG * RAD_PER_DEG
    laws["C7_T1"] = IntervertebralLaw(CERVICAL_K0_NM_PER_DEG / RAD_PER_DEG, rom, rom, CERVICAL_TEST_MOMENT_NM)
    return laws


# ---------------------------------------------------------------------------------------------
# Hip, knee and ankle: Riener R, Edrich T (1999) Identification of passive elastic joint moments
# in the lower extremities. J Biomech 32:539-544 (abstract V), as implemented in public OpenSim
# MATLAB functions (reference pack §4.2 and docs/research notes; V-code): per leg, angles in
# degrees (φH hip flexion, φK knee flexion, φA ankle *plantar*flexion), moments in N·m,
#   M_hip   = exp(1.4655 − 0.0034 φK − 0.0750 φH) − exp(1.3403 − 0.0226 φK + 0.0305 φH) + 8.072
#   M_knee  = exp(1.800 − 0.0460 φA − 0.0352 φK + 0.0217 φH) − exp(−3.971 − 0.0004 φA
#             + 0.0495 φK − 0.0128 φH) − 4.820 + exp(2.220 − 0.150 φK)
#   M_ankle = exp(2.1016 − 0.0843 φA − 0.0176 φK) − exp(−7.9763 + 0.1949 φA + 0.0008 φK) − 1.792
# with M > 0 a hip flexion, knee flexion and ankle plantarflexion moment on the distal segment.
# They are measured on relaxed subjects, so they include the passive muscles at their normal
# resting length (docs/model.md §5). Each law depends on the neighbouring joints' angles through
# the two-joint muscles; biomech evaluates it with those angles held at the support's reference
# posture (SIMPLIFICATION: with them free the law would not derive from a potential, since its
# cross-derivatives differ, and the equilibrium solver needs a conservative model).
# ---------------------------------------------------------------------------------------------
RIENER_EDRICH_1999 = (1.4655, -0.0034, -0.0750, 1.3403, -0.0226, 0.0305, 8.072)
RIENER_EDRICH_1999_KNEE = (1.800, -0.0460, -0.0352, 0.0217, -3.971, -0.0004, 0.0495, -0.0128, -4.820,
                           2.220, -0.150)
RIENER_EDRICH_1999_ANKLE = (2.1016, -0.0843, -0.0176, -7.9763, 0.1949, 0.0008, -1.792)
LEG_JOINTS = ("hip", "knee", "ankle")


@dataclass(frozen=True)
class LegLaw(PassiveLaw):
    """The passive moment of the legs at the hip, the knee or the ankle, Riener & Edrich (1999),
    times ``scale`` (0-10: a subject's stiffness, e.g. a scenario's `hip_stiffness_scale`), for
    ``legs`` legs: 2 at a joint of the lumped legs (the default model), 1 at one leg's joint of a
    two-legged model (`legs.two_legs`)."""

    joint: str = "hip"
    scale: float = 1.0
    legs: int = 2

    def __post_init__(self):
        if self.joint not in LEG_JOINTS:
            raise ModelError(f"LegLaw.joint must be one of {', '.join(LEG_JOINTS)}, got {self.joint!r}")
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) or not 0.0 <= self.scale <= 10.0:
            raise ModelError(f"LegLaw.scale must be a number within 0-10, got {self.scale!r}")
        if self.legs not in (1, 2) or isinstance(self.legs, bool):
            raise ModelError(f"LegLaw.legs must be 1 or 2, got {self.legs!r}")

    @property
    def factor(self) -> float:
        """The multiplier of the per-leg law of `leg_passive_moment`: scale × legs / 2."""
        return self.scale * self.legs / 2.0


def leg_law_terms(joint: str, hip_flexion_rad: float, knee_flexion_rad: float,
                  ankle_plantarflexion_rad: float, scale: float = 1.0):
    """The passive moment of both legs at a joint, with its neighbours held at the given angles,
    as a sum of exponentials of the joint's coordinate q (rad): M(q) = Σ_k w_k e^(b_k q) + c on
    the superior body (dM/dq = Σ_k w_k b_k e^(b_k q)). Returns w (K,) N·m, b (K,) 1/rad and c
    N·m; each exponential of Riener & Edrich's law splits into its neighbours' part, a constant
    factor of w, and the joint's own (see `leg_passive_moment` for q and the signs)."""
    deg = 1.0 / RAD_PER_DEG
    phi_h, phi_k, phi_a = hip_flexion_rad * deg, knee_flexion_rad * deg, ankle_plantarflexion_rad * deg
    if joint == "hip":
        # q = −hip flexion; a flexion moment on the thigh is, by reaction, a clockwise
        # (anterior-tilt) moment on the pelvis: the law's moment with a minus sign
        a0, ak, ah, b0, bk, bh, c = RIENER_EDRICH_1999
        w, b, c = (-np.exp(a0 + ak * phi_k), np.exp(b0 + bk * phi_k)), (-ah * deg, -bh * deg), -c
    elif joint == "knee":
        # q = knee flexion; a flexion moment on the shank acts on the femur (the superior body)
        # as a moment that flexes the knee further: the femur turning counter-clockwise, q +
        a0, aa, ak, ah, b0, ba, bk, bh, c, d0, dk = RIENER_EDRICH_1999_KNEE
        w = (np.exp(a0 + aa * phi_a + ah * phi_h), -np.exp(b0 + ba * phi_a + bh * phi_h), math.exp(d0))
        b = (ak * deg, bk * deg, dk * deg)
    elif joint == "ankle":
        # q = plantarflexion; a plantarflexion moment on the foot acts on the shank (superior) as
        # a moment that plantarflexes further: the shank turning counter-clockwise on the foot
        a0, aa, ak, b0, ba, bk, c = RIENER_EDRICH_1999_ANKLE
        w, b = (np.exp(a0 + ak * phi_k), -np.exp(b0 + bk * phi_k)), (aa * deg, ba * deg)
    else:
        raise ModelError(f"leg joint must be one of {', '.join(LEG_JOINTS)}, got {joint!r}")
    return 2.0 * scale * np.array(w, float), np.array(b, float), 2.0 * scale * float(c)


def leg_passive_moment(joint: str, q, hip_flexion_rad: float, knee_flexion_rad: float,
                       ankle_plantarflexion_rad: float, scale: float = 1.0):
    """Passive moment of both legs at a joint on its superior body and its slope (per rad).

    q : the joint's coordinate (rad): hip = −hip flexion (posterior pelvic tilt on the femur),
        knee = knee flexion (the femur on the shank), ankle = plantarflexion (the shank on the
        foot). The other two angles are the neighbours' (rad, clinical signs), held fixed
        (the joint's own angle among them is not used).
    """
    w, b, c = leg_law_terms(joint, hip_flexion_rad, knee_flexion_rad, ankle_plantarflexion_rad, scale)
    e = w * np.exp(np.multiply.outer(np.asarray(q, float), b))
    return e.sum(-1) + c, e @ b


def hip_passive_moment(q_hip: float, knee_flexion_rad: float, scale: float = 1.0):
    """Passive moment of both hips on the pelvis and its slope (`leg_passive_moment` of the hip).

    Parameters
    ----------
    q_hip : hip coordinate (rad): posterior pelvic tilt on the femur, = −hip flexion.
    knee_flexion_rad : knee flexion (rad), + = flexed.
    scale : multiplies the moment (`LegLaw.scale`).

    Returns
    -------
    moment (N·m, on the pelvis, counter-clockwise +), slope (N·m/rad).
    """
    return leg_passive_moment("hip", q_hip, 0.0, knee_flexion_rad, 0.0, scale)
