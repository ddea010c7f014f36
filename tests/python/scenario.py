"""Builds a golden scenario's effector (tests/data/golden, README there) through the public Python API, the
way a user would write it."""

import motornet as mn

EFFECTOR_OPTIONS = ("timestep", "n_ministeps", "integration_method", "damping", "pos_lower_bound",
                    "pos_upper_bound", "vel_lower_bound", "vel_upper_bound")
PRESETS = {"ReluPointMass24": mn.effector.ReluPointMass24, "RigidTendonArm26": mn.effector.RigidTendonArm26,
           "CompliantTendonArm26": mn.effector.CompliantTendonArm26, "Reacher": mn.effector.Reacher,
           "FreePointMass24": mn.effector.FreePointMass24}


def muscle_from_block(block):
    block = dict(block)
    return getattr(mn.muscle, block.pop("type"))(**block)


def effector_from_block(block):
    options = {k: v for k, v in block.items() if k in EFFECTOR_OPTIONS}
    if "preset" in block:
        preset = block["preset"]
        if preset == "ReluPointMass24":
            return mn.effector.ReluPointMass24(**options)
        if preset == "CompliantTendonArm26":
            return mn.effector.CompliantTendonArm26(**options)
        muscle = muscle_from_block(block.get("muscle", {"type": "ReluMuscle" if "Point" in preset or preset == "Reacher"
                                                        else "RigidTendonHillMuscle"}))
        return PRESETS[preset](muscle=muscle, **options)
    skeleton_block = dict(block["skeleton"])
    skeleton = getattr(mn.skeleton, skeleton_block.pop("type"))(**skeleton_block)
    effector = mn.effector.Effector(skeleton, muscle_from_block(block["muscle"]), **options)
    for entry in block["muscles"]:
        entry = dict(entry)
        effector.add_muscle(path_fixation_body=entry.pop("fixation_body"),
                            path_coordinates=entry.pop("coordinates"), name=entry.pop("name", None), **entry)
    return effector
