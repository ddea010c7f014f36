"""Runs an exported MotorNet policy with Python's torch.jit.load (Debian's python3-torch).

usage: run_policy.py POLICY.pt INPUT.txt OUTPUT.txt
INPUT.txt: line 1 "batch input_size hidden_size", then the observation rows, then the hidden rows.
OUTPUT.txt: the initial hidden rows, then the action rows, then the new hidden rows (one row per line).
"""
import sys

import torch


def read_rows(lines, count):
    return [[float(x) for x in lines.pop(0).split()] for _ in range(count)]


def write_rows(out, tensor):
    for row in tensor.tolist():
        out.write(" ".join(repr(float(x)) for x in row) + "\n")


def main():
    policy_file, input_file, output_file = sys.argv[1:4]
    policy = torch.jit.load(policy_file)
    lines = open(input_file).read().splitlines()
    batch, inputs, hidden = (int(x) for x in lines.pop(0).split())
    observation = torch.tensor(read_rows(lines, batch), dtype=torch.float32).reshape(batch, inputs)
    state = torch.tensor(read_rows(lines, batch), dtype=torch.float32).reshape(batch, hidden)
    with torch.no_grad():
        initial = policy.initial_hidden(batch)
        action, new_state = policy.forward(observation, state)
    with open(output_file, "w") as out:
        write_rows(out, initial.reshape(batch, -1))
        write_rows(out, action)
        write_rows(out, new_state.reshape(batch, -1))


if __name__ == "__main__":
    main()
