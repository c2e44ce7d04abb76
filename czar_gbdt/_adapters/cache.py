"""The binned datasets of ``train_loss`` reused across trials: :data:`DATASETS`.

A LightGBM ``Dataset``, an XGBoost ``DMatrix`` or a CatBoost quantized ``Pool`` depends
only on the fold's features and the dataset-level booster parameters, not on the loss, so
every trial of a process can train on the one built by the first. :class:`DatasetCache`
keeps them (least recently used first out, under a cap in bytes); :class:`ContentKey`
is the part of their keys that stands for the fold's arrays.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

__all__ = ["ContentKey", "DatasetCache", "DATASETS", "Lent", "CACHE_ENV", "DEFAULT_CACHE_MB"]

#: Rows of each array that enter a :class:`ContentKey`'s hash (evenly spaced, the first and the last included).
SAMPLE_ROWS = 64


class ContentKey:
    """A cache key standing for arrays by their values (``None`` allowed), cheap to look up.

    Hashing every byte of a fold's features in every trial cost more than the rest of the
    dataset work (BLAKE2 of the main job's 10 MB folds: 8 ms each, 25 ms of a 0.7 s trial).
    This key hashes the shapes, the dtypes and :data:`SAMPLE_ROWS` rows of each array, and two
    keys with the same hash are compared value by value (``numpy.array_equal``, NaN equal to
    NaN; about 0.4 ms per 10 MB). Dates and durations compare as their integer ticks.

    A key compares the arrays it was given, which their owner may still change; the key a
    :class:`DatasetCache` keeps is :meth:`owned`: a copy, taken once when the entry is stored,
    so that arrays changed in place afterwards are not taken for those the dataset was built from.
    """

    __slots__ = ("arrays", "_meta", "_hash")

    def __init__(self, *arrays: Any):
        given = [None if a is None else np.asarray(a) for a in arrays]
        self._meta = tuple(None if a is None else (a.shape, a.dtype.str) for a in given)
        self.arrays = tuple(None if a is None else _comparable(a) for a in given)
        h = hashlib.blake2b(digest_size=16)
        for a in self.arrays:
            if a is not None:
                h.update(_sample(a))
        self._hash = hash((self._meta, h.digest()))

    def owned(self) -> ContentKey:
        """The same key over copies of its arrays (what a cache keeps)."""
        key = object.__new__(ContentKey)
        key.arrays = tuple(None if a is None else a.copy() for a in self.arrays)
        key._meta, key._hash = self._meta, self._hash
        return key

    @property
    def nbytes(self) -> int:
        """The bytes of its arrays."""
        return sum(a.nbytes for a in self.arrays if a is not None)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContentKey):
            return NotImplemented
        return (
            self._hash == other._hash
            and self._meta == other._meta
            and all(_same_values(a, b) for a, b in zip(self.arrays, other.arrays))
        )

    def __repr__(self) -> str:
        return f"ContentKey({', '.join('None' if m is None else f'{m[1]}{list(m[0])}' for m in self._meta)})"


def _comparable(a: np.ndarray) -> np.ndarray:
    """``a`` in a form ``numpy.array_equal`` compares by value: dates and durations as int64 ticks."""
    return a.view(np.int64) if a.dtype.kind in "mM" else a


def _sample(a: np.ndarray) -> bytes:
    """The bytes of :data:`SAMPLE_ROWS` evenly spaced rows of ``a``, in a form equal values share
    (-0.0 as 0.0, every NaN alike, objects as their text)."""
    if a.ndim == 0:
        a = a.reshape(1)
    rows = np.unique(np.linspace(0, a.shape[0] - 1, min(a.shape[0], SAMPLE_ROWS)).astype(np.intp))
    sample = np.ascontiguousarray(a[rows])
    if sample.dtype.kind == "O":
        return "\x1f".join(map(str, sample.ravel().tolist())).encode()
    if sample.dtype.kind in "fc":
        sample = np.where(np.isnan(sample), np.nan, sample + 0)  # -0.0 + 0 is 0.0
    return sample.tobytes()


def _same_values(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is b:
        return True
    if a is None or b is None:
        return False
    if np.array_equal(a, b):
        return True
    return a.dtype.kind in "fc" and np.array_equal(a, b, equal_nan=True)


def owned_key(key: Any) -> Any:
    """``key`` with every :class:`ContentKey` in it (nested in tuples) replaced by its :meth:`~ContentKey.owned` copy."""
    if isinstance(key, ContentKey):
        return key.owned()
    if isinstance(key, tuple):
        return tuple(owned_key(k) for k in key)
    return key


def key_nbytes(key: Any) -> int:
    """The bytes the :class:`ContentKey` objects in ``key`` hold."""
    if isinstance(key, ContentKey):
        return key.nbytes
    if isinstance(key, tuple):
        return sum(key_nbytes(k) for k in key)
    return 0


#: The environment variable holding the cap of :data:`DATASETS` in MiB (0 switches the cache off).
CACHE_ENV = "CZAR_GBDT_DATASET_CACHE_MB"
#: The cap when the variable is not set.
DEFAULT_CACHE_MB = 1024


class Lent(NamedTuple):
    """A dataset lent by :meth:`DatasetCache.lend`.

    ``reused``: it was built by an earlier training (set this training's labels, weights
    and side data on it). ``cached``: it belongs to the cache (False: built for this
    training alone, when the cache is off, full or the entry is lent to another thread).
    """

    dataset: Any
    reused: bool
    cached: bool


class DatasetCache:
    """Binned datasets built once per process and lent to every training whose key matches.

    A backend module's ``train_loss`` builds its dataset (LightGBM ``Dataset``, XGBoost
    ``DMatrix``, CatBoost quantized ``Pool``) through :meth:`lend`, keyed by the backend, the
    content of the fold's features and weights (a :class:`ContentKey`) and the booster parameters
    that change the binning (the rest, such as the learning rate or ``min_data_in_leaf`` with
    LightGBM's ``feature_pre_filter`` off, do not enter the key). A trial that searches a
    dataset-level parameter thus gets its own dataset. The labels, side data and starting
    score of a reused dataset are set again by the training that borrows it (CatBoost, which
    cannot set a Pool's labels, keys its Pools by their labels and ``std`` as well).

    Memory stays below ``max_bytes`` (the sizes are the caller's estimates): the least
    recently used entries are dropped first, and a dataset larger than the cap is not kept.
    The cap is read from ``$CZAR_GBDT_DATASET_CACHE_MB`` (MiB, default
    :data:`DEFAULT_CACHE_MB`; 0 switches the cache off) unless given. One dataset is lent to
    one training at a time: a concurrent training of the same fold builds its own.
    """

    def __init__(self, max_bytes: int | None = None):
        self._max_bytes = max_bytes
        self._entries: OrderedDict = OrderedDict()  # key -> (dataset, size, the key as kept)
        self._lent: set = set()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @property
    def max_bytes(self) -> int:
        """The cap in bytes (the constructor's, else ``$CZAR_GBDT_DATASET_CACHE_MB``)."""
        if self._max_bytes is not None:
            return self._max_bytes
        raw = os.environ.get(CACHE_ENV, "")
        try:
            mb = float(raw) if raw.strip() else DEFAULT_CACHE_MB
        except ValueError:
            raise ValueError(f"{CACHE_ENV} must be a number of MiB (0 switches the cache off); got {raw!r}.") from None
        if not mb >= 0:
            raise ValueError(f"{CACHE_ENV} must be >= 0 (MiB); got {raw!r}.")
        return int(mb * 2**20)

    @property
    def nbytes(self) -> int:
        """The estimated bytes held."""
        with self._lock:
            return sum(e[1] for e in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Drop every entry (lent datasets stay with their borrowers)."""
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    @contextmanager
    def lend(self, key: tuple, build: Callable[[], Any], size: int) -> Iterator[Lent]:
        """Lend the dataset of ``key``, built by ``build()`` on a miss (``size``: its estimated bytes,
        to which the cache adds the copies its key keeps: :meth:`ContentKey.owned`)."""
        cap = self.max_bytes
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[2] not in self._lent:
                stored = entry[2]  # the kept key: later lookups match it by identity, not by value
                self._entries.move_to_end(stored)
                self._lent.add(stored)
                self.hits += 1
            else:
                entry = None
                self.misses += 1
        if entry is not None:
            try:
                yield Lent(entry[0], True, True)
            finally:
                with self._lock:
                    self._lent.discard(stored)
            return
        dataset = build()
        size += key_nbytes(key)
        keep = 0 < size <= cap
        with self._lock:
            keep = keep and key not in self._lent and key not in self._entries
            if keep:
                self._lent.add(key)
        try:
            yield Lent(dataset, False, keep)
        except BaseException:
            keep = False  # a failed training may leave the dataset half set up: do not keep it
            raise
        finally:
            with self._lock:
                if keep:
                    self._lent.discard(key)
                    stored = owned_key(key)
                    self._entries[stored] = (dataset, size, stored)
                    total = sum(e[1] for e in self._entries.values())
                    while total > cap and self._entries:
                        _, (_, dropped, _) = self._entries.popitem(last=False)
                        total -= dropped


#: The process's dataset cache (``train_loss`` of the lightgbm, xgboost and catboost modules).
DATASETS = DatasetCache()
