"""PyTorch fixtures for Vision's resampling and normalisation layers.

Run from the repository root:
    .venv-peers/bin/python Packages/Vision/Tests/VisionTests/Fixtures/generate_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(5)
torch.set_default_dtype(torch.float64)
x = torch.randn(2, 3, 7, 5)


def t(v):
    return {"shape": list(v.shape), "data": v.reshape(-1).tolist()}


out = {"x": t(x), "adaptive_3x2": t(F.adaptive_avg_pool2d(x, (3, 2))), "adaptive_1": t(F.adaptive_avg_pool2d(x, 1)),
       "upsample_2x3": t(F.interpolate(x, scale_factor=(2, 3), mode="nearest")),
       "instance_norm": t(F.instance_norm(x))}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vision_fixtures.json"), "w") as f:
    json.dump(out, f)
print("wrote vision_fixtures.json")
