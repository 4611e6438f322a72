"""Convolution and pooling fixtures from PyTorch for TensorCore's tests.

Run from the repository root:
    .venv-peers/bin/python Packages/TensorCore/Tests/TensorCoreTests/Fixtures/generate_conv_fixtures.py
Writes conv_ops.json beside this script (float64).
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(11)
torch.set_default_dtype(torch.float64)


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist()}


cases = []
x = torch.randn(2, 4, 7, 6)
for name, w_shape, kwargs in [
    ("plain", (3, 4, 3, 3), {}),
    ("stride_pad", (5, 4, 3, 2), dict(stride=(2, 1), padding=(1, 2))),
    ("dilation", (3, 4, 2, 3), dict(dilation=(2, 1), padding=1)),
    ("groups", (6, 2, 3, 3), dict(groups=2, padding=1)),
    ("depthwise", (4, 1, 3, 3), dict(groups=4, stride=2, padding=1)),
    ("same", (3, 4, 3, 5), dict(padding="same")),
]:
    w = torch.randn(*w_shape)
    b = torch.randn(w_shape[0])
    xr = x.clone().requires_grad_()
    wr = w.clone().requires_grad_()
    y = F.conv2d(xr, wr, b, **kwargs)
    g = torch.randn(*y.shape)
    y.backward(g)
    cases.append({"name": name, "x": t(x), "w": t(w), "b": t(b), "y": t(y), "g": t(g), "gx": t(xr.grad), "gw": t(wr.grad)})

x1 = torch.randn(2, 3, 10)
w1 = torch.randn(4, 3, 3)
conv1d = {"x": t(x1), "w": t(w1), "y": t(F.conv1d(x1, w1, stride=2, padding=1, dilation=2))}
pool = {"x": t(x), "max": t(F.max_pool2d(x, 2)), "max_s1p1": t(F.max_pool2d(x, 3, stride=1, padding=1)),
        "avg": t(F.avg_pool2d(x, 2)), "avg_p": t(F.avg_pool2d(x, 3, stride=2, padding=1))}

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "conv_ops.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "conv1d": conv1d, "pool": pool}, f)
print(f"wrote {len(cases)} conv cases")
