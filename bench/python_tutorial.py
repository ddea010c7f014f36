#!/usr/bin/env python3
"""Times the reference tutorial's training loop written in Python against this package (MotorNet 0.2's API on
the C++ engine): RandomTargetReach on ReluPointMass24 (1 s, 100 steps), PolicyGRU 32, L1 position loss, Adam
1e-3, gradient clipping 1.0, batch 32, 1 thread: the same batch as motornet-bench's W1.

  PYTHONPATH=build/python /usr/bin/python3 bench/python_tutorial.py [--batches 20] [--warmup 3] [--json]

Also reports the per-step crossing costs: an effector step, an environment step (fused) and the environment step
through Python senses, each without autograd work downstream.
"""

import argparse
import json
import statistics
import time

import torch

import motornet as mn


def tutorial_batch(env, policy, optimizer, batch_size):
    h = policy.init_hidden(batch_size)
    obs, info = env.reset(options={"batch_size": batch_size})
    terminated, xy, tg = False, [], []
    while not terminated:
        action, h = policy(obs, h)
        obs, reward, terminated, truncated, info = env.step(action=action)
        xy.append(info["states"]["fingertip"][:, None, :])
        tg.append(info["goal"][:, None, :])
    loss = torch.mean(torch.sum(torch.abs(torch.cat(xy, dim=1) - torch.cat(tg, dim=1)), dim=-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), max_norm=1.)
    optimizer.step()
    return loss.item()


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), min(times), max(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    env = mn.environment.RandomTargetReach(effector=mn.effector.ReluPointMass24(), max_ep_duration=1.)
    policy = mn.policy.PolicyGRU(env.observation_space.shape[0], 32, env.n_muscles)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    for _ in range(args.warmup):
        tutorial_batch(env, policy, optimizer, 32)
    batch = median_ms(lambda: tutorial_batch(env, policy, optimizer, 32), args.batches)

    # per-step crossing costs, batch 32, no autograd
    class PythonSenses(mn.environment.RandomTargetReach):
        def get_vision(self):
            return super().get_vision()

    steps = {}
    with torch.no_grad():
        action = torch.full((32, 4), 0.2)
        effector = mn.effector.ReluPointMass24()
        effector.reset(options={"batch_size": 32})
        steps["effector.step"] = median_ms(lambda: [effector.step(action) for _ in range(100)], 10)
        for name, cls in (("env.step (fused senses)", mn.environment.RandomTargetReach),
                          ("env.step (Python senses)", PythonSenses)):
            e = cls(effector=mn.effector.ReluPointMass24(), max_ep_duration=100.)
            e.reset(options={"batch_size": 32})
            steps[name] = median_ms(lambda: [e.step(action) for _ in range(100)], 10)
        h = policy.init_hidden(32)
        obs = torch.zeros(32, env.observation_space.shape[0])
        steps["policy step"] = median_ms(lambda: [policy(obs, h) for _ in range(100)], 10)

    result = {"workload": "python tutorial (W1's batch)", "threads": args.threads, "batches": args.batches,
              "ms_per_batch": {"median": batch[0], "min": batch[1], "max": batch[2]},
              "us_per_step": {k: 1e3 * v[0] / 100 for k, v in steps.items()}, "engine": mn.engine,
              "version": mn.__version__}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"tutorial batch: {batch[0]:.1f} ms (min {batch[1]:.1f}, max {batch[2]:.1f}), {args.batches} batches, "
              f"{args.threads} thread(s)")
        for k, v in result["us_per_step"].items():
            print(f"  {k}: {v:.1f} us per step (batch 32)")


if __name__ == "__main__":
    main()
