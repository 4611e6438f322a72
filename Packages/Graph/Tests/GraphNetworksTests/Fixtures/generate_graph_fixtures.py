"""Writes graph_layers.json: GCN, GraphSAGE (mean, max), GAT and GIN layer outputs on a small
directed graph, computed in PyTorch with dense adjacency matrices (the formulas of Kipf &
Welling, Hamilton et al., Veličković et al. and Xu et al. as PyTorch Geometric implements
them), for GraphNetworksTests.

    .venv-peers/bin/python Packages/Graph/Tests/GraphNetworksTests/Fixtures/generate_graph_fixtures.py
"""
import json
import os

import torch

torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
n, f, out, heads = 5, 3, 4, 2
# Directed edges source -> target (a self-loop on node 4 is dropped by GCN/GAT and counted again once).
edges = [(0, 1), (1, 0), (1, 2), (2, 3), (3, 1), (0, 3), (4, 4), (2, 0)]
x = torch.randn(n, f, dtype=torch.float64)
A = torch.zeros(n, n, dtype=torch.float64)  # A[target, source]
for s, t in edges:
    A[t, s] += 1

def t(v):
    return {"shape": list(v.shape), "data": v.reshape(-1).tolist()}

cases = {"x": t(x), "edges": edges}

# GCN: Â = A without self-loops + I, D̂ in-degrees of Â, X' = D̂^-1/2 Â D̂^-1/2 X W^T + b.
W, b = torch.randn(out, f, dtype=torch.float64), torch.randn(out, dtype=torch.float64)
Ah = A.clone(); Ah.fill_diagonal_(0); Ah += torch.eye(n, dtype=torch.float64)
d = Ah.sum(1) ** -0.5
cases["gcn"] = {"weight": t(W), "bias": t(b), "output": t(d[:, None] * Ah * d[None, :] @ x @ W.T + b)}

# SAGE: lin_l(agg) + lin_r(x); mean over in-neighbours (0 without), max per feature.
Wl, bl, Wr = torch.randn(out, f, dtype=torch.float64), torch.randn(out, dtype=torch.float64), torch.randn(out, f, dtype=torch.float64)
deg = A.sum(1, keepdim=True)
mean = (A @ x) / deg.clamp(min=1)
mx = torch.zeros(n, f, dtype=torch.float64)
for i in range(n):
    nb = [s for s, tt in edges if tt == i]
    if nb:
        mx[i] = x[nb].max(0).values
cases["sage"] = {"neighbours_weight": t(Wl), "neighbours_bias": t(bl), "root_weight": t(Wr),
                 "mean_output": t(mean @ Wl.T + bl + x @ Wr.T), "max_output": t(mx @ Wl.T + bl + x @ Wr.T)}

# GAT: h = x W^T as [n, heads, out]; e_ij = leaky_relu(a_s·h_j + a_d·h_i, 0.2) over j -> i and i -> i.
Wg = torch.randn(heads * out, f, dtype=torch.float64)
a_s, a_d = torch.randn(heads, out, dtype=torch.float64), torch.randn(heads, out, dtype=torch.float64)
bg = torch.randn(heads * out, dtype=torch.float64)
h = (x @ Wg.T).reshape(n, heads, out)
mask = Ah > 0
es, ed = (h * a_s).sum(-1), (h * a_d).sum(-1)  # [n, heads]
logits = torch.nn.functional.leaky_relu(ed[:, None, :] + es[None, :, :], 0.2)  # [target, source, heads]
logits = logits.masked_fill(~mask[:, :, None], float("-inf"))
alpha = torch.softmax(logits, dim=1)
gat = torch.einsum("ijh,jhc->ihc", alpha, h)
cases["gat"] = {"weight": t(Wg), "source_attention": t(a_s), "target_attention": t(a_d), "bias": t(bg),
                "concat_output": t(gat.reshape(n, heads * out) + bg), "mean_output": t(gat.mean(1) + bg[:out])}

# GIN with a linear network, ε = 0.25: W((1 + ε) x + A x) + b (the self-loop on 4 is an edge here).
Wi, bi = torch.randn(out, f, dtype=torch.float64), torch.randn(out, dtype=torch.float64)
cases["gin"] = {"weight": t(Wi), "bias": t(bi), "output": t(((1.25) * x + A @ x) @ Wi.T + bi)}

with open(os.path.join(here, "graph_layers.json"), "w") as fh:
    json.dump(cases, fh)
print("wrote graph_layers.json")
