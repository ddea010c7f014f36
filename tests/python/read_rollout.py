"""Reads a rollout.h5 with h5py (Debian's python3-h5py) and prints, per dataset, its shape and sum, then the
attributes, one per line, so that the C++ test can compare them with what it wrote."""
import sys

import h5py


def main():
    with h5py.File(sys.argv[1], "r") as f:
        for name in ["joint", "cartesian", "muscle", "geometry", "hidden", "action", "goal", "observation"]:
            data = f[name][()]
            print(name, "x".join(str(d) for d in data.shape), repr(float(data.astype("float64").sum())))
        print("timestep", repr(float(f.attrs["timestep"][0])))
        names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["muscle_names"]]
        print("muscle_names", ",".join(names))
        states = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["muscle_state_names"]]
        print("muscle_state_names", ",".join(states))
        config = f.attrs["config"][0]
        print("config_length", len(config.decode() if isinstance(config, bytes) else config))


if __name__ == "__main__":
    main()
