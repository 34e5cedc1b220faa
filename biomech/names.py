"""The one vocabulary of biomech (conventions §2): bodies, joints, muscle groups, metrics.

BODIES and JOINTS name the bodies and joints of the *default* model (`anatomy.build_model`);
a model's own names, counts and order are ``model.bodies`` and ``model.joints``, which code
uses everywhere.
"""

BODIES = ("foot", "shank", "femur", "pelvis", "L5", "L4", "L3", "L2", "L1", "thorax_lower",
          "thorax_middle", "thorax_upper", "head")
"""Bodies of the default model, inferior to superior (both legs lumped: foot, shank, femur)."""

JOINTS = ("ankle", "knee", "hip", "L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1",
          "T8_T9", "T4_T5", "C7_T1")
"""Joints of the default model; each rotates its superior body relative to its inferior one
(counter-clockwise positive, the body facing +x: extension of the spine and neck, posterior
pelvic tilt at the hip, knee flexion, ankle plantarflexion of the shank on the foot, i.e.
the shank leaning back)."""

LEG_JOINTS = ("ankle", "knee", "hip")
SPINAL_JOINTS = JOINTS[3:]
LUMBAR_LEVELS = ("L1_L2", "L2_L3", "L3_L4", "L4_L5", "L5_S1")
THORACIC_JOINTS = ("T8_T9", "T4_T5")

MUSCLE_GROUPS = ("psoas", "iliacus", "rectus_abdominis", "external_oblique", "internal_oblique",
                 "transversus_abdominis", "erector_spinae", "multifidus", "quadratus_lumborum", "hamstrings",
                 "gluteus_maximus", "rectus_femoris", "vasti", "gastrocnemius", "soleus",
                 "tibialis_anterior", "neck_extensors", "neck_flexors")

METRICS = ("pelvic_incidence_deg", "sacral_slope_deg", "pelvic_tilt_deg", "lumbar_lordosis_deg",
           "anterior_pelvic_tilt_deg", "hip_flexion_deg", "trunk_inclination_deg",
           "sagittal_vertical_axis_mm", "thoracic_kyphosis_deg", "t1_pelvic_angle_deg",
           "head_angle_deg", "knee_flexion_deg", "ankle_dorsiflexion_deg",
           "thigh_inclination_deg", "centre_of_mass_mm", "centre_of_pressure_mm")
"""Scalar clinical metrics (conventions §3); `segmental_lordosis_deg` is per level."""

SUPPORTS = ("standing", "sitting", "lying")
