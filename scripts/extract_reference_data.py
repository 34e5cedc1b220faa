"""Extract the default model's geometry and muscle data from the reference pack.

What it answers: which numbers of `docs/reference/lumbopelvic_sources.json` (the project's copy
of the reference pack, docs/reference/README.md) the default biomech model uses, expressed in
biomech's body frames, with the source of each.

It writes `biomech/data/lumbopelvic.json` (committed; the package never reads the reference
pack at run time). Run it again after the reference pack changes:

    python scripts/extract_reference_data.py [--reference PATH] [--out PATH]

Frame handling (reference pack §1.1): Lumbar_C_210 welds the pelvis frame 0.049 m above the
sacrum frame. biomech's `pelvis` body uses the *pelvis* (gait2392) frame, so sacrum-frame points
(Christophy joint locations, multifidus and LTpT/LTpL_L5 caudal points) get y - 0.049, and the
MyoTorso points that the pack classifies as pelvis-frame keep their stored coordinates.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_REFERENCE = ROOT / "docs" / "reference" / "lumbopelvic_sources.json"
DEFAULT_OUT = ROOT / "biomech" / "data" / "lumbopelvic.json"
DEFAULT_LEGS_TRUNK_REFERENCE = ROOT / "docs" / "reference" / "legs_trunk_sources.json"
DEFAULT_LEGS_TRUNK_OUT = ROOT / "biomech" / "data" / "legs_trunk.json"

#: pelvis frame = sacrum frame + (0, PELVIS_ABOVE_SACRUM_M); Lumbar_C_210 ground welds at
#: y = 0.979 (pelvis) and 0.930 (sacrum) m (reference pack §1.1, tag M).
PELVIS_ABOVE_SACRUM_M = 0.049

CHRISTOPHY_BODY = {"lumbar5": "L5", "lumbar4": "L4", "lumbar3": "L3", "lumbar2": "L2",
                   "lumbar1": "L1", "torso": "thorax"}

#: Origin of MyoTorso's massless "Abdomen" body in the sacrum frame, as implied by the Bruno et
#: al. 2015 model builder (reference pack §1.4, "≈ (0.024, 0.173)"; tagged uncertain there).
ABDOMEN_ORIGIN_SACRUM = (0.024, 0.173)
#: biomech carries the abdominal-wall points on L3 (docs/model.md §11).
ABDOMEN_CARRIER = "L3"

GROUP_OF = {
    "psoas_major": "psoas",
    "rectus_abdominis": "rectus_abdominis",
    "external_oblique": "external_oblique",
    "internal_oblique": "internal_oblique",
    "iliocostalis_lumborum_pars_lumborum": "erector_spinae",
    "iliocostalis_lumborum_pars_thoracis": "erector_spinae",
    "longissimus_thoracis_pars_lumborum": "erector_spinae",
    "longissimus_thoracis_pars_thoracis": "erector_spinae",
    "multifidus": "multifidus",
    "quadratus_lumborum": "quadratus_lumborum",
}


def _r(v: float) -> float:
    return round(float(v), 6)


def line_name(src: str, group: str) -> str:
    """biomech line name `<group>_<detail>` from a MyoTorso muscle name."""
    base = src[:-2] if src.endswith("_r") else src
    if group == "psoas":
        return "psoas_" + base[len("Ps_"):]
    if group == "erector_spinae":
        return "erector_spinae_" + base
    if group == "multifidus":
        return "multifidus_" + base[len("MF_"):].replace(".", "_")
    if group == "quadratus_lumborum":
        return "quadratus_lumborum_" + base[len("QL_"):].replace(".", "_").replace("-", "_")
    if group in ("external_oblique", "internal_oblique"):
        return f"{group}_{base[2:]}"
    if group == "rectus_abdominis":
        return "rectus_abdominis_main"
    raise ValueError(src)


def extract(ref: dict) -> dict:
    chris = ref["christophy"]["bodies"]
    sources = {s["id"]: {k: s[k] for k in ("repo", "path", "commit") if k in s} | {"note": s.get("note", "")}
               for s in ref["meta"]["sources"]}

    # ---- bodies: origin of each Christophy frame in the pelvis frame at the neutral
    # configuration (all Christophy coordinates zero: every frame has the pelvis orientation).
    origins = {}
    for cname, name in CHRISTOPHY_BODY.items():
        x, y = chris[cname]["neutral_origin_in_sacrum_xy"]
        origins[name] = [_r(x), _r(y - PELVIS_ABOVE_SACRUM_M)]
    com = {}
    for cname, name in CHRISTOPHY_BODY.items():
        com[name] = [_r(v) for v in chris[cname]["com_xy_body"]]
    mass = {CHRISTOPHY_BODY[c]: chris[c]["mass_kg"] for c in CHRISTOPHY_BODY}
    mass["pelvis"] = chris["sacrum"]["mass_kg"]

    # joint centres: location in the parent frame (pelvis frame for L5_S1)
    joints = {}
    for cname, jname in [("lumbar5", "L5_S1"), ("lumbar4", "L4_L5"), ("lumbar3", "L3_L4"),
                         ("lumbar2", "L2_L3"), ("lumbar1", "L1_L2")]:
        px, py = chris[cname]["joint_loc_in_parent_xy"]
        cx, cy = chris[cname]["joint_loc_in_child_xy"]
        if jname == "L5_S1":
            py -= PELVIS_ABOVE_SACRUM_M  # parent is the sacrum: into the pelvis frame
        joints[jname] = {"in_parent_m": [_r(px), _r(py)], "in_child_m": [_r(cx), _r(cy)]}

    bruno = ref["bruno_thoracolumbar_neutral_joint_orientations_rad"]

    # ---- lumbar muscles (MyoTorso sites in original OpenSim frames)
    lines = []
    for src, m in ref["lumbar_muscles_right"].items():
        group = GROUP_OF[m["group"]]
        pts = []
        for p in m["points"]:
            if "site" not in p:
                continue  # MyoTorso wrapping surface: not modelled (docs/model.md §11)
            x, y = p["xy_body"]
            body = p["body"]
            if body == "sacrum":
                if p.get("inferred_original_body") == "pelvis":
                    pass  # pelvis-frame coordinate already
                else:
                    y -= PELVIS_ABOVE_SACRUM_M  # sacrum-frame coordinate into the pelvis frame
                tag = "sacrum" if p.get("inferred_original_body") != "pelvis" else "pelvis"
                pts.append({"body": "pelvis", "xy_m": [_r(x), _r(y)], "z_m": _r(p["z"]),
                            "part": tag})
            elif body == "Abdomen":
                ax, ay = ABDOMEN_ORIGIN_SACRUM
                ox, oy = chris["lumbar3"]["neutral_origin_in_sacrum_xy"]
                pts.append({"body": ABDOMEN_CARRIER, "xy_m": [_r(x + ax - ox), _r(y + ay - oy)],
                            "z_m": _r(p["z"]), "part": "abdominal_wall"})
            else:
                pts.append({"body": CHRISTOPHY_BODY[body], "xy_m": [_r(x), _r(y)], "z_m": _r(p["z"])})
        lines.append({"name": line_name(src, group), "group": group, "source_name": src,
                      "source": "myotorso", "points": pts,
                      "max_isometric_force_N_per_side": m["myotorso_Fmax_N"]})

    # ---- hip muscles: gait2392 (same pelvis frame as Lumbar_C_210)
    g = ref["lower_limb"]["gait2392"]
    hip_names = {"semimem_r": "hamstrings_semimembranosus", "semiten_r": "hamstrings_semitendinosus",
                 "bifemlh_r": "hamstrings_biceps_femoris_long", "glut_max1_r": "gluteus_maximus_1",
                 "glut_max2_r": "gluteus_maximus_2", "glut_max3_r": "gluteus_maximus_3",
                 "iliacus_r": "iliacus_main"}
    frame_map = {"pelvis": "pelvis", "femur_r": "femur", "tibia_r": "tibia"}
    for src, name in hip_names.items():
        m = g["muscles"][src]
        pts = []
        for p in m["points"]:
            pt = {"body": frame_map[p["frame"]], "xy_m": [_r(v) for v in p["xy"]], "z_m": _r(p["z"])}
            if p["type"] == "ConditionalPathPoint":
                lo, hi = (float(v) for v in p["active_range_rad"].split())
                pt["active_range_rad"] = [_r(lo), _r(hi)]  # gait2392 coordinate of the joint it spans
            pts.append(pt)
        lines.append({"name": name, "group": name.rsplit("_", 1)[0] if name.startswith("gluteus") else name.split("_")[0],
                      "source_name": src, "source": "gait2392", "points": pts,
                      "max_isometric_force_N_per_side": m["Fmax_N"], "optimal_fiber_length_m": m["lopt_m"],
                      "tendon_slack_length_m": m["lts_m"], "pennation_rad": m["pennation_rad"]})
    for ln in lines:
        if ln["name"] == "iliacus_main":
            ln["group"] = "iliacus"
        if ln["name"].startswith("hamstrings"):
            ln["group"] = "hamstrings"
        if ln["name"].startswith("gluteus_maximus"):
            ln["group"] = "gluteus_maximus"

    # rectus femoris: gait2392 origin and parameters; its patella-borne moving path point is
    # replaced by the distal anterior femur point of gait2392 (used there as a conditional point
    # in deep knee flexion) kept active, and the tibial tuberosity insertion of Rajagopal 2016.
    rf = g["muscles"]["rect_fem_r"]
    raj_rf = ref["lower_limb"]["rajagopal2016"]["muscles"]["recfem_r"]
    rf_pts = [{"body": "pelvis", "xy_m": [_r(v) for v in rf["points"][0]["xy"]], "z_m": _r(rf["points"][0]["z"])},
              {"body": "femur", "xy_m": [_r(v) for v in rf["points"][1]["xy"]], "z_m": _r(rf["points"][1]["z"])},
              {"body": "tibia", "xy_m": [_r(v) for v in raj_rf["points"][-1]["xy"]], "z_m": _r(raj_rf["points"][-1]["z"])}]
    lines.append({"name": "rectus_femoris_main", "group": "rectus_femoris", "source_name": "rect_fem_r",
                  "source": "gait2392+rajagopal2016", "points": rf_pts,
                  "max_isometric_force_N_per_side": rf["Fmax_N"], "optimal_fiber_length_m": rf["lopt_m"],
                  "tendon_slack_length_m": rf["lts_m"], "pennation_rad": rf["pennation_rad"]})

    # psoas: MyoTorso fascicles end at the pelvic brim; continue each to the lesser trochanter
    # along gait2392's psoas_r path (brim point identical in both models, pack §1.1).
    gpsoas = g["muscles"]["psoas_r"]["points"]
    femoral_part = []
    for p in gpsoas[2:]:
        pt = {"body": frame_map[p["frame"]], "xy_m": [_r(v) for v in p["xy"]], "z_m": _r(p["z"])}
        if p["type"] == "ConditionalPathPoint":
            lo, hi = (float(v) for v in p["active_range_rad"].split())
            pt["active_range_rad"] = [_r(lo), _r(hi)]
        femoral_part.append(pt)
    for ln in lines:
        if ln["group"] == "psoas":
            ln["points"] = ln["points"] + femoral_part
            ln["source"] = "myotorso+gait2392"

    # rectus abdominis: MyoTorso replaced Lumbar_C_210's via points by a wrap cylinder; biomech
    # routes it along the abdominal wall through two via points carried on L3 (pack §1.4: "a 2D
    # model needs an RA/oblique via point ~10-14 cm anterior of L3/L4"). Sacrum-frame (x, y, z):
    # x on the line of the abdominal-wall (linea alba) points of the obliques, x ≈ 0.025-0.031 m
    # (M, MyoTorso EO/IO "Abdomen" sites placed with the Bruno-implied Abdomen origin above);
    # y = 0.12 and 0.20 m, ASSUMPTION: two points spread over the span of those oblique wall
    # points (y ≈ 0.13-0.24 m), between the RA's pubic origin (y ≈ -0.05) and its ribcage
    # insertion (y ≈ 0.33); z = -0.02 and -0.03 m, ASSUMPTION: the RA's own origin (-0.011) and
    # insertion (-0.034) z interpolated linearly at those heights and rounded to 1 cm (z only
    # places the line for drawing; the model is sagittal).
    ox, oy = chris["lumbar3"]["neutral_origin_in_sacrum_xy"]
    for ln in lines:
        if ln["group"] == "rectus_abdominis":
            via = [{"body": ABDOMEN_CARRIER, "xy_m": [_r(x - ox), _r(y - oy)], "z_m": _r(z),
                    "part": "abdominal_wall"} for x, y, z in ((0.025, 0.12, -0.02), (0.030, 0.20, -0.03))]
            ln["points"] = [ln["points"][0]] + via + ln["points"][1:]

    lines.sort(key=lambda ln: (list(GROUP_ORDER).index(ln["group"]), ln["name"]))

    landmarks = ref["landmarks"]
    return {
        "description": "biomech default lumbopelvic model geometry, extracted by "
                       "scripts/extract_reference_data.py from the shared reference pack. "
                       "Frames: pelvis = gait2392/Lumbar_C_210 pelvis frame; L5..L1, thorax = "
                       "Lumbar_C_210 body frames; femur = gait2392 femur frame; tibia = gait2392 "
                       "tibia frame; all x anterior, y superior, m. Muscle forces per side.",
        "sources": sources,
        "pelvis_above_sacrum_m": PELVIS_ABOVE_SACRUM_M,
        "pelvis_above_sacrum_note": "Lumbar_C_210 (source christophy_skeleton) welds the pelvis to "
                                    "ground at y = 0.979 m and the sacrum at y = 0.930 m: pelvis "
                                    "frame = sacrum frame + (0, 0.049) m, same orientation "
                                    "(reference pack §1.1, M).",
        "christophy": {"source": "christophy_skeleton: Christophy M, Faruk Senan NA, Lotz JC, "
                                 "O'Reilly OM (2012) Biomech Model Mechanobiol 11:19-34 "
                                 "(Lumbar_C_210), reference pack §1.1-1.2 (M)",
                       "origin_in_pelvis_m": origins, "com_in_body_m": com, "mass_kg": mass,
                       "joints": joints,
                       "subject": "1.70 m male (reference pack §1.2, M/R)"},
        "bruno_axis_orientation_rad": {
            "note": "Bruno et al. 2015 (J Biomech Eng 137:081003) neutral orientation of each "
                    "child vertebra frame in its parent (+ = extension), reference pack §1.3.",
            **{k: bruno[k] for k in ("L5_S1", "L4_L5", "L3_L4", "L2_L3", "L1_L2", "T12_L1")}},
        "bruno_joint_height_m": {
            "note": "Bruno AG, Bouxsein ML, Anderson DE (2015) J Biomech Eng 137:081003, as coded "
                    "in a public C++ model builder: location (x, y; m) of each joint in its parent "
                    "vertebra's frame, reference pack §1.3 (M). Bruno's model is Lumbar_C_210 "
                    "scaled by 0.883 (its sacrum->pelvis weld is 0.043263 m against Lumbar_C_210's "
                    "0.049 m, pack §1.1): divide by 0.883 for Lumbar_C_210 (1.70 m) size.",
            **{k: v for k, v in bruno["joint_loc_in_parent_xy"].items()}},
        "gait2392": {"source": "gait2392: Delp SL et al. (1990) IEEE Trans Biomed Eng 37:757-767 "
                               "geometry, opensim-org/opensim-models gait2392_thelen2003muscle.osim, "
                               "reference pack §1.6 (M)",
                     "hip_centre_in_pelvis_m": g["hip_centre_in_pelvis_xy"],
                     "knee_in_femur_m": g["knee_tibia_origin_in_femur_at_0deg_xy"],
                     "bodies": g["bodies"]},
        "rajagopal_landmarks": {"source": "rajagopal2016: Rajagopal A et al. (2016) IEEE Trans "
                                          "Biomed Eng 63:2068-2079, marker set of Rajagopal2016.osim "
                                          "(opensim-org/opensim-models), reference pack JSON `landmarks` (M)",
                                "pelvis_frame": landmarks["pelvis_frame"],
                                "torso_frame": landmarks["torso_frame"]},
        "muscles": lines,
    }


GROUP_ORDER = ("psoas", "iliacus", "rectus_abdominis", "external_oblique", "internal_oblique",
               "erector_spinae", "multifidus", "quadratus_lumborum", "hamstrings", "gluteus_maximus",
               "rectus_femoris")


# ---------------------------------------------------------------------------------------------
# Legs below the knee, the thoracic segments, the head-neck and the arms (issue 13), from the
# project's copy of the model-file extracts `docs/reference/legs_trunk_sources.json` (its summary:
# docs/reference/legs_trunk.md). Frames: shank = gait2392 tibia frame; foot = the talus frame
# (origin at the ankle centre, parallel to the tibia at ankle angle 0: gait2392 calcn coordinates
# + the subtalar offset); thoracic segments and head: the Lumbar_C_210 torso orientation
# (parallel to the pelvis frame at the neutral configuration), origins at each segment's
# inferior joint.

#: gait2392 muscles that cross the knee or the ankle (the hamstrings and rectus femoris are in
#: the lumbopelvic data already), biomech line name and group.
SHANK_MUSCLES = {"soleus_r": ("soleus_main", "soleus"),
                 "med_gas_r": ("gastrocnemius_medial", "gastrocnemius"),
                 "lat_gas_r": ("gastrocnemius_lateral", "gastrocnemius"),
                 "tib_ant_r": ("tibialis_anterior_main", "tibialis_anterior"),
                 "vas_med_r": ("vasti_medialis", "vasti"),
                 "vas_int_r": ("vasti_intermedius", "vasti"),
                 "vas_lat_r": ("vasti_lateralis", "vasti")}
#: The quadriceps insertion on the tibial tuberosity (Rajagopal 2016 patellar-ligament insertion,
#: tibia frame; the rectus femoris of the lumbopelvic data uses it too): gait2392 has no patella
#: and moves the insertion with the knee angle; biomech keeps the vasti's distal femoral point
#: (the patellar groove, gait2392's conditional point) fixed and inserts on the tuberosity.
TIBIAL_TUBEROSITY_M = (0.0326, -0.06312, -0.00047)
#: Neck muscles (Vasavada et al. 1998 / Mortensen et al. 2018) that cross C7/T1: those with a point
#: on the thorax side (spine, ribcage, clavicle, scapula). The others join two parts of the
#: head-neck body, which biomech keeps rigid (their pull is internal).
THORAX_SIDE = {"spine", "ribcage", "rclavicle", "rscapula"}


def extract_legs_trunk(ref: dict) -> dict:
    sf, sm, th, hn = ref["shank_foot"], ref["shank_muscles"]["gait2392"]["main"], \
        ref["thoracic_spine"], ref["head_neck"]["vasavada_mortensen"]
    subtalar = sf["joints"]["gait2392"]["subtalar_r"]["location_in_parent_m"][:2]

    def calcn_to_foot(xy):
        return [_r(xy[0] + subtalar[0]), _r(xy[1] + subtalar[1])]

    knee = sf["knee"]["gait2392"]["fixed_hinge_fit"]["range_0_to_90deg_flexion"]
    landmarks = sf["foot_landmarks"]["suggested_2D_contact_points"]
    floor_y = sf["foot_landmarks"]["floor"]["gait2392_default_pose"]["floor_y_in_calcn_m"]
    foot = sf["bodies"]["rigid_foot_lumped_gait2392"]
    legs = {
        "source": "gait2392 (Delp 1990), reference docs/reference/legs_trunk.md §1 (M/D)",
        "knee_in_femur_m": [_r(v) for v in knee["pivot_in_femur_m"]],
        "knee_in_shank_m": [_r(v) for v in knee["pivot_in_tibia_m"]],
        "knee_note": "fixed hinge fitted to gait2392's knee translation splines over 0-90° flexion "
                     "(max error 1 mm, D)",
        "ankle_in_shank_m": [_r(v) for v in sf["joints"]["gait2392"]["ankle_r"]["location_in_parent_m"][:2]],
        "foot_com_m": [_r(v) for v in foot["com_relative_to_ankle_centre_m"]],
        "foot_com_note": "gait2392 talus + calcn + toes lumped at subtalar = mtp = 0 (D)",
        "heel_m": [calcn_to_foot(landmarks["heel"]["in_calcn_m"])[0], _r(floor_y + subtalar[1])],
        "forefoot_m": [calcn_to_foot(landmarks["forefoot_metatarsal_heads"]["in_calcn_m"])[0],
                       _r(floor_y + subtalar[1])],
        "contact_note": "the heel (under the calcaneal tuberosity) and the metatarsal heads, on the "
                        "floor of gait2392's default pose (calcn y = -0.0161 m: the sole's soft "
                        "tissue included), foot frame (D)",
    }
    shank = []
    for src, (name, group) in SHANK_MUSCLES.items():
        m = sm[src]
        pts = []
        for p in m["points"]:
            body = {"femur_r": "femur", "tibia_r": "shank", "calcn_r": "foot"}[p["body"]]
            if p["type"] == "MovingPathPoint":
                continue                                 # the patella's path: replaced below
            xy = calcn_to_foot(p["xy_m"]) if body == "foot" else [_r(v) for v in p["xy_m"]]
            pt = {"body": body, "xy_m": xy, "z_m": _r(p["z_m"])}
            if p["type"] == "ConditionalPathPoint":
                if group == "vasti":
                    # the point in the patellar groove (active in deep flexion in gait2392): the
                    # one kept, fixed, as the quadriceps' distal femoral point (docs/model.md §6)
                    if any(q.get("body") == "femur" and q.get("groove") for q in pts):
                        continue
                    pt["groove"] = True
                else:
                    lo, hi = p["active_range_rad"]
                    pt["active_range_rad"] = [_r(lo), _r(hi)]
                    pt["active_coordinate"] = "knee_angle_gait2392"
            pts.append(pt)
        if group == "vasti":
            for pt in pts:
                pt.pop("groove", None)
            x, y, z = TIBIAL_TUBEROSITY_M
            pts.append({"body": "shank", "xy_m": [x, y], "z_m": z})
        shank.append({"name": name, "group": group, "source_name": src, "source": "gait2392",
                      "max_isometric_force_N_per_side": m["F_max_N"],
                      "optimal_fiber_length_m": m["l_opt_m"], "tendon_slack_length_m": m["l_ts_m"],
                      "pennation_rad": _r(m["pennation_rad"]), "points": pts})

    seg = th["three_segment_proposal"]["B_hybrid_christophy_torso_RECOMMENDED"]["segments"]
    names = {"T12_T9": "thorax_lower", "T8_T5": "thorax_middle", "T4_T1": "thorax_upper"}
    verts = th["myotorso_thoracic_placement"]["vertebrae"]
    thorax = {
        "source": "hybrid of MyoTorso (Walia 2025) thoracic vertebra placement in the Lumbar_C_210 "
                  "torso frame and Bruno et al. (2015) level masses scaled to the Lumbar_C_210 "
                  "torso mass; docs/reference/legs_trunk.md §3 (M/D)",
        "segments": {names[k]: {"mass_share": _r(v["mass_kg"] / sum(s["mass_kg"] for s in seg.values())),
                                "com_in_pelvis_m": v["com_in_pelvis_m"],
                                "inferior_joint_in_pelvis_m": v["inferior_joint_centre_in_pelvis_m"],
                                "superior_joint_in_pelvis_m": v["superior_joint_centre_in_pelvis_m"]}
                     for k, v in seg.items()},
        "segment_boundaries_torso_y_m": [th["muscles"]["segment_boundaries_torso_y_m"]["T12_T9|T8_T5"],
                                         th["muscles"]["segment_boundaries_torso_y_m"]["T8_T5|T4_T1"]],
        "endplate_angles_deg": {"T12_inferior": verts["T12"]["mesh_angle_in_torso_deg"],
                                "T4_superior": verts["T3"]["mesh_angle_in_torso_deg"],
                                "T1_body_centre_in_pelvis_m": verts["T1"]["mesh_origin_in_pelvis_m"]},
        "endplate_note": "vertebra frame angles of the MyoTorso meshes (their x axis along the "
                         "inferior endplate): T12's for the T12 inferior endplate, T3's for the T4 "
                         "superior endplate (the T3/T4 disc), D",
    }
    head = {"source": "Vasavada, Li & Delp (1998) Spine 23:412 head-neck model as in Mortensen, "
                      "Vasavada & Merryweather (2018) PLoS ONE 13:e0199912 "
                      "(mjhmilla/kinematicPassengerModel), docs/reference/legs_trunk.md §4 (M/D); "
                      "vectors relative to the C7/T1 joint, thorax axes upright (assumption of the "
                      "extract)",
            "com_m": hn["head_neck_total"]["com_rel_C7T1_m"],
            "glabella_m": hn["markers"]["GLA"]["rel_C7T1_m"],
            "zygomatic_root_m": hn["markers"]["RZP"]["rel_C7T1_m"],
            "fronto_zygomatic_m": hn["markers"]["RZF"]["rel_C7T1_m"],
            "rom_flexion_extension_deg": hn["rom_vasavada1998"]["flexion_extension_deg"]}
    c7c6 = None
    for jn, j in hn["joints"].items():
        if j.get("parent") == "cerv7" and j.get("child") == "cerv6":
            c7c6 = j.get("centre_rel_C7T1_m")
    head["C7_body_m"] = [_r(0.5 * c7c6[0]), _r(0.5 * c7c6[1])]
    head["C7_body_note"] = "midway between the C7/T1 and C6/C7 joint centres (D)"
    neck = []
    for group, src_group in (("neck_extensors", "extensors"), ("neck_flexors", "flexors")):
        for src in hn["muscle_groups"][src_group]:
            m = hn["muscles_right"][src]
            bodies = [p["body"] for p in m["points"]]
            if not any(b in THORAX_SIDE for b in bodies) or all(b in THORAX_SIDE for b in bodies):
                continue
            pts = [{"body": "thorax_upper" if p["body"] in THORAX_SIDE else "head",
                    "rel_C7T1_m": [_r(v) for v in p["rel_C7T1_m"]], "z_m": _r(p["z_world_m"])}
                   for p in m["points"]]
            neck.append({"name": f"{group}_{src}", "group": group, "source_name": src,
                         "source": "mortensen2018", "max_isometric_force_N_per_side": m["F_max_N"],
                         "optimal_fiber_length_m": _r(m["l_opt_m"]), "tendon_slack_length_m": _r(m["l_ts_m"]),
                         "pennation_rad": _r(m["pennation_rad"]), "points": pts})
    bruno_arm = ref["arms"]["bruno_builder"]
    raj = ref["arms"]["rajagopal2016"]
    arms = {"source": "shoulder: Bruno et al. (2015) glenohumeral centre relative to C7/T1 "
                      "(public C++ builder, M second-hand); hanging-arm COM below the shoulder: "
                      "Rajagopal (2016) arm segments at zero angles (D); docs/reference/legs_trunk.md §5",
            "shoulder_rel_C7T1_m": [_r(v) for v in bruno_arm["glenohumeral_centre_rel_C7T1_m"]],
            "hanging_com_below_shoulder_m": [_r(v) for v in raj["hanging_arm_at_zero_angles"]["com_minus_shoulder_m"]]}
    return {
        "description": "biomech's legs below the knee, thoracic segments, head-neck and arms, "
                       "extracted by scripts/extract_reference_data.py from "
                       "docs/reference/legs_trunk_sources.json (frames: see the script). Muscle "
                       "forces per side.",
        "sources": ref["meta"]["sources"], "papers": ref["meta"]["papers"],
        "legs": legs, "shank_muscles": shank, "thorax": thorax, "head": head, "neck_muscles": neck,
        "arms": arms,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--legs-trunk-reference", type=Path, default=DEFAULT_LEGS_TRUNK_REFERENCE)
    ap.add_argument("--legs-trunk-out", type=Path, default=DEFAULT_LEGS_TRUNK_OUT)
    args = ap.parse_args(argv)
    data = extract(json.loads(args.reference.read_text()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {args.out} ({len(data['muscles'])} muscle lines)")
    more = extract_legs_trunk(json.loads(args.legs_trunk_reference.read_text()))
    args.legs_trunk_out.write_text(json.dumps(more, indent=1) + "\n")
    print(f"wrote {args.legs_trunk_out} ({len(more['shank_muscles']) + len(more['neck_muscles'])} muscle lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
