"""The LightGBM objective call alone (what a boosting round adds): two versions, interleaved.

The old version extracted as in bench/ab_kernels.py; ``python bench/ab_lgb_objective.py [OLD_DIR] [LOSS]``
(LOSS: czar by default). Prints wall and CPU time (the process's, all threads: what waiting
for a core on a loaded machine does not inflate).
"""

import statistics
import sys
import time

import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else "/tmp/ab/old")
import czar_gbdt_old as old
from czar_gbdt_old import lightgbm as olx

import czar_gbdt as new
from czar_gbdt import lightgbm as nlx

n = 1_000_000
rng = np.random.default_rng(0)
X = rng.normal(size=(n, 5)).astype(np.float32)
s = 0.01 * np.exp(0.3 * rng.normal(size=n))
y = s * rng.standard_t(4, n)
p = s * rng.normal(0, 0.5, n)
loss = sys.argv[2] if len(sys.argv) > 2 else "czar"
res = {}
for side, mod, pkg in (("old", olx, old), ("new", nlx, new)):
    ds = mod.Dataset(X, y, std=s, free_raw_data=False).construct()
    obj = mod.objective(pkg.get_loss(loss), check_start=False)
    res[side] = (obj, ds)
for _ in range(3):
    for side in res:
        res[side][0](p, res[side][1])
t = {"old": [], "new": []}
c = {"old": [], "new": []}
for _ in range(41):
    for side in ("old", "new"):
        obj, ds = res[side]
        t0, c0 = time.perf_counter(), time.process_time()
        obj(p, ds)
        t[side].append(time.perf_counter() - t0)
        c[side].append(time.process_time() - c0)
mo, mn = statistics.median(t["old"]), statistics.median(t["new"])
co, cn = statistics.median(c["old"]), statistics.median(c["new"])
print(
    f"{loss} objective call, 1M rows: wall old {mo * 1e3:.2f} ms, new {mn * 1e3:.2f} ms, new/old {mn / mo:.3f}; "
    f"cpu old {co * 1e3:.2f} ms, new {cn * 1e3:.2f} ms, new/old {cn / co:.3f}"
)
