"""Reads the trial records of an evaluation's rollout.h5 with h5py (Debian's python3-h5py) and prints, as JSON,
for every dataset under /trials and /fields: its dtype kind ("i" or "f"), shape, sum, minimum and maximum (NaN
ignored), so that the C++ test can check them against what the evaluation reported."""
import json
import sys

import h5py
import numpy


def describe(data):
    values = data.astype("float64")
    finite = values[numpy.isfinite(values)]
    return {
        "kind": data.dtype.kind,
        "shape": list(data.shape),
        "sum": float(finite.sum()),
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "nan": int(numpy.isnan(values).sum()),
    }


def main():
    records = {}
    with h5py.File(sys.argv[1], "r") as f:
        def visit(name, item):
            if isinstance(item, h5py.Dataset) and (name.startswith("trials/") or name.startswith("fields/")):
                records[name] = describe(item[()])
        f.visititems(visit)
    print(json.dumps(records))


if __name__ == "__main__":
    main()
