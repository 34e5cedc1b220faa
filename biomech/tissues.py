"""What the passive joint tissues carry, as a cost: the tissue term of the effort criterion.

A posture is chosen with least *effort* (docs/model.md §12), and the effort counts the passive
tissues of the spine as well as the muscles. Each muscle line costs ½ a², its force as a
fraction of what it can do; each spinal joint's passive tissues (disc, ligaments, facet
capsules) cost ½ (M_j / M_ref,j)², the moment they carry as a fraction of the moment they carry
at the end of their range of motion in that direction:

    E(q, a) = ½ Σ_i a_i² + w · ½ Σ_j (M_j(q) / M_ref,j)²,

w = `Criterion.tissue_weight` (default 1: a tissue at the end of its range costs what one muscle
line at full activation costs). The normalisation by capacity is the idea of discomfort
criteria built on joint angles relative to their range (Yang J, Marler RT, Kim H, Arora J,
Abdel-Malek K (2004) SAE 2004-01-2175, V: "joint displacement" = squared normalised deviation
from neutral), applied to what the tissues *carry* rather than to the angle, as the muscle
term does; Stokes IAF, Gardner-Morse M (2001) J Biomech 34:733-740 (V) found that minimising
intervertebral forces or displacements with muscle stress reproduced the dorsal trunk EMG. No
published calibration of w against observed postures was found (docs/validation.md §7 shows
how the answers change with w = 0, 0.5, 1, 2).

M_ref,j: an intervertebral law's test moment, at which its range of motion is defined
(`passive.IntervertebralLaw.test_moment_Nm`). The term counts the spinal joints' tissues (discs,
ligaments, facet capsules: every joint with an intervertebral law). The hip, knee and ankle
laws (Riener & Edrich 1999) are left out: they are mostly the passive stretch of the muscles and
tendons crossing those joints (the paper's point is the coupling through the biarticular
muscles), which a person standing at ease leans on (Loram ID, Lakie M (2002) J Physiol
545:1041-1053, R: the ankle's intrinsic stiffness ≈ 90 % of the gravitational toppling
stiffness). Counted as a cost, they made least effort hold the ankles with the tibialis anterior
and the knees with the vasti, the weight 16 mm ahead of the ankles; people stand with the soleus
weakly active, the tibialis anterior silent (Okada M, Fujiwara K (1984) J Hum Ergol 13:97-106,
V, abstract) and the centre of pressure ≈ 5 cm ahead of the ankles (docs/validation.md §4, §7).
"""

from __future__ import annotations

import numpy as np

from .passive import IntervertebralLaw


def reference_moments(model) -> np.ndarray:
    """(2, n_joints) M_ref of every joint's passive tissues in the effort (N·m, > 0): row 0 for a
    moment M > 0 on the superior body, row 1 for M < 0; NaN for a joint the term leaves out (no
    intervertebral law: the hip, knee and ankle, module docstring)."""
    out = np.full((2, model.n_joints), np.nan)
    for j, law in enumerate(model.passive):
        if isinstance(law, IntervertebralLaw):
            out[:, j] = law.test_moment_Nm
    return out


def tissue_cost(M: np.ndarray, dM: np.ndarray, m_ref: np.ndarray, joints: np.ndarray):
    """½ Σ (M_j / M_ref,j)² over ``joints`` and its gradient ∂/∂q (n_joints,), from the passive
    moments M (n_joints,), their slopes dM/dq_j (n_joints,) and M_ref (2, n_joints)."""
    ref = np.where(M[joints] >= 0.0, m_ref[0, joints], m_ref[1, joints])
    x = M[joints] / ref
    grad = np.zeros(len(M))
    grad[joints] = x / ref * dM[joints]
    return 0.5 * float(x @ x), grad


def tissue_curvature(M: np.ndarray, dM: np.ndarray, d2M: np.ndarray, m_ref: np.ndarray,
                     joints: np.ndarray) -> np.ndarray:
    """The diagonal (n_joints,) of the Hessian ∂²/∂q² of `tissue_cost` (each joint's moment
    depends on its own angle): (M′² + M M″) / M_ref² over ``joints``, from the moments, their
    slopes and their curvatures d²M/dq² (n_joints,) N·m/rad²."""
    ref = np.where(M[joints] >= 0.0, m_ref[0, joints], m_ref[1, joints])
    out = np.zeros(len(M))
    out[joints] = (dM[joints] ** 2 + M[joints] * d2M[joints]) / ref ** 2
    return out
