"""The one vocabulary of biomech (conventions §2): bodies, joints, muscle groups, metrics.

BODIES and JOINTS name the bodies and joints of the *default* model (`anatomy.build_model`);
a model's own names, counts and order are ``model.bodies`` and ``model.joints``, which code
uses everywhere.
"""

BODIES = ("femur", "pelvis", "L5", "L4", "L3", "L2", "L1", "thorax")
"""Bodies of the default model, inferior to superior."""

JOINTS = ("hip", "L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1")
"""Joints of the default model; each rotates its superior body relative to its inferior one
(counter-clockwise positive: extension of the spine, posterior pelvic tilt at the hip)."""

SPINAL_JOINTS = JOINTS[1:]
LUMBAR_LEVELS = ("L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1")

MUSCLE_GROUPS = ("psoas", "iliacus", "rectus_abdominis", "external_oblique", "internal_oblique",
                 "erector_spinae", "multifidus", "quadratus_lumborum", "hamstrings",
                 "gluteus_maximus", "rectus_femoris")

METRICS = ("pelvic_incidence_deg", "sacral_slope_deg", "pelvic_tilt_deg", "lumbar_lordosis_deg",
           "anterior_pelvic_tilt_deg", "hip_flexion_deg", "trunk_inclination_deg",
           "sagittal_vertical_axis_mm")
"""Scalar clinical metrics (conventions §3); `segmental_lordosis_deg` is per level."""

SUPPORTS = ("standing", "sitting", "lying")
