"""Writes fixtures.json for TimeSeriesTests: scikit-learn 1.9's forecast errors and the
reference RevIN (Kim et al. 2022, the authors' `RevIN` module) in PyTorch 2.13.

    .venv-peers/bin/pip install scikit-learn
    .venv-peers/bin/python Packages/TimeSeries/Tests/TimeSeriesTests/Fixtures/generate_fixtures.py
"""
import json
import os

import numpy as np
import torch
from sklearn.metrics import mean_absolute_error, mean_absolute_percentage_error, root_mean_squared_error

here = os.path.dirname(os.path.abspath(__file__))


def t(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [repr(float(v)) for v in a.reshape(-1)]}


class RevIN(torch.nn.Module):
    """The authors' reference implementation (github.com/ts-kim/RevIN, revin.py)."""

    def __init__(self, num_features, eps=1e-5, affine=True):
        super().__init__()
        self.num_features, self.eps, self.affine = num_features, eps, affine
        if affine:
            self.affine_weight = torch.nn.Parameter(torch.ones(num_features, dtype=torch.float64))
            self.affine_bias = torch.nn.Parameter(torch.zeros(num_features, dtype=torch.float64))

    def forward(self, x, mode):
        if mode == "norm":
            dim2reduce = tuple(range(1, x.ndim - 1))
            self.mean = torch.mean(x, dim=dim2reduce, keepdim=True).detach()
            self.stdev = torch.sqrt(torch.var(x, dim=dim2reduce, keepdim=True, unbiased=False) + self.eps).detach()
            x = (x - self.mean) / self.stdev
            if self.affine:
                x = x * self.affine_weight + self.affine_bias
        else:
            if self.affine:
                x = x - self.affine_bias
                x = x / (self.affine_weight + self.eps * self.eps)
            x = x * self.stdev + self.mean
        return x


rng = np.random.default_rng(7)
out = {}
predicted = rng.normal(10, 3, size=(7, 3))
actual = rng.normal(10, 3, size=(7, 3))
actual[2, 1] = 0.0   # MAPE floors |actual| at the float64 epsilon
out["metrics"] = {
    "predicted": t(predicted), "actual": t(actual),
    "mae": mean_absolute_error(actual, predicted), "rmse": root_mean_squared_error(actual, predicted),
    "mape": mean_absolute_percentage_error(actual, predicted),
    "mae_first": mean_absolute_error(actual[:, 0], predicted[:, 0]),
    "rmse_first": root_mean_squared_error(actual[:, 0], predicted[:, 0]),
    "mape_first": mean_absolute_percentage_error(actual[:, 0], predicted[:, 0]),
}

revin = RevIN(3)
with torch.no_grad():
    revin.affine_weight.copy_(torch.tensor([1.5, 0.7, -1.1], dtype=torch.float64))
    revin.affine_bias.copy_(torch.tensor([0.2, -0.3, 0.0], dtype=torch.float64))
x = torch.tensor(rng.normal(5, 2, size=(2, 6, 3)))
y = torch.tensor(rng.normal(0, 1, size=(2, 4, 3)))
with torch.no_grad():
    normalized = revin(x, "norm")
    restored = revin(y, "denorm")
out["revin"] = {"weight": t(revin.affine_weight.detach()), "bias": t(revin.affine_bias.detach()), "x": t(x), "y": t(y),
                "normalized": t(normalized), "denormalized": t(restored)}

with open(os.path.join(here, "fixtures.json"), "w") as f:
    json.dump(out, f, indent=1)
