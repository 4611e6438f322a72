"""Writes contrastive_fixtures.json: NT-Xent (SimCLR's reference formulation), InfoNCE and
PyTorch's triplet margin loss on random inputs, for NNTests' ContrastiveLossTests.

    .venv-peers/bin/python Packages/NN/Tests/NNTests/Fixtures/generate_contrastive_fixtures.py
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(3)
here = os.path.dirname(os.path.abspath(__file__))

def t(v):
    return {"shape": list(v.shape), "data": [repr(float(x)) for x in v.reshape(-1)]}

z1, z2 = torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)

def nt_xent(a, b, tau):
    z = F.normalize(torch.cat([a, b]), dim=1)
    sim = z @ z.T / tau
    sim.fill_diagonal_(float("-inf"))
    n = a.shape[0]
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)

q, k = torch.randn(7, 4, dtype=torch.float64), torch.randn(7, 4, dtype=torch.float64)
a, p, n = (torch.randn(5, 3, dtype=torch.float64) for _ in range(3))
cases = {
    "z1": t(z1), "z2": t(z2), "nt_xent_0.5": t(nt_xent(z1, z2, 0.5)), "nt_xent_0.1": t(nt_xent(z1, z2, 0.1)),
    "q": t(q), "k": t(k),
    "info_nce": t(F.cross_entropy(F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / 0.1, torch.arange(7))),
    "info_nce_raw": t(F.cross_entropy(q @ k.T / 0.5, torch.arange(7))),
    "a": t(a), "p": t(p), "n": t(n),
    "triplet": t(F.triplet_margin_loss(a, p, n, margin=1.0)),
    "triplet_none": t(F.triplet_margin_loss(a, p, n, margin=0.5, reduction="none")),
}
with open(os.path.join(here, "contrastive_fixtures.json"), "w") as f:
    json.dump(cases, f)
print("wrote contrastive_fixtures.json")
