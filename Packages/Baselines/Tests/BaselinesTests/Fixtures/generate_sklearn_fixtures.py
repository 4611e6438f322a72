"""Writes sklearn_fixtures.json: scikit-learn 1.9's fits on the datasets its wheel ships
(diabetes, linnerud, iris, breast cancer) for BaselinesTests.

    .venv-peers/bin/python Packages/Baselines/Tests/BaselinesTests/Fixtures/generate_sklearn_fixtures.py
"""
import json
import os

import numpy as np
from sklearn import datasets
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

here = os.path.dirname(os.path.abspath(__file__))

def t(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [repr(float(v)) for v in a.reshape(-1)]}

out = {}
d = datasets.load_diabetes(scaled=False)
x, y = d.data, d.target
out["diabetes"] = {"x": t(x), "y": t(y)}
for alpha in [0.0, 1.0, 100.0]:
    m = LinearRegression() if alpha == 0 else Ridge(alpha=alpha, solver="cholesky")
    m.fit(x, y)
    out["diabetes"][f"alpha_{alpha:g}"] = {"coef": t(m.coef_), "intercept": t(m.intercept_), "r2": m.score(x, y)}
l = datasets.load_linnerud()
m = Ridge(alpha=10.0, solver="cholesky").fit(l.data, l.target)
out["linnerud"] = {"x": t(l.data), "y": t(l.target), "coef": t(m.coef_.T), "intercept": t(m.intercept_)}
s = StandardScaler().fit(x)
out["diabetes"]["scaler"] = {"mean": t(s.mean_), "scale": t(s.scale_)}
for name, loader in [("iris", datasets.load_iris), ("breast_cancer", datasets.load_breast_cancer)]:
    b = loader()
    xs = StandardScaler().fit_transform(b.data)
    m = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(xs, b.target)
    knn = KNeighborsClassifier(n_neighbors=5).fit(xs[::2], b.target[::2])
    out[name] = {"x": t(xs), "y": t(b.target), "coef": t(m.coef_), "intercept": t(m.intercept_),
                 "knn5_odd_predictions": t(knn.predict(xs[1::2]))}
with open(os.path.join(here, "sklearn_fixtures.json"), "w") as f:
    json.dump(out, f)
print("wrote sklearn_fixtures.json")
