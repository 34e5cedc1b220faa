"""What the passive joint tissues carry, as a cost: the tissue term of the effort criterion.

A posture is chosen with least *effort* (docs/model.md §12), and the effort counts the passive
tissues as well as the muscles. Each muscle line costs ½ a², its force as a fraction of what it
can do; each joint's passive tissues (discs, ligaments, capsules, the passive muscles a
Riener & Edrich law contains) cost ½ (M_j / M_ref,j)², the moment they carry as a fraction of
the moment they carry at the end of their range of motion in that direction:

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
(`passive.IntervertebralLaw.test_moment_Nm`); for the hip, knee and ankle, the Riener & Edrich
moment at the end of the normal active range of motion (`NORMAL_ROM_DEG`), the neighbouring
joints at the reference posture.
"""

from __future__ import annotations

import numpy as np

from .passive import IntervertebralLaw, LegLaw, leg_passive_moment
from .units import RAD_PER_DEG

#: End of the normal active range of motion (deg): (the end with q smallest, the end with q
#: largest) of each leg coordinate: hip q = −flexion (flexion 120°, extension 20°; Roach KE,
#: Miles TP (1991) Phys Ther 71:656-665, R: 121° and 19° in adults 25-39 y), knee flexion
#: (hyperextension 5°, flexion 140°; Roach & Miles 1991, R: 141° flexion; the 5° of passive
#: hyperextension an ASSUMPTION), ankle plantarflexion (dorsiflexion 15°, plantarflexion 55°;
#: Soucie JM et al. (2011) Haemophilia 17:500-507, R: 13-23° and 54-62° in adults).
NORMAL_ROM_DEG = {"hip": (-120.0, 20.0), "knee": (-5.0, 140.0), "ankle": (-15.0, 55.0)}


def reference_moments(model, leg_partner_rad) -> np.ndarray:
    """(2, n_joints) M_ref of every joint's passive tissues (N·m, > 0): row 0 for a moment
    M > 0 on the superior body, row 1 for M < 0; NaN for a joint without a passive law."""
    out = np.full((2, model.n_joints), np.nan)
    for j, law in enumerate(model.passive):
        if isinstance(law, IntervertebralLaw):
            out[:, j] = law.test_moment_Nm
        elif isinstance(law, LegLaw):
            low, high = (v * RAD_PER_DEG for v in NORMAL_ROM_DEG[law.joint])
            m_low = float(leg_passive_moment(law.joint, low, *leg_partner_rad, law.scale)[0])
            m_high = float(leg_passive_moment(law.joint, high, *leg_partner_rad, law.scale)[0])
            # a passive law is restoring: M > 0 at the low end, M < 0 at the high end
            out[0, j] = abs(m_low) if law.scale > 0 else np.inf
            out[1, j] = abs(m_high) if law.scale > 0 else np.inf
    return out


def tissue_cost(M: np.ndarray, dM: np.ndarray, m_ref: np.ndarray, joints: np.ndarray):
    """½ Σ (M_j / M_ref,j)² over ``joints`` and its gradient ∂/∂q (n_joints,), from the passive
    moments M (n_joints,), their slopes dM/dq_j (n_joints,) and M_ref (2, n_joints)."""
    ref = np.where(M[joints] >= 0.0, m_ref[0, joints], m_ref[1, joints])
    x = M[joints] / ref
    grad = np.zeros(len(M))
    grad[joints] = x / ref * dM[joints]
    return 0.5 * float(x @ x), grad
