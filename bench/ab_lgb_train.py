"""60 rounds of LightGBM with CZAR, one version per process: ``python bench/ab_lgb_train.py old|new``.

The old version extracted as in bench/ab_kernels.py (into /tmp/ab/old); run the two sides
alternately, several times: the shared machine moves single runs by 20%.
"""

import sys
import time

side = sys.argv[1]
if side == "old":
    sys.path.insert(0, "/tmp/ab/old")
    from czar_gbdt_old import lightgbm as mod
else:
    from czar_gbdt import lightgbm as mod
import lightgbm as lgb
import numba
import numpy as np

n = 1_000_000
rng = np.random.default_rng(0)
X = rng.normal(size=(n, 50)).astype(np.float32)
s = 0.01 * np.exp(0.3 * rng.normal(size=n))
y = s * (0.3 * np.tanh(X[:, 0]) + rng.standard_t(4, n))
params = {"num_leaves": 63, "learning_rate": 0.1, "max_bin": 255, "num_threads": 2, "verbose": -1}
d = lgb.Dataset(X, y, params={"max_bin": 255, "verbose": -1}, free_raw_data=False).construct()
mod.attach(d, std=s)
mod.train(params, d, 5, objective="czar")
ts = []
for rep in range(3):
    t0 = time.perf_counter()
    mod.train(params, d, 60, objective="czar")
    ts.append(time.perf_counter() - t0)
print(side, "threading layer", numba.threading_layer(), "threads", numba.get_num_threads(), [f"{t:.2f}" for t in ts])
