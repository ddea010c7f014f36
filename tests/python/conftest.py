"""pytest setup for the Python package's tests (run by ctest with PYTHONPATH=build/python)."""

import json
import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture
def golden_cases():
    return sorted((DATA / "golden").glob("*.json"))


def load_case(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture
def tmp_run_dir(tmp_path):
    return tmp_path / "run"


def repo_root() -> Path:
    return Path(os.environ.get("MOTORNET_SOURCE_DIR", Path(__file__).resolve().parents[2]))
