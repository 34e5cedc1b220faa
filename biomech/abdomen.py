"""The abdominal cavity as a pressure vessel, and the transversus abdominis that wraps it.

docs/model.md §6a has the physics. In short: the cavity is a cylinder of cross-section A whose
axis runs from its floor F (on the pelvis) to its roof D (the diaphragm, on the lower thorax). A
pressure P pushes roof and floor apart with the force P·A along the axis: a strut between the
thorax and the pelvis in front of the lumbar spine, whose generalized force is P·A ∂ℓ/∂q
(ℓ = |D − F|). The wall holds the pressure by its hoop tension in the transverse plane
(Laplace's law for a thin-walled cylinder, N = P r per unit height), so a hoop line of lumped
tension T (both sides) covering the height h of the wall makes P = T / (2 r h). The
transversus abdominis is that hoop (five fascicles, one on each lumbar vertebra): each path
lies in one transverse plane on one body, so its tension has no sagittal moment arm and acts on
the spine only through the pressure.

`with_abdomen(model)` adds both to a compiled model, from the model's own geometry in its
relaxed reference posture and the cited constants below.
"""

from __future__ import annotations

import math

import numpy as np

from . import kinematics as kin
from .model import Cavity, Model, replace

#: Cross-section of the abdominal cavity: the area on which the pressure pushes the diaphragm up
#: and the pelvic floor down, 465 cm² (Morris JM, Lucas DB, Bresler B (1961) J Bone Joint Surg Am
#: 43:327-351, the diaphragm area used by Chaffin's lifting model; R: seen second-hand in a public
#: model file that cites them, not in the paper). For the 1.70 m reference subject; ∝ height².
CAVITY_AREA_M2 = 0.0465
#: Transverse radius of curvature of the abdominal wall, ≈ 200 mm (Förstemann T et al. (2011)
#: J Biomech 44:600-606, MRI of the abdominal wall; V for the number, R for the author list): r of
#: the hoop law P = T / (2 r h). ∝ height.
HOOP_RADIUS_M = 0.200
#: Maximum isometric force of the transversus abdominis, one side (all five fascicles):
#: 5 × 0.52 cm² (2.6 cm²) at 90 N/cm² = 234 N, the AnyBody Managed Model Repository's trunk (AnyBody/ammr,
#: Body/AAUHuman/Trunk/MuscleParametersSpineSimpleRight.any and HumanModel.any; model
#: parameters read from the files, V). No measured human PCSA of the transversus was found
#: (Brown SHM et al. (2011) Spine 36:355-362 is the architectural source to check, R).
TRANSVERSUS_MAX_FORCE_N_PER_SIDE = 2.6 * 90.0
#: The group whose tension is hoop tension (docs/model.md §6a), and its lines: one fascicle on
#: each lumbar vertebra, as the five per side of the AnyBody trunk.
HOOP_GROUP = "transversus_abdominis"
HOOP_LINES = tuple(f"transversus_abdominis_L{k}" for k in range(1, 6))
#: Density of the abdominal contents (kg/m³), for their hydrostatic pressure at the pelvic floor:
#: that of water (ASSUMPTION; soft tissues and fluids are 1000-1060 kg/m³).
CONTENTS_DENSITY_KG_M3 = 1000.0


def with_abdomen(model: Model, lopt_src: list, lts_src: list, s: float) -> Model:
    """The model with its abdominal cavity and the transversus abdominis' five hoop lines
    appended (``lopt_src``, ``lts_src`` get a None for each: their l_opt and l_ts follow the
    neutral-length rule, `anatomy._with_muscle_parameters`). ``s``: the subject's length scale.

    The cavity's axis is built in the relaxed reference posture (the pelvis as in
    `anatomy._with_wall_landmarks`): it runs parallel to the lumbar chord (L5_S1 → T12_L1
    joint centres) through the point C midway between the anterior edge of the L3 endplate and
    the anterior abdominal wall at L3 (the rectus abdominis' via points on L3); the floor F is
    its point level (along it) with the centre of the pelvic inlet (midway between the sacral
    plate's midpoint and the pubic symphysis), the roof D its point level with the T12_L1 joint
    centre. F is fixed in the pelvis, D in the lower thorax (ASSUMPTIONS, docs/model.md §6a).
    """
    m = model
    pelvis, l3, thorax = (m.body_index(b) for b in ("pelvis", "L3", "thorax_lower"))
    S = kin.path_signs(m.joint_inferior, m.joint_superior, m.n_bodies, pelvis)
    ang, _, org, cen = kin.poses(S, m.joint_inferior, m.joint_superior, kin.as_complex(m.joint_in_inferior),
                                 kin.as_complex(m.joint_in_superior),
                                 np.asarray(m.reference_angle) + np.asarray(m.joint_offset), m.reference_pelvis_angle)
    org, cen = kin.as_real(org), kin.as_real(cen)

    def world(body, local):
        return kin.points_world(ang, org, np.array([body]), np.asarray(local, float)[None])[0]

    def local(body, point):
        return kin.rotation(-ang[body]) @ (np.asarray(point) - org[body])

    k = list(m.endplate_body).index(l3)
    plate = world(l3, m.endplate_mid[k])
    spine = plate + 0.5 * m.endplate_depth[k] * np.array([math.cos(ang[l3] + m.endplate_angle[k]),
                                                          math.sin(ang[l3] + m.endplate_angle[k])])
    ra = m.muscle_names.index("rectus_abdominis_main")
    on_l3 = [p for p in range(m.line_ptr[ra], m.line_ptr[ra + 1]) if m.pt_body[p] == l3]
    wall = np.mean([world(l3, m.pt_local[p]) for p in on_l3], axis=0)
    c = 0.5 * (spine + wall)
    axis = cen[m.joint_index("T12_L1")] - cen[m.joint_index("L5_S1")]
    axis /= np.linalg.norm(axis)
    lm = m.landmarks
    inlet = 0.5 * (world(*lm["S1_midpoint"]) + world(*lm["pubic_symphysis"]))
    floor = c + axis * float((inlet - c) @ axis)
    roof = c + axis * float((cen[m.joint_index("T12_L1")] - c) @ axis)
    cavity = Cavity(floor_body=pelvis, floor_point=tuple(map(float, local(pelvis, floor))), roof_body=thorax,
                    roof_point=tuple(map(float, local(thorax, roof))), area_m2=CAVITY_AREA_M2 * s * s,
                    hoop_radius_m=HOOP_RADIUS_M * s, wall_height_m=float(np.linalg.norm(roof - floor)),
                    half_depth_m=0.5 * float(np.linalg.norm(wall - spine)),
                    pressure_groups=(HOOP_GROUP,))
    # the hoop, one side, in five fascicles, one on each lumbar vertebra (the AnyBody trunk's
    # L1-L5 fascicles): from the vertebra's transverse process (the psoas' TP origin there: the
    # thoracolumbar fascia's attachment) through the flank to the linea alba, a half ellipse in
    # the transverse plane of area A/2, as deep as the cavity at L3 (from L3's transverse process
    # to the rectus abdominis line; ASSUMPTION for the other levels). In each vertebra's frame,
    # along its x axis: the hoop does not depend on the posture it is built in.
    tp3 = np.asarray(m.pt_local[m.line_ptr[m.muscle_names.index("psoas_L3_TP")]], float)
    depth = float(np.mean([m.pt_local[p][0] for p in on_l3]) - tp3[0])
    a = 0.5 * depth
    b = cavity.area_m2 / (math.pi * a)
    t = np.linspace(math.pi, 0.0, 7)
    fmax = TRANSVERSUS_MAX_FORCE_N_PER_SIDE * 2.0 * (m.subject.body_mass_kg / 75.0) ** (2.0 / 3.0) \
        * m.subject.muscle_strength_scale / len(HOOP_LINES)
    bodies, pts, z = [], [], []
    for vertebra in ("L1", "L2", "L3", "L4", "L5"):                  # HOOP_LINES, in order
        tp = m.line_ptr[m.muscle_names.index(f"psoas_{vertebra}_TP")]
        pts.append(np.asarray(m.pt_local[tp], float) + np.outer(a + a * np.cos(t), [1.0, 0.0]))
        z.append(b * np.sin(t))
        z[-1][0] = float(m.pt_z[tp])                                  # the transverse process
        bodies += [m.body_index(vertebra)] * len(t)
    k = len(HOOP_LINES)
    ptr = len(m.pt_body) + len(t) * np.arange(1, k + 1)
    lopt_src.extend([None] * k)
    lts_src.extend([None] * k)
    return replace(
        m, cavity=cavity, muscle_names=m.muscle_names + HOOP_LINES, muscle_group=m.muscle_group + (HOOP_GROUP,) * k,
        max_isometric_force=np.append(m.max_isometric_force, [fmax] * k),
        optimal_fiber_length=np.append(m.optimal_fiber_length, np.zeros(k)),
        tendon_slack_length=np.append(m.tendon_slack_length, np.zeros(k)), pennation=np.append(m.pennation, np.zeros(k)),
        excess_passive=np.append(m.excess_passive, np.zeros(k, bool)),
        parameter_source=m.parameter_source + ("AnyBody AMMR trunk (F_max); hoop path: biomech (D)",) * k,
        line_ptr=np.append(m.line_ptr, ptr), pt_body=np.append(m.pt_body, bodies),
        pt_local=np.vstack([m.pt_local, *pts]), pt_z=np.append(m.pt_z, np.concatenate(z)),
        pt_condition=np.vstack([m.pt_condition, np.zeros((k * len(t), 3))]),
        pt_sacral=np.append(m.pt_sacral, np.zeros(k * len(t), bool)))


def floor_pressure(problem, geo, pressure_Pa: float) -> float:
    """The pressure at the cavity's floor F (Pa), what a bladder or rectal catheter reads: the
    wall's pressure, which holds at the top of the contents, plus their hydrostatic head from
    that top down to F (docs/model.md §6a). The top is the highest point of the cavity's
    sagittal section, the ellipse through F and the roof D (its axis, half-length ℓ/2) and the
    walls ``half_depth_m`` = a either side of it: with ``up`` the unit vector against gravity,
    e the axis F → D and n its normal, the top is up·(F + D)/2 + √((ℓ/2 up·e)² + (a up·n)²).
    Standing this is the roof, lying supine the anterior wall (a above the axis, where F lies:
    the mid-axillary zero of a clinical measurement). Gravity across the sagittal plane (lying
    on the side) gives no head: the cavity's lateral width is not modelled. ``nan`` without a
    cavity."""
    if not len(geo.cavity):
        return math.nan
    f, d = geo.cavity
    g = float(np.linalg.norm(problem.gravity))
    if g == 0.0:
        return pressure_Pa
    up = -np.asarray(problem.gravity, float) / g
    length = float(np.linalg.norm(d - f))
    half, e = 0.5 * length, (d - f) / length
    n = np.array([-e[1], e[0]])
    top = float(up @ (0.5 * (f + d))) + math.hypot(half * float(up @ e),
                                                   problem.model.cavity.half_depth_m * float(up @ n))
    return pressure_Pa + CONTENTS_DENSITY_KG_M3 * g * (top - float(up @ f))
