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
# Transposed convolution, adaptive max pooling, bilinear resizing, spectral norm (drawn
# after the tensors above so their values stay the same).
tx = torch.randn(2, 4, 5, 4)
tw = torch.randn(4, 3, 3, 2)   # [in, out / groups, kh, kw], groups 2 -> 6 output channels
tb = torch.randn(6)
out["conv_transpose"] = {
    "x": t(tx), "w": t(tw), "b": t(tb),
    "plain": t(F.conv_transpose2d(tx, tw)),
    "strided": t(F.conv_transpose2d(tx, tw, tb, stride=2, padding=1, output_padding=1, groups=2, dilation=(2, 1))),
}
out["adaptive_max_3x2"] = t(F.adaptive_max_pool2d(x, (3, 2)))
out["bilinear_9x4"] = t(F.interpolate(x, size=(9, 4), mode="bilinear", align_corners=False))
out["bilinear_9x4_corners"] = t(F.interpolate(x, size=(9, 4), mode="bilinear", align_corners=True))
out["bilinear_x2"] = t(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
sw = torch.randn(5, 3)
out["spectral"] = {"w": t(sw), "sigma": torch.linalg.svdvals(sw)[0].item()}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vision_fixtures.json"), "w") as f:
    json.dump(out, f)
print("wrote vision_fixtures.json")
