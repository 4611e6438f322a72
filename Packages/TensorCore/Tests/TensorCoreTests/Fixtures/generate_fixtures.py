"""Generates forward-value fixtures for TensorCore's tests with PyTorch.

Run from the repository root:
    .venv-peers/bin/python Packages/TensorCore/Tests/TensorCoreTests/Fixtures/generate_fixtures.py
Writes torch_ops.json beside this script. Inputs are float64 so the comparison measures
our kernels, not float32 rounding in the fixture.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
cases = []


def t(x):
    return {"shape": list(x.shape), "data": x.detach().reshape(-1).tolist(), "dtype": str(x.dtype).replace("torch.", "")}


def add(name, inputs, output, **params):
    cases.append({"name": name, "inputs": [t(i) for i in inputs], "output": t(output), "params": params})


x = torch.randn(3, 5, dtype=torch.float64) * 2
p = torch.rand(3, 5, dtype=torch.float64) + 0.1
for name, fn in [
    ("exp", torch.exp), ("log", None), ("log1p", None), ("expm1", torch.expm1), ("sqrt", None),
    ("rsqrt", None), ("sin", torch.sin), ("cos", torch.cos), ("tanh", torch.tanh),
    ("sigmoid", torch.sigmoid), ("erf", torch.erf), ("relu", torch.relu), ("abs", torch.abs),
    ("sign", torch.sign), ("silu", F.silu), ("gelu", F.gelu),
    ("geluTanh", lambda v: F.gelu(v, approximate="tanh")),
    ("leakyRelu", lambda v: F.leaky_relu(v, 0.1)), ("elu", lambda v: F.elu(v, 0.5)),
    ("softplus", lambda v: F.softplus(v, beta=2.0, threshold=3.0)),
    ("clamp", lambda v: torch.clamp(v, -1.0, 0.5)),
]:
    if fn is None:
        add(name, [p], getattr(torch, name)(p))
    else:
        add(name, [x], fn(x))

a = torch.randn(2, 3, 4, dtype=torch.float64)
b = torch.randn(3, 1, dtype=torch.float64)
add("add", [a, b], a + b)
add("multiply", [a, b], a * b)
add("divide", [a, b], a / b)
add("maximum", [a, b], torch.maximum(a, b))
add("pow", [a.abs() + 0.1, b], torch.pow(a.abs() + 0.1, b))
add("where", [a, b], torch.where(a > 0, a, b))

add("softmax", [a], torch.softmax(a, dim=-1))
add("softmax1", [a], torch.softmax(a, dim=1))
add("logSoftmax", [a], torch.log_softmax(a, dim=-1))
add("logSumExp", [a], torch.logsumexp(a, dim=1))
add("variance", [a], torch.var(a, dim=(0, 2)))
add("std", [a], torch.std(a, dim=2, keepdim=True))
add("mean", [a], torch.mean(a, dim=1))
add("sumAll", [a], a.sum())
add("prod", [a], torch.prod(a, dim=2))
add("max", [a], torch.amax(a, dim=(0, 2)))
add("cumsum", [a], torch.cumsum(a, dim=1))
add("argmax", [a], torch.argmax(a, dim=2))
add("argmin", [a], torch.argmin(a, dim=0))
add("layerNorm", [a], F.layer_norm(a, (4,)))
m1 = torch.randn(2, 1, 3, 4, dtype=torch.float64)
m2 = torch.randn(3, 4, 5, dtype=torch.float64)
add("matmul", [m1, m2], m1 @ m2)
v = torch.randn(5, dtype=torch.float64)
add("matvec", [m2, v], m2 @ v)
add("sortDescending", [a], torch.sort(a, dim=-1, descending=True).values)
add("topk", [a], torch.topk(a, 2, dim=1).values)
idx = torch.tensor([[0, 3], [2, 2], [1, 0]])
g = torch.randn(3, 4, dtype=torch.float64)
add("gather", [g], torch.gather(g, 1, idx), index=idx.reshape(-1).tolist())
src = torch.randn(3, 2, dtype=torch.float64)
add("scatterAdd", [g, src], g.scatter_add(1, idx, src), index=idx.reshape(-1).tolist())
rows = torch.tensor([2, 0, 2])
add("indexSelect", [g], torch.index_select(g, 0, rows), indices=rows.tolist())
add("indexAdd", [g, g * 2], g.index_add(0, rows, g * 2), indices=rows.tolist())
logits = torch.randn(4, 6, dtype=torch.float64)
targets = torch.tensor([0, 5, 2, 2])
add("crossEntropy", [logits], F.cross_entropy(logits, targets, reduction="none"), targets=targets.tolist())

# Printing.
prints = []
for value in [torch.tensor([[1.0, 2.5], [3.0, 4.0]]), torch.tensor([1.0, 2.0, 3.0]),
              torch.tensor([0.1234567, -2.5]), torch.tensor([[1, 2], [3, 4]]),
              torch.tensor([1.5, 2.0], dtype=torch.float64), torch.tensor([True, False]),
              torch.arange(12.0).reshape(2, 2, 3)]:
    prints.append({"tensor": t(value), "text": str(value)})

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "torch_ops.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "prints": prints}, f)
print(f"wrote {len(cases)} cases and {len(prints)} printing fixtures")
