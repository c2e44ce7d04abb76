"""Data and spies shared by the classification, soft-F1 and schedule tests (test_classification.py,
test_soft_f1.py, test_schedules.py)."""

import numpy as np

# One thread: on a busy machine OpenMP teams wait on each other (xgboost: 2 s instead of 0.05 s
# for 15 rounds on 240 rows with 2 threads), and one thread makes the trees deterministic.
QUIET = {"verbose": -1, "num_threads": 1}
ONE = {"nthread": 1}


def binary_data(n=300, seed=0, rate=0.15):
    """Features and labels with ~``rate`` positives and a planted signal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    score = X[:, 0] - 0.6 * X[:, 1] + 0.8 * rng.normal(size=n)
    y = (score > np.quantile(score, 1 - rate)).astype(np.float64)
    return X, y


def payload(n=80, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(np.float64)
    y[:2] = [0.0, 1.0]
    x = rng.normal(size=n) * 2
    w = rng.uniform(0.5, 2.0, n)
    return y, x, w


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class Spy:
    """Wraps a backend objective and logs (predictions, grad, hess) of every call, and the labels."""

    def __init__(self, obj):
        self.obj, self.log, self.labels = obj, [], []

    def __deepcopy__(self, memo):
        return self  # LightGBM deep-copies its parameters

    def __call__(self, preds, data):
        g, h = self.obj(preds, data)
        self.log.append((np.asarray(preds, dtype=np.float64).copy(), g.copy(), h.copy()))
        self.labels.append(np.asarray(data.get_label(), dtype=np.float64).copy())
        return g, h
