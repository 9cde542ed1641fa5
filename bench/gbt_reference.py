"""scikit-learn's HistGradientBoosting on the data of bench/gbt-bench.mjs (median of 3 fits).

    node bench/gbt-bench.mjs [--rows N] [--task T] [--no-early-stopping]   # writes the data first
    /usr/bin/python3 bench/gbt_reference.py [same flags]

Same settings as ours: the defaults, the categorical mask, random_state = run index. Prints the
medians and, when ours[-noes].json is there, the ratio ours / sklearn.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor


def flag(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


rows = int(flag("--rows", "1000000"))
task = flag("--task", "classification")
early = False if "--no-early-stopping" in sys.argv else "auto"
d = os.path.join("/tmp/gbt-bench", f"{task}-{rows}")
meta = json.load(open(os.path.join(d, "meta.json")))
X = np.fromfile(os.path.join(d, "X.f64"), dtype=np.float64).reshape(meta["features"], rows).T.copy()
y = np.fromfile(os.path.join(d, "y.f64"), dtype=np.float64)
Model = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
times = []
for run in range(3):
    t0 = time.perf_counter()
    m = Model(categorical_features=meta["categorical"], early_stopping=early, random_state=run).fit(X, y)
    times.append(time.perf_counter() - t0)
    print(f"run {run + 1}: {times[-1]:.2f} s, {m.n_iter_} iterations", flush=True)
median = sorted(times)[1]
print(f"sklearn: median {median:.2f} s over 3 runs ({rows} x {meta['features']}, {task}, early_stopping {early})")
ours_path = os.path.join(d, "ours-noes.json" if early is False else "ours.json")
if os.path.exists(ours_path):
    ours = json.load(open(ours_path))
    print(f"ours: median {ours['median']:.2f} s ({ours['n_iter']} iterations); ratio ours/sklearn = {ours['median'] / median:.2f}")
