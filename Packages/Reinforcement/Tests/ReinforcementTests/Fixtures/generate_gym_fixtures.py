"""Writes gym_trajectories.json: Gymnasium's environments (gymnasium 1.4, NumPy 2) stepped with
fixed seeds and action sequences, and NumPy's PCG64 streams, for ReinforcementTests.

    .venv-peers/bin/python Packages/Reinforcement/Tests/ReinforcementTests/Fixtures/generate_gym_fixtures.py
"""
import json
import os

import gymnasium as gym
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = {"numpy_random": [], "trajectories": []}

for seed in [0, 1, 42, 2**40 + 7]:
    g = np.random.default_rng(seed)
    raw = [int(x) for x in g.bit_generator.random_raw(4)]
    doubles = [repr(float(x)) for x in np.random.default_rng(seed).random(4)]  # strings: exact through any JSON parser
    out["numpy_random"].append({"seed": seed, "raw": [str(x) for x in raw], "doubles": doubles})

# (id, kwargs, seeds, episodes per seed, discrete action count or None for Pendulum's torque)
cases = [
    ("CartPole-v1", {}, [0, 7], 3, 2),
    ("MountainCar-v0", {}, [0, 3], 3, 3),
    ("Acrobot-v1", {}, [0, 5], 2, 3),
    ("Pendulum-v1", {}, [0, 9], 1, None),
    ("FrozenLake-v1", {"is_slippery": True}, [0, 11], 6, 4),
    ("FrozenLake-v1", {"is_slippery": False}, [2], 4, 4),
]
for env_id, kwargs, seeds, episodes, actions in cases:
    for seed in seeds:
        env = gym.make(env_id, **kwargs)
        policy = np.random.default_rng(1000 + seed)
        record = {"id": env_id, "kwargs": kwargs, "seed": seed, "episodes": []}
        for episode in range(episodes):
            obs, _ = env.reset(seed=seed if episode == 0 else None)
            steps = []
            while True:
                if actions is None:
                    a = np.array([policy.uniform(-2.5, 2.5)], dtype=np.float32)
                    action = float(a[0])
                elif env_id == "MountainCar-v0" and episode != 1:
                    # Pushing along the velocity (mostly) reaches the flag; episode 1 acts at
                    # random and runs into the step limit.
                    velocity = (steps[-1]["observation"] if steps else np.atleast_1d(obs).tolist())[1]
                    action = (2 if velocity >= 0 else 0) if policy.random() < 0.9 else int(policy.integers(3))
                    a = action
                elif env_id == "Acrobot-v1" and episode == 1:
                    # Torque against the first link's swing pumps energy in: the tip gets up.
                    swing = (steps[-1]["observation"] if steps else np.atleast_1d(obs).tolist())[4]
                    action = 0 if swing > 0 else 2
                    a = action
                else:
                    action = int(policy.integers(actions))
                    a = action
                o, r, terminated, truncated, _ = env.step(a)
                steps.append({"action": action, "observation": np.atleast_1d(np.asarray(o, dtype=np.float64)).tolist(),
                              "reward": float(r), "terminated": bool(terminated), "truncated": bool(truncated)})
                if terminated or truncated:
                    break
            record["episodes"].append({"reset": np.atleast_1d(np.asarray(obs, dtype=np.float64)).tolist(), "steps": steps})
        out["trajectories"].append(record)

with open(os.path.join(here, "gym_trajectories.json"), "w") as f:
    json.dump(out, f)
print({(t["id"], t["seed"]): [len(e["steps"]) for e in t["episodes"]] for t in out["trajectories"]})
