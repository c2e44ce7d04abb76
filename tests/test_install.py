"""The light install: XGBoost and CatBoost are extras, and the LightGBM main job never needs them.

Each test runs a fresh Python in which ``import xgboost`` and ``import catboost`` fail, as in
a venv made with ``pip install -e .`` alone (bench/RESULTS.md, "Install size", measures that
venv for real): ``sys.modules[name] = None`` makes every import of the package, or of one of
its submodules, raise ImportError, and ``importlib.util.find_spec`` report it missing.
"""

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from study_helpers import FF49_TINY, study_table

ROOT = Path(__file__).resolve().parents[1]

#: The first lines of every script: the optional backends (and what CatBoost pulls in) absent.
BLOCK = textwrap.dedent("""\
    import sys
    for name in ("xgboost", "catboost", "plotly"):
        sys.modules[name] = None
""")


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        timeout=240,
    )


@pytest.mark.slow
def test_the_main_job_runs_without_xgboost_and_catboost(tmp_path):
    """``import czar_gbdt``, ``tune`` and ``report`` (its default baselines on the study's LightGBM)
    of a LightGBM study, through the CLI's entry point, with neither booster importable."""
    config = tmp_path / "tiny.toml"
    config.write_text("\n" + study_table("light").format(runs=tmp_path / "runs") + FF49_TINY.format())
    code = f"""
        import czar_gbdt
        from czar_gbdt.cli import main
        assert main(["tune", "--config", {str(config)!r}, "--no-progress"]) == 0
        assert main(["report", "--config", {str(config)!r}]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("xgboost", "catboost") and sys.modules[m])
        print("LOADED", loaded)
    """
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOADED []" in result.stdout
    holdout = json.loads((tmp_path / "runs" / "light" / "holdout.json").read_text())
    assert [m["spec"] for m in holdout["models"]] == ["tuned", "builtin", "ranking"]


@pytest.mark.slow
def test_a_missing_backend_names_its_extra(tmp_path):
    """Using XGBoost or CatBoost without it installed: an ImportError that says which extra installs it."""
    code = """
        import czar_gbdt as cg
        from czar_gbdt import catboost as ccb, xgboost as cx
        for module in (cx, ccb):
            try:
                module.objective(cg.CZAR())
            except ImportError as exc:
                print("ERROR", exc)
            else:
                raise SystemExit(f"{module.__name__}.objective did not raise")
    """
    result = _run(code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    errors = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 2
    for line, name in zip(errors, ("xgboost", "catboost")):
        assert f'pip install -e ".[{name}]"' in line and f"czar_gbdt.{name}" in line, line


@pytest.mark.slow
def test_a_config_on_a_missing_backend_is_a_config_error(tmp_path):
    """``tune`` on ``model.backend = "xgboost"`` without XGBoost: exit 2 before any work, one line
    naming the key, the value and the extra, no traceback."""
    config = tmp_path / "xgb.toml"
    text = "\n" + study_table("xgb").format(runs=tmp_path / "runs") + FF49_TINY.format()
    config.write_text(
        text.replace('backend = "lightgbm"', 'backend = "xgboost"')
        .replace("num_leaves = { low = 4, high = 8 }\n", "max_depth = 3\n")
        .replace("num_threads = 2", "nthread = 2")
    )
    result = _run(
        f"""
        from czar_gbdt.cli import main
        sys.exit(main(["tune", "--config", {str(config)!r}, "--no-progress"]))
    """,
        tmp_path,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "model.backend = 'xgboost'" in lines[0] and 'pip install -e ".[xgboost]"' in lines[0], lines[0]
    assert not (tmp_path / "runs").exists()


def test_extras_declare_the_backends():
    """XGBoost and CatBoost are extras (and in `all`, `test` and so `dev`), not dependencies;
    optuna-integration, which nothing imports, is gone."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("<")[0].split("[")[0] for d in project["dependencies"]]
    assert "lightgbm" in names
    assert not {"xgboost", "catboost", "optuna-integration"} & set(names)
    extras = project["optional-dependencies"]
    assert extras["xgboost"] == ["xgboost>=3.1"] and extras["catboost"] == ["catboost>=1.2.8"]
    assert extras["all"] == ["czar-gbdt[xgboost,catboost]"]
    assert "czar-gbdt[all]" in extras["test"] and any(d.startswith("czar-gbdt[test") for d in extras["dev"])
    # every dependency is imported by the package
    sources = "\n".join(p.read_text() for p in (ROOT / "czar_gbdt").rglob("*.py"))
    for name in names:
        assert f"import {name}" in sources or f"from {name}" in sources, name
