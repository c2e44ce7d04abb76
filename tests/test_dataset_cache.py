"""The dataset cache: binned training datasets built once per fold and process, reused by trials."""

import numpy as np
import pandas as pd
import pytest
from study_helpers import FF49_TINY, study_table

import czar_gbdt as cg
from czar_gbdt import _adapters as ad
from czar_gbdt import lightgbm as clx
from czar_gbdt import tuning
from czar_gbdt.config import load_config


@pytest.fixture
def cache(monkeypatch):
    """The process's cache, emptied before and after; ``on(False)`` switches it off."""
    ad.DATASETS.clear()

    def on(enabled=True):
        monkeypatch.setenv(ad.CACHE_ENV, "1024" if enabled else "0")
        ad.DATASETS.clear()

    on()
    yield on
    ad.DATASETS.clear()


def fold(seed=0, n=600, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    std = 0.01 * np.exp(rng.normal(size=n) * 0.3)
    y = std * (X[:, 0] * 0.3 + rng.standard_t(4, n))
    return X, y, std


def test_a_study_gives_the_same_trials_with_and_without_the_cache(cache, tmp_path):
    """Same seed, same study (TPE over the learning rate, leaves and min_data_in_leaf, the loss's
    parameters): the trial values are those of building every Dataset per trial, and the
    trials after the first reuse the folds' Datasets."""
    text = ("\n" + study_table("cache") + FF49_TINY).format(runs=tmp_path / "runs")
    text = text.replace("n_trials = 2", "n_trials = 3\nn_startup_trials = 2").replace(
        'sampler = "random"', 'sampler = "tpe"'
    )
    text = text.replace("[model.params]", "[model.params]\nmin_child_samples = { low = 5, high = 200, log = true }")
    path = tmp_path / "cache.toml"
    path.write_text(text)
    trials = {}
    for enabled in (False, True):
        cache(enabled)
        cfg = load_config(path, {"study": {"name": f"cache_{enabled}"}})
        study = tuning.tune(cfg, show_progress=False)
        trials[enabled] = [(t.state, t.params, t.value, t.intermediate_values) for t in study.trials]
        stats = (ad.DATASETS.hits, ad.DATASETS.misses, len(ad.DATASETS))
    assert len(trials[True]) == 3 and len({repr(t[1]) for t in trials[True]}) == 3
    assert trials[False] == trials[True]
    # hits, misses, kept: 2 folds built by the first trial and reused by 2, and the warm-up's tiny panel
    assert stats == (4, 3, 3), stats


def test_labels_side_data_and_start_are_reset_per_training(cache):
    """A reused Dataset trains on the labels, std and starting score of the new training."""
    X, y, std = fold()
    y2 = y[::-1].copy()
    loss = cg.CZAR(alpha=0.3)
    params = {"num_leaves": 4, "learning_rate": 0.1}
    kw = dict(params=params, num_boost_round=10)
    clx.train_loss(cg.CZAR(alpha=0.9), X, y, std=std, **kw)
    assert len(ad.DATASETS) == 1
    cached = clx.train_loss(loss, X, y2, std=std * 2, **kw).predict(X)
    assert ad.DATASETS.hits == 1
    cache(False)
    fresh = clx.train_loss(loss, X, y2, std=std * 2, **kw).predict(X)
    np.testing.assert_array_equal(cached, fresh)


def test_validation_datasets_are_reused_too(cache):
    X, y, std = fold(1)
    Xv, yv, stdv = fold(2, n=300)
    dates = np.repeat(np.arange(30), 10)
    kw = dict(
        std=std,
        valid_X=Xv,
        valid_y=yv,
        valid_std=stdv,
        valid_dates=dates,
        early_stopping_rounds=3,
        params={"num_leaves": 4, "learning_rate": 0.3},
        num_boost_round=30,
    )
    first = clx.train_loss(cg.CZAR(alpha=0.2), X, y, **kw)
    second = clx.train_loss(cg.CZAR(alpha=0.8), X, y, **kw)
    assert len(ad.DATASETS) == 2 and ad.DATASETS.hits == 2
    cache(False)
    fresh = clx.train_loss(cg.CZAR(alpha=0.8), X, y, **kw)
    assert second.rounds == fresh.rounds
    np.testing.assert_array_equal(second.predict(Xv), fresh.predict(Xv))
    assert first.rounds >= 1


def test_a_dataset_level_parameter_gets_its_own_dataset(cache):
    """max_bin changes the binning: its own entry; the learning rate and min_data_in_leaf do not."""
    X, y, std = fold(3)
    for params in ({"max_bin": 63}, {"max_bin": 63, "learning_rate": 0.05, "min_child_samples": 7}, {"max_bin": 15}):
        clx.train_loss(cg.CZAR(), X, y, std=std, params=params, num_boost_round=3)
    assert len(ad.DATASETS) == 2 and ad.DATASETS.hits == 1
    # with LightGBM's feature_pre_filter on, min_data_in_leaf decides which features are kept
    clx.train_loss(
        cg.CZAR(), X, y, std=std, params={"feature_pre_filter": True, "min_child_samples": 7}, num_boost_round=3
    )
    clx.train_loss(
        cg.CZAR(), X, y, std=std, params={"feature_pre_filter": True, "min_child_samples": 9}, num_boost_round=3
    )
    assert len(ad.DATASETS) == 4 and ad.DATASETS.hits == 1


def test_least_recently_used_entries_go_first_under_the_cap():
    cache = ad.DatasetCache(max_bytes=250)
    built = []

    def use(key, size=100):
        with cache.lend(key, lambda: built.append(key) or object(), size) as lent:
            return lent

    use("a"), use("b"), use("a"), use("c")  # c pushes out b, the least recently used
    assert built == ["a", "b", "c"] and len(cache) == 2 and cache.nbytes == 200
    assert use("a").reused and not use("b").reused
    huge = use("huge", size=251)  # larger than the cap: used once, not kept
    assert not huge.cached and len(cache) == 2 and not use("huge", size=251).reused
    off = ad.DatasetCache(max_bytes=0)
    assert not off.lend("a", object, 1).__enter__().cached


def test_a_lent_dataset_is_not_lent_twice():
    cache = ad.DatasetCache(max_bytes=1000)
    with cache.lend("k", object, 10) as first:
        with cache.lend("k", object, 10) as second:
            assert first.cached and not second.cached and second.dataset is not first.dataset
    with cache.lend("k", object, 10) as again:
        assert again.reused and again.dataset is first.dataset


def test_the_cap_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv(ad.CACHE_ENV, "2")
    assert ad.DatasetCache().max_bytes == 2 * 2**20
    monkeypatch.setenv(ad.CACHE_ENV, "lots")
    with pytest.raises(ValueError, match="CZAR_GBDT_DATASET_CACHE_MB must be a number of MiB"):
        ad.DatasetCache().max_bytes
    monkeypatch.delenv(ad.CACHE_ENV)
    assert ad.DatasetCache().max_bytes == ad.DEFAULT_CACHE_MB * 2**20


def test_xgboost_dmatrices_are_reused_with_the_labels_of_each_training(cache):
    from czar_gbdt import xgboost as cx

    X, y, std = fold(4)
    Xv, yv, stdv = fold(5, n=300)
    dates = np.repeat(np.arange(30), 10)
    kw = dict(
        valid_X=Xv,
        valid_y=yv,
        valid_std=stdv,
        valid_dates=dates,
        early_stopping_rounds=3,
        params={"max_depth": 2, "learning_rate": 0.3},
        num_boost_round=20,
    )
    cx.train_loss(cg.CZAR(alpha=0.9), X, y, std=std, **kw)
    cached = cx.train_loss(cg.CZAR(alpha=0.2), X, y[::-1].copy(), std=std * 2, **{**kw, "params": {"max_bin": 31}})
    assert len(ad.DATASETS) == 2 and ad.DATASETS.hits == 2
    cache(False)
    fresh = cx.train_loss(cg.CZAR(alpha=0.2), X, y[::-1].copy(), std=std * 2, **{**kw, "params": {"max_bin": 31}})
    assert cached.rounds == fresh.rounds
    np.testing.assert_array_equal(cached.predict(Xv), fresh.predict(Xv))


# --------------------------------------------------------------------------- CatBoost Pools
def _catboost_study(tmp_path, name):
    from config_helpers import make_config, small_study

    return make_config(
        tmp_path,
        f"{name}.toml",
        study=small_study(name, tmp_path / "runs", n_trials=3),
        data={"source": "ff49", "start": "2017-01-01", "horizon": 5},
        splits={"test_size": 120, "min_train_size": 400, "holdout": 120, "max_splits": 1, "valid_size": 60},
        model={
            "backend": "catboost",
            "num_boost_round": 15,
            "early_stopping_rounds": 5,
            "params": {
                "learning_rate": {"low": 0.05, "high": 0.3},
                "depth": {"low": 2, "high": 4},
                "l2_leaf_reg": {"low": 1.0, "high": 5.0},
                "thread_count": 2,
            },
        },
        loss={"name": "czar", "czar": {"alpha": 0.5}},
    )


def test_a_catboost_study_gives_the_same_trials_with_and_without_the_pool_cache(cache, tmp_path):
    """Same seed, same CatBoost study (depth, learning rate and l2_leaf_reg searched): the trial
    values are those of building and quantizing every Pool per trial, and each fold's Pool is
    built once: by the first trial, then lent to the others."""
    trials, stats = {}, {}
    for enabled in (False, True):
        cache(enabled)
        cfg = load_config(_catboost_study(tmp_path, f"cb_{enabled}"))
        study = tuning.tune(cfg, show_progress=False)
        trials[enabled] = [(t.state, t.params, t.value, t.intermediate_values) for t in study.trials]
        stats[enabled] = (ad.DATASETS.hits, ad.DATASETS.misses, len(ad.DATASETS))
    assert len(trials[True]) == 3 and len({repr(t[1]) for t in trials[True]}) == 3
    assert trials[False] == trials[True]
    assert stats[False][2] == 0  # the cache off keeps nothing
    # hits, misses, kept: the fold's training and validation Pools built by the first trial and
    # reused by the other 2, and the warm-up's two Pools of its tiny panel
    assert stats[True] == (4, 4, 4), stats[True]


def test_catboost_pools_are_quantized_once_and_lent_with_their_labels(cache):
    """The training Pool comes back quantized; the validation Pool is reused too; the results
    equal those of fresh Pools. Other labels (CatBoost has no set_label) get their own Pool."""
    from czar_gbdt import catboost as ccb

    X, y, std = fold(6)
    Xv, yv, stdv = fold(7, n=300)
    dates = np.repeat(np.arange(30), 10)
    kw = dict(
        std=std, valid_X=Xv, valid_y=yv, valid_std=stdv, valid_dates=dates, early_stopping_rounds=3, num_boost_round=25
    )
    ccb.train_loss(cg.CZAR(alpha=0.9), X, y, params={"depth": 2, "learning_rate": 0.3}, **kw)
    cached = ccb.train_loss(cg.CZAR(alpha=0.2), X, y, params={"depth": 3, "learning_rate": 0.2}, **kw)
    assert len(ad.DATASETS) == 2 and ad.DATASETS.hits == 2
    pools = [entry[0] for entry in ad.DATASETS._entries.values()]
    assert [p.is_quantized() for p in pools] == [True, False]  # the training Pool, the validation Pool
    ccb.train_loss(cg.CZAR(alpha=0.2), X, y[::-1].copy(), params={"depth": 3}, num_boost_round=3, std=std)
    assert len(ad.DATASETS) == 3 and ad.DATASETS.hits == 2
    cache(False)
    fresh = ccb.train_loss(cg.CZAR(alpha=0.2), X, y, params={"depth": 3, "learning_rate": 0.2}, **kw)
    assert cached.rounds == fresh.rounds
    np.testing.assert_array_equal(cached.predict(Xv, stdv), fresh.predict(Xv, stdv))


def test_a_quantization_parameter_gets_its_own_catboost_pool(cache):
    """border_count changes the quantization: its own Pool; depth and the learning rate do not."""
    from czar_gbdt import catboost as ccb

    X, y, std = fold(8)
    for params in (
        {"border_count": 32},
        {"border_count": 32, "depth": 3, "learning_rate": 0.05},
        {"border_count": 16},
        {"max_bin": 16},
    ):
        ccb.train_loss(cg.CZAR(), X, y, std=std, params=params, num_boost_round=3)
    assert len(ad.DATASETS) == 2 and ad.DATASETS.hits == 2
    from czar_gbdt.catboost.training import quantization

    assert quantization({"max_bin": 16, "random_state": 1, "depth": 3}) == {"border_count": 16, "random_seed": 1}


def test_content_keys_match_by_value_and_tell_a_change_outside_their_sample():
    """Equal values (another array, another memory order, -0.0 for 0.0, NaN for NaN) give equal keys with
    one hash; one value changed in a row the hash does not sample gives another key."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1000, 4))
    X[3, 1], X[7, 2] = np.nan, 0.0
    same = np.asfortranarray(X.copy())
    same[7, 2] = -0.0
    key = ad.ContentKey(X, None)
    assert ad.ContentKey(same, None) == key and hash(ad.ContentKey(same, None)) == hash(key)
    sampled = set(np.linspace(0, 999, ad.cache.SAMPLE_ROWS).astype(int))
    row = next(r for r in range(1000) if r not in sampled)
    changed = X.copy()
    changed[row, 0] += 1e-12
    assert hash(ad.ContentKey(changed, None)) == hash(key)  # the sample cannot see it ...
    assert ad.ContentKey(changed, None) != key  # ... the comparison does
    assert ad.ContentKey(X, np.ones(1000)) != key and ad.ContentKey(X[:999], None) != key
    assert ad.ContentKey(X.astype(np.float32), None) != key
    dates = pd.date_range("2020-01-01", periods=5).to_numpy()
    assert ad.ContentKey(dates) == ad.ContentKey(dates.copy()) != ad.ContentKey(dates + np.timedelta64(1, "D"))


def test_a_cached_dataset_is_not_lent_for_arrays_changed_in_place():
    """The cache keeps its own copy of a key's arrays: the same array object, changed in place, is
    another fold; the copy counts in the entry's size."""
    cache = ad.DatasetCache(max_bytes=10**6)
    X = np.arange(200.0).reshape(100, 2)
    with cache.lend(("t", ad.ContentKey(X)), object, 10) as first:
        pass
    assert cache.nbytes == 10 + X.nbytes
    with cache.lend(("t", ad.ContentKey(X.copy())), object, 10) as again:
        assert again.reused and again.dataset is first.dataset
    X[50, 1] = -1.0
    with cache.lend(("t", ad.ContentKey(X)), object, 10) as changed:
        assert not changed.reused and changed.dataset is not first.dataset
