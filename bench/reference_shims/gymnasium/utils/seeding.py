"""np_random(seed) -> (generator, seed), as the reference's effector seeds itself."""
import numpy as np


def np_random(seed=None):
    seed = int(np.random.SeedSequence(seed).entropy) if seed is None else int(seed)
    return np.random.Generator(np.random.PCG64(seed)), seed
