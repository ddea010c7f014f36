#!/usr/bin/env python3
"""MotorNet's tutorial in Python on the C++ engine, notebook style: a GRU learns to drive a point mass with four
muscles to random targets, then its reaches are plotted.

  PYTHONPATH=build/python /usr/bin/python3 examples/python/tutorial.py [--batches 2000] [--out tutorial.png]

The loop is the reference's own (``motornet`` 0.2 API): the environment's step is one fused C++ node, and the
loss, backward pass and Adam step are plain PyTorch.
"""

# %% Setup
import argparse

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

import motornet as mn

parser = argparse.ArgumentParser()
parser.add_argument("--batches", type=int, default=2000)
parser.add_argument("--out", default="tutorial.png")
args = parser.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)
print(f"motornet {mn.__version__} (engine: {mn.engine})")

# %% The body, the task and the network
effector = mn.effector.ReluPointMass24()
env = mn.environment.RandomTargetReach(effector=effector, max_ep_duration=1.)
policy = mn.policy.PolicyGRU(env.observation_space.shape[0], 32, env.n_muscles)
optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)


def l1(x, y):
    return torch.mean(torch.sum(torch.abs(x - y), dim=-1))


def run_episode(batch_size, seed=None, deterministic=False):
    h = policy.init_hidden(batch_size)
    obs, info = env.reset(seed=seed, options={"batch_size": batch_size, "deterministic": deterministic})
    terminated, xy, tg = False, [info["states"]["fingertip"][:, None, :]], [info["goal"][:, None, :]]
    while not terminated:
        action, h = policy(obs, h)
        obs, reward, terminated, truncated, info = env.step(action=action)
        xy.append(info["states"]["fingertip"][:, None, :])
        tg.append(info["goal"][:, None, :])
    return torch.cat(xy, dim=1), torch.cat(tg, dim=1)


# %% Training
losses = []
for batch in range(args.batches):
    xy, tg = run_episode(32)
    loss = l1(xy, tg)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), max_norm=1.)
    optimizer.step()
    losses.append(loss.item())
    if (batch + 1) % 250 == 0:
        print(f"batch {batch + 1}: mean loss of the last 250 {sum(losses[-250:]) / 250:.4f}")

# %% Plots: the loss curve and eight noise-free reaches
with torch.no_grad():
    xy, tg = run_episode(8, seed=1, deterministic=True)
figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
axes[0].semilogy(losses)
axes[0].set_xlabel("batch")
axes[0].set_ylabel("L1 loss")
mn.plotor.plot_pos_over_time(xy.numpy(), axes[1])
axes[1].scatter(tg[:, -1, 0], tg[:, -1, 1], marker="x", color="red", label="targets")
axes[1].legend()
figure.tight_layout()
figure.savefig(args.out)
print(f"last-100 loss {sum(losses[-100:]) / min(100, len(losses)):.4f}; figure written to {args.out}")
