"""Linear-algebra fixtures from NumPy (LAPACK) for TensorCore's Linalg tests.

Run from the repository root:
    .venv-peers/bin/python Packages/TensorCore/Tests/TensorCoreTests/Fixtures/generate_linalg_fixtures.py
Writes linalg_ops.json beside this script (float64). Singular and eigen vectors are stored as
LAPACK returns them; the tests compare them up to the sign of each pair.
"""
import json
import os

import numpy as np

rng = np.random.default_rng(16)


def t(x):
    x = np.asarray(x, dtype=np.float64)
    return {"shape": list(x.shape), "data": x.reshape(-1).tolist()}


def spd(*shape):
    x = rng.standard_normal(shape)
    n = shape[-1]
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def hilbert(n):
    i = np.arange(n)
    return 1.0 / (i[:, None] + i[None, :] + 1)


def with_singular_values(m, n, s):
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    k = min(m, n)
    return u[:, :k] @ np.diag(s) @ v[:, :k].T


cases = {}

# solve: square, broadcast batch, vector right-hand side, ill-conditioned (Hilbert, cond ~1e10).
a = rng.standard_normal((5, 5)); b = rng.standard_normal((5, 3))
cases["solve_square"] = {"a": t(a), "b": t(b), "x": t(np.linalg.solve(a, b))}
a = rng.standard_normal((2, 1, 4, 4)); b = rng.standard_normal((3, 4, 2))
cases["solve_batched"] = {"a": t(a), "b": t(b), "x": t(np.linalg.solve(a, b))}
a = rng.standard_normal((3, 4, 4)); b = rng.standard_normal((3, 4))
cases["solve_vector"] = {"a": t(a), "b": t(b), "x": t(np.linalg.solve(a, b[..., None])[..., 0])}
a = hilbert(8); b = rng.standard_normal((8, 1))
cases["solve_hilbert"] = {"a": t(a), "b": t(b), "x": t(np.linalg.solve(a, b)), "cond": float(np.linalg.cond(a))}

# triangular solves
a = np.triu(rng.standard_normal((4, 4))) + 3 * np.eye(4); b = rng.standard_normal((4, 2))
cases["triangular_upper"] = {"a": t(a), "b": t(b), "x": t(np.linalg.solve(np.triu(a), b))}
a = rng.standard_normal((2, 4, 4)) + 3 * np.eye(4); b = rng.standard_normal((2, 3, 4))
low = np.tril(a, -1) + np.eye(4)
cases["triangular_lower_unit_right"] = {"a": t(a), "b": t(b),
                                        "x": t(np.swapaxes(np.linalg.solve(np.swapaxes(low, -1, -2), np.swapaxes(b, -1, -2)), -1, -2))}

# cholesky, inverse, determinants
a = spd(3, 5, 5)
cases["cholesky"] = {"a": t(a), "l": t(np.linalg.cholesky(a))}
a = rng.standard_normal((3, 4, 4))
cases["inverse"] = {"a": t(a), "x": t(np.linalg.inv(a))}
sign, logabs = np.linalg.slogdet(a)
cases["determinant"] = {"a": t(a), "det": t(np.linalg.det(a)), "sign": t(sign), "logabs": t(logabs)}
a = 0.01 * rng.standard_normal((2, 30, 30))  # |det| ~ 1e-30: slogdet stays accurate
sign, logabs = np.linalg.slogdet(a)
cases["slogdet_small"] = {"a": t(a), "sign": t(sign), "logabs": t(logabs)}

# QR, SVD, eigh
for name, shape in [("tall", (7, 4)), ("wide", (3, 5)), ("batched", (2, 5, 5))]:
    a = rng.standard_normal(shape)
    q, r = np.linalg.qr(a)
    cases["qr_" + name] = {"a": t(a), "q": t(q), "r": t(r)}
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    cases["svd_" + name] = {"a": t(a), "u": t(u), "s": t(s), "vt": t(vt)}
a = with_singular_values(6, 5, np.logspace(0, -9, 5))
u, s, vt = np.linalg.svd(a, full_matrices=False)
cases["svd_illconditioned"] = {"a": t(a), "u": t(u), "s": t(s), "vt": t(vt)}
for name, shape in [("single", (6, 6)), ("batched", (2, 3, 5, 5))]:
    x = rng.standard_normal(shape)
    a = x + np.swapaxes(x, -1, -2)
    w, v = np.linalg.eigh(a)
    cases["eigh_" + name] = {"a": t(a), "values": t(w), "vectors": t(v)}

# pseudo-inverse and least squares (full rank tall and wide, rank-deficient)
for name, a in [("tall", rng.standard_normal((6, 4))), ("wide", rng.standard_normal((4, 6))),
                ("rank3", with_singular_values(5, 5, np.array([3.0, 2.0, 1.0, 0.0, 0.0])))]:
    b = rng.standard_normal((a.shape[0], 2))
    cases["pinv_" + name] = {"a": t(a), "p": t(np.linalg.pinv(a))}
    cases["lstsq_" + name] = {"a": t(a), "b": t(b), "x": t(np.linalg.lstsq(a, b, rcond=None)[0])}

# norms
x = rng.standard_normal((3, 4))
vector = {}
for p in [1, 2, 3, 0.5, 0]:
    vector[str(p)] = t(np.linalg.norm(x, ord=p, axis=1))
vector["inf"] = t(np.linalg.norm(x, ord=np.inf, axis=1))
vector["-inf"] = t(np.linalg.norm(x, ord=-np.inf, axis=1))
matrix = {}
for key, ord_ in [("fro", "fro"), ("nuc", "nuc"), ("1", 1), ("-1", -1), ("2", 2), ("-2", -2),
                  ("inf", np.inf), ("-inf", -np.inf)]:
    matrix[key] = float(np.linalg.norm(x, ord=ord_))
cases["norm"] = {"x": t(x), "vector_axis1": vector, "matrix": matrix, "all": float(np.linalg.norm(x))}

# pairwise distances (cdist) by broadcasting
x = rng.standard_normal((2, 5, 3)); y = rng.standard_normal((2, 4, 3))
diff = x[:, :, None, :] - y[:, None, :, :]
cases["cdist"] = {"x": t(x), "y": t(y), "p2": t(np.sqrt((diff ** 2).sum(-1))), "p1": t(np.abs(diff).sum(-1))}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg_ops.json")
with open(path, "w") as f:
    json.dump(cases, f)
print("wrote", path, len(cases), "cases")
