"""Every failure the docs promise as exit code 2 is one line on stderr, with no traceback and no study.

The data line (``data: ...``) that a command prints once the data has loaded is the only
other line allowed: storage problems are found after the data (every data error comes
before the storage is touched).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from config_helpers import make_config, small_study

from czar_gbdt import tuning
from czar_gbdt.cli import main
from czar_gbdt.config import load_config
from czar_gbdt.datasets import make_synthetic_returns


@pytest.fixture(scope="module")
def returns_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "returns.csv"
    make_synthetic_returns(330, 6, seed=0).to_csv(path, index_label="date")
    return path


def write_config(tmp_path, data, *, runs=None, storage=None, learning_rate=0.1, num_leaves=None, loss="czar"):
    """A small config on ``data`` (1 fold, a 40-date holdout, 4 rounds) with ``num_leaves`` searched in [3, 6]
    unless given."""
    study = small_study("errs", runs or tmp_path / "runs", **({"storage": storage} if storage else {}))
    return make_config(
        tmp_path / "errs.toml",
        study=study,
        data={"source": data, "horizon": 5},
        splits={"test_size": 60, "min_train_size": 80, "holdout": 40, "max_splits": 1},
        model={
            "backend": "lightgbm",
            "num_boost_round": 4,
            "params": {"learning_rate": learning_rate, "num_leaves": num_leaves or {"low": 3, "high": 6}},
        },
        loss={"name": loss},
    )


def one_error_line(err: str, command: str = "tune") -> str:
    """The error line; besides it at most the data line, and no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    errors = [line for line in lines if line.startswith(f"czar-gbdt {command}: error: ")]
    assert len(errors) == 1 and all(line in errors or line.startswith("data: ") for line in lines), err
    return errors[0]


def no_db_under(folder: Path) -> bool:
    return not list(folder.rglob("*.db"))


def test_a_csv_named_parquet_an_empty_parquet_and_a_spreadsheet(tmp_path, returns_csv, capsys):
    cases = {
        "csv.parquet": (
            returns_csv.read_bytes(),
            ["could not be read as a table", "CSV (or another format) named .parquet"],
        ),
        "empty.parquet": (b"", ["the file is empty (0 bytes)"]),
        "book.xlsx": (b"PK\x03\x04 not really a workbook", ["unknown file type '.xlsx'", "Save As > CSV"]),
    }
    for name, (content, fragments) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert main(["tune", "--config", str(write_config(tmp_path, tmp_path / name)), "--no-progress"]) == 2, name
        line = one_error_line(capsys.readouterr().err)
        assert name in line and all(f in line for f in fragments), line
        assert not (tmp_path / "runs").exists()


def test_storage_and_runs_folders_that_cannot_be_made(tmp_path, returns_csv, capsys):
    # as root permissions are ignored: a folder under a regular file cannot be created by anyone
    (tmp_path / "somefile").write_text("a file, not a folder")
    url = f"sqlite:///{tmp_path / 'somefile' / 'sub' / 'study.db'}"
    cfg = write_config(tmp_path, returns_csv, storage=url)
    assert main(["tune", "--config", str(cfg), "--no-progress"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"study.storage (or --storage) '{url}': the folder of the SQLite file cannot be created" in line
    cfg = write_config(tmp_path, returns_csv, runs=tmp_path / "somefile" / "runs")
    assert main(["tune", "--config", str(cfg), "--no-progress"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"study.runs_dir '{tmp_path / 'somefile' / 'runs'}': the folder cannot be created" in line
    cfg = write_config(tmp_path, returns_csv, runs=tmp_path / "somefile" / "runs", num_leaves=4)  # fixed
    for argv in (
        ["evaluate", "--config", str(cfg)],
        ["compare", "--config", str(cfg), "--loss", "builtin", "--no-progress"],
    ):
        assert main(argv) == 2  # refused before any training, not when the outputs are written
        line = one_error_line(capsys.readouterr().err, argv[0])
        assert f"study.runs_dir '{tmp_path / 'somefile' / 'runs'}': the folder cannot be created" in line
    assert no_db_under(tmp_path)


def test_a_corrupted_sqlite_file(tmp_path, returns_csv, capsys):
    bad = tmp_path / "broken.db"
    bad.write_bytes(b"this is not a database " * 200)
    cfg = write_config(tmp_path, returns_csv, storage=f"sqlite:///{bad}")
    for command in ("tune", "report"):
        assert main([command, "--config", str(cfg)] + (["--no-progress"] if command == "tune" else [])) == 2
        line = one_error_line(capsys.readouterr().err, command)
        assert f"storage 'sqlite:///{bad}' cannot be opened as a study storage" in line
        assert "file is not a database" in line and "move the damaged file away" in line
    assert bad.read_bytes() == b"this is not a database " * 200


@pytest.mark.slow
def test_postgresql_without_psycopg2_names_the_extra(tmp_path, returns_csv):
    cfg = write_config(tmp_path, returns_csv, storage="postgresql://user@127.0.0.1:1/studies")
    code = (
        "import sys; sys.modules['psycopg2'] = None; sys.modules['psycopg'] = None\n"
        "from czar_gbdt.cli import main\n"
        f"sys.exit(main(['tune', '--config', {str(cfg)!r}, '--no-progress']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stderr)
    assert "its database driver is not installed" in line and "czar-gbdt[postgres]" in line
    assert "postgres extra" in line
    assert no_db_under(tmp_path)


def test_a_syntax_error_in_the_module_of_a_loss_names_file_and_line(tmp_path, returns_csv, monkeypatch, capsys):
    module = tmp_path / "broken_losses.py"
    module.write_text(
        textwrap.dedent("""\
        import czar_gbdt as cg

        def f(zt, zp):
            return (zp - zt) ** 2 +

        PH = cg.define_loss("ph_broken", f)
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = write_config(tmp_path, returns_csv, loss="broken_losses:PH")
    assert main(["tune", "--config", str(cfg), "--no-progress"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert f"has a syntax error in {module}, line 4" in line and "loss.name" in line
    assert not (tmp_path / "runs").exists()


def test_log_with_step_is_refused_when_the_config_is_loaded(tmp_path, returns_csv, capsys):
    cfg = write_config(tmp_path, returns_csv, learning_rate={"low": 0.01, "high": 0.2, "log": True, "step": 0.01})
    assert main(["tune", "--config", str(cfg), "--no-progress"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "model.params.learning_rate: log = true and step = 0.01 cannot be combined" in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("CZAR_GBDT_PG_URL"),
    reason='set CZAR_GBDT_PG_URL (eval "$(.ci/postgres.sh)") for the PostgreSQL tests',
)
def test_a_postgresql_url_without_a_driver_uses_the_one_the_postgres_extra_installs(tmp_path, returns_csv):
    """``postgresql://`` means psycopg 3 to SQLAlchemy 2.1; the ``postgres`` extra installs psycopg2."""
    url = os.environ["CZAR_GBDT_PG_URL"].replace("postgresql+psycopg2://", "postgresql://")
    cfg = load_config(write_config(tmp_path, returns_csv))
    storage = tuning.make_storage(cfg, url)
    name = f"plain-url-{os.getpid()}"
    optuna.create_study(study_name=name, storage=storage)
    try:
        assert name in [s.study_name for s in optuna.get_all_study_summaries(storage)]
    finally:
        optuna.delete_study(study_name=name, storage=storage)
