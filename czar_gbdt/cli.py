"""Command line: ``czar-gbdt``. Parses arguments and calls one public function per subcommand.

Exit codes: 0 success, 2 usage, configuration or data error, 1 any other failure, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from ._version import __version__


class CLIUsageError(Exception):
    """A usage problem: printed without a traceback, exit code 2."""


EXIT_CODES = """exit codes:
  0    success
  2    usage or configuration error, or bad data (bad option, unknown config key, value out of
       range, missing or bad data file, unusable storage, no such study / no completed trial, a
       study made with another configuration), reported before any work
  1    any other failure (trials that fail for a reason that repeats stop the study)
  130  interrupted (Ctrl-C); a study is kept and the same command resumes it"""


def _epilog(outputs: str) -> str:
    return f"{EXIT_CODES}\n\noutputs (<runs_dir> is study.runs_dir, default runs/; <study> is study.name):\n{outputs}"


_TUNE_OUT = """  <runs_dir>/<study>.db       the study (default SQLite storage)
  <runs_dir>/<study>/best_params.json, folds.csv   best trial's parameters and per-fold table"""
_REPORT_OUT = """  <runs_dir>/<study>/best_params.json, folds.csv   best trial's parameters and per-fold table
  <runs_dir>/<study>/holdout.json, holdout_rank_ic.csv, holdout_cumulative_rank_ic.png
       the holdout bake-off: the tuned model against [report] baselines (scored once per study
       and kept in the study; later reports print the stored result)"""


def _command(sub, name: str, *, help: str, description: str, outputs: str, config: str) -> argparse.ArgumentParser:
    """A subcommand with its help, exit codes and outputs, and its required ``--config``."""
    parser = sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=_epilog(outputs),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", required=True, help=config)
    return parser


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table", help="how to print the result")


_STORAGE_HELP = "SQLAlchemy URL overriding study.storage"


def _add_storage(parser: argparse.ArgumentParser, help: str = _STORAGE_HELP) -> None:
    """``--storage``: the study's storage URL, for the commands that open a study."""
    parser.add_argument("--storage", help=help)


def build_parser() -> argparse.ArgumentParser:
    """The ``czar-gbdt`` parser: its own options, then each subcommand (one ``_add_<command>`` step each)."""
    parser = argparse.ArgumentParser(
        prog="czar-gbdt",
        description="Train gradient-boosted trees on returns-forecasting losses (CZAR, ZPTAE, ...) and tune "
        "them against walk-forward rank IC.",
        epilog=_epilog(
            _TUNE_OUT
            + "\n"
            + _REPORT_OUT.split("\n", 1)[1]
            + "\n  <runs_dir>/<study>/evaluate.csv   `evaluate`; `compare` writes CSV and PNG files there"
            + "\n  <runs_dir>/<study>/model/   `fit`: the model bundle that `predict --model` reads"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in (_add_tune, _add_report, _add_evaluate, _add_fit, _add_predict, _add_compare):
        add_command(sub)
    return parser


def _add_tune(sub) -> None:
    tune = _command(
        sub,
        "tune",
        help="run or resume an optuna study described by a TOML config",
        description="Run (or resume) the study of a config: search loss and booster parameters against "
        "walk-forward rank IC (across assets per date; for one series, over each test window's "
        "dates), its ICIR or one of Allora's scores (study.objective). Re-running the same command resumes the study; completed trials are "
        "never lost or repeated. Writes best params and the per-fold table next to the study.",
        outputs=_TUNE_OUT,
        config="TOML configuration (see docs/tuning.md)",
    )
    _add_storage(
        tune,
        "SQLAlchemy URL overriding study.storage (e.g. postgresql://u@host/db); "
        "default: sqlite:///<runs_dir>/<study name>.db. Journal storage is "
        "refused (no heartbeats)",
    )
    tune.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes sharing the study (needs PostgreSQL/MySQL storage when > 1)",
    )
    tune.add_argument("--trials", type=int, help="total finished trials the study should hold (study.n_trials)")
    tune.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_format(tune)


def _add_report(sub) -> None:
    report = _command(
        sub,
        "report",
        help="best parameters, per-fold table and the one holdout evaluation of a study",
        description="Print and save the best trial's parameters and per-fold table, then train it and the "
        "baselines of [report] baselines (default: the backend's built-in squared error and its "
        "ranking objective) with the tuned booster on every date before the holdout, and score them "
        "on the holdout period, which no trial has seen: rank IC, ICIR, t (per date and Newey-West), "
        "directional accuracy, top-k net spread, Allora's grade, and the paired difference of the "
        "tuned model against each baseline with its verdict. The holdout is scored once per study: "
        "the result is stored in the study and later reports print it (naming the trial it belongs "
        "to) instead of scoring again. Loads the study, never creates one.",
        outputs=_REPORT_OUT,
        config="TOML configuration of the study",
    )
    _add_storage(report)
    _add_format(report)


def _add_evaluate(sub) -> None:
    ev = _command(
        sub,
        "evaluate",
        help="walk-forward scores of fixed parameters for one or more losses",
        description="Train the config's booster with fixed parameters (a range is refused) on the walk-forward "
        "folds, once per loss, and print mean rank IC, ICIR and t-stat per loss. 'builtin' is the "
        "backend's own squared error, 'ranking' its learning-to-rank objective.",
        outputs="  <runs_dir>/<study>/evaluate.csv",
        config="TOML configuration (fixed booster parameters)",
    )
    ev.add_argument(
        "--loss",
        action="append",
        metavar="NAME[:k=v,...]",
        help="loss to evaluate, repeatable: builtin, mse, czar, czar:alpha=0.5, zptae, ranking ... "
        "(default: the config's loss)",
    )
    _add_format(ev)


def _add_fit(sub) -> None:
    fit = _command(
        sub,
        "fit",
        help="train the study's best trial (or --trial N) on every labelled date and save the model",
        description="Train one model on every date of the config's data that has a label, up to data.end, the "
        "holdout included (report has scored it once; the model card says the model saw it): the "
        "study's best trial by default, --trial N for another, or the fixed values of a config without "
        "search ranges (no study needed). With early stopping the model trains the median of the "
        "walk-forward folds' best rounds. A study made with another configuration is refused, as by "
        "report. Saves the bundle: the backend's native model file and model.json, the card "
        "(docs/forecast.md).",
        outputs="  <runs_dir>/<study>/model/   model.json (the card) and the native model file (or --out DIR)",
        config="TOML configuration of the study (or a config without search ranges)",
    )
    fit.add_argument("--trial", type=int, metavar="N", help="the study's trial to train (default: the best)")
    fit.add_argument("--out", metavar="DIR", help="the bundle folder (default: <runs_dir>/<study>/model)")
    _add_storage(fit)
    fit.add_argument(
        "--loss",
        metavar="NAME[:k=v,...]",
        help="a config without search ranges only: the model to train instead of loss.name (builtin, "
        "ranking, czar:alpha=0.5, package.module:name ...)",
    )
    _add_format(fit)


def _add_predict(sub) -> None:
    """``predict`` needs no config: it reads a model bundle (so it is not made by :func:`_command`)."""
    pred = sub.add_parser(
        "predict",
        help="forecasts of a saved model (czar-gbdt fit) from a data file",
        description="Load a model bundle (no config or study needed), build its features from --data exactly as "
        "training did (a wide table of returns, log returns or prices, or a long panel; CSV or Parquet), "
        "and write date, asset, forecast (and rank, the cross-sectional percentile 0..1, when there are "
        "several assets) for the requested dates. Forecasts are causal: the forecast for a date does "
        "not change when later rows are appended.",
        epilog=_epilog("  --out FILE   CSV (.csv) or Parquet (.parquet); without it the table is printed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pred.add_argument("--model", required=True, metavar="DIR", help="the bundle folder written by `czar-gbdt fit`")
    pred.add_argument(
        "--data",
        required=True,
        metavar="PATH",
        help="the data, as data.source was (wide table or long panel, CSV or Parquet); ff49: the bundled table",
    )
    pred.add_argument(
        "--dates",
        default="last",
        metavar="last|all|N",
        help="the data's last date (default; it has features but no label yet), every date with "
        "features, or the last N dates",
    )
    pred.add_argument("--out", metavar="FILE", help="write CSV (.csv) or Parquet (.parquet) instead of printing")


def _add_compare(sub) -> None:
    cmp = _command(
        sub,
        "compare",
        help="ZPTAE vs CZAR vs built-ins: one booster, the same folds, a table and figures per loss",
        description="Train the config's booster (fixed parameters) on the walk-forward folds once per loss of "
        "[compare] losses (built-in squared error, ZPTAE, CZAR variants, the backend's ranking "
        "objective with one query group per date, the best CZAR of a tuning study) plus their "
        "rank-average ensemble. Prints and writes (CSV + PNG) mean Rank IC, ICIR, t-stat, per-fold "
        "spread, directional accuracy, top-k long-short after costs and the test-fold CZAR/ZPTAE "
        "losses, and says whether CZAR beats the ranking objective.",
        outputs="  <runs_dir>/<study>/   the comparison table (CSV) and figures (PNG)",
        config="TOML configuration with fixed booster parameters (e.g. configs/compare_ff49.toml)",
    )
    cmp.add_argument(
        "--data",
        metavar="PATH",
        help="a wide table of returns or a long panel (CSV/Parquet) "
        "replacing data.source; read as [data] layout, [data.wide] and "
        "[data.panel] say",
    )
    cmp.add_argument(
        "--study",
        metavar="FILE",
        help="best_params.json or a study's TOML config: add a row with "
        "its best CZAR parameters, trained with model.params like "
        "every row (replaces compare.study)",
    )
    cmp.add_argument(
        "--loss",
        action="append",
        metavar="NAME[:k=v,...]",
        help="replace compare.losses, repeatable: builtin, ranking, ranking:bins=10, zptae, czar, czar:alpha=0.5 ...",
    )
    cmp.add_argument("--no-progress", action="store_true", help="no progress line per model on stderr")
    _add_format(cmp)


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _load_and_describe(cfg: dict, panel=None) -> None:
    """Load the config's data (cached: the command reuses it) and say on stderr what it is, and
    what in it is worth a look (one warning line each)."""
    from .cluster import engine
    from .evaluation import data_warnings

    run = engine(cfg)  # this process, or a Dask cluster ([cluster])
    panel = run.load_data(cfg) if panel is None else panel
    _err(run.describe_data(cfg, panel))
    for line in data_warnings(panel):
        _err(f"czar-gbdt: warning: {line}")


def _outputs_writable(cfg: dict) -> None:
    """Refuse (exit 2, one line) a ``study.runs_dir`` that cannot be created before any training,
    rather than after it, when the outputs are written."""
    from .tuning import make_runs_dir

    make_runs_dir(cfg)


def _cmd_compare(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # PNG files only, no display
    from . import compare
    from .config import load_config

    if args.data is not None and not (Path(args.data).is_file() or Path(args.data).is_dir()):
        raise CLIUsageError(f"--data: no such file: {args.data!r}.")
    overrides = {"data": {"source": args.data}} if args.data else None
    cfg = load_config(args.config, overrides)
    compare.model_specs(cfg, args.loss, args.study)  # configuration errors before the data is read
    _load_and_describe(cfg)
    _outputs_writable(cfg)
    progress = None if args.no_progress else _err
    result = compare.compare_losses(cfg, args.loss, study=args.study, progress=progress)
    compare.print_comparison(result, fmt=args.format)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from . import reporting
    from .config import fixed_model, load_config, parse_loss_spec

    cfg = load_config(args.config)
    specs = [parse_loss_spec(s, "--loss") for s in (args.loss or [])]
    fixed_model(cfg, "evaluate")  # configuration errors before the data is read
    _load_and_describe(cfg)
    _outputs_writable(cfg)
    table = reporting.evaluate(cfg, specs)
    reporting.print_table(table, fmt=args.format)
    if args.format == "json":  # stdout holds the JSON alone
        for f in table.attrs.get("files", []):
            _err(f"wrote {f}")
    return 0


def _check_storage_option(storage: str | None) -> None:
    if storage is not None:
        from .config import check_storage_url

        check_storage_url(storage, "--storage")


def _cmd_tune(args: argparse.Namespace) -> int:
    from . import reporting, tuning
    from .config import load_config

    _check_storage_option(args.storage)
    if args.workers < 1:
        raise CLIUsageError(f"--workers must be >= 1; got {args.workers}.")
    if args.trials is not None and args.trials < 1:
        raise CLIUsageError(f"--trials must be >= 1; got {args.trials}.")
    cfg = load_config(args.config)
    _load_and_describe(cfg)
    study = tuning.tune(
        cfg,
        storage=args.storage,
        workers=args.workers,
        n_trials=args.trials,
        show_progress=not args.no_progress,
        echo=_err,
    )
    summary = reporting.study_summary(study, cfg, storage=args.storage)
    reporting.print_summary(summary, fmt=args.format)
    sys.stdout.flush()
    storage = f" --storage {args.storage}" if args.storage else ""
    _err(
        f"next: czar-gbdt report --config {args.config}{storage}   (scores the best trial once on the holdout, "
        f"against the baselines)"
    )
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from . import reporting
    from .config import load_config

    _check_storage_option(args.storage)
    cfg = load_config(args.config)
    result = reporting.report(cfg, storage=args.storage, on_data=lambda panel: _load_and_describe(cfg, panel))
    reporting.print_summary(result, fmt=args.format)
    return 0


def _cmd_fit(args: argparse.Namespace) -> int:
    import optuna

    from . import forecast
    from ._files import dumps
    from .config import load_config

    _check_storage_option(args.storage)
    if args.trial is not None and args.trial < 0:
        raise CLIUsageError(f"--trial must be a trial number >= 0; got {args.trial}.")
    cfg = load_config(args.config)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _load_and_describe(cfg)
    model = forecast.fit_model(cfg, args.trial, loss=args.loss, storage=args.storage, echo=_err)
    path = model.save(args.out or forecast.model_dir(cfg))
    card = model.card
    if args.format == "json":
        print(dumps({"bundle": str(path), **card}))
        return 0
    chosen = card["chosen_by"] or {}
    t = card["training"]
    print(f"model {card['model']['label']} on {card['backend']}, {card['rounds']} rounds ({card['rounds_rule']})")
    if chosen.get("study"):
        wf = chosen["walk_forward"]
        print(
            f"  chosen by study {chosen['study']!r}, trial #{chosen['trial']} (best: #{chosen['best_trial']}), "
            f"{chosen['objective']} = {chosen['value']:.4f}; walk-forward mean rank IC "
            f"{wf.get('mean_rank_ic') if wf.get('mean_rank_ic') is None else round(wf['mean_rank_ic'], 4)}"
        )
        h = chosen.get("holdout")
        print(
            f"  holdout (scored once by report): rank IC {h['rank_ic']:.4f}, t {h['rank_ic_t']:.2f}"
            if h
            else f"  holdout: {chosen.get('holdout_note')}"
        )
    print(
        f"  trained on {t['rows']:,} rows, {t['dates']:,} dates {t['start']} to {t['end']}"
        + (
            f": the final model saw the holdout {t['holdout']['start']} .. {t['holdout']['end']}, which can no "
            f"longer test it"
            if t["holdout_included"]
            else ""
        )
    )
    print(f"  wrote {path}/ ({card['native_file']}, model.json)")
    return 0


_OUT_TYPES = (".csv", ".parquet", ".pq")


def _cmd_predict(args: argparse.Namespace) -> int:
    from .bundle import load_model

    dates = args.dates.strip()
    if dates not in ("last", "all") and not (dates.isdigit() and int(dates) >= 1):
        raise CLIUsageError(f"--dates must be 'last', 'all' or a number of dates >= 1; got {args.dates!r}.")
    out = Path(args.out) if args.out else None
    if out is not None and not out.name.lower().endswith(_OUT_TYPES):
        raise CLIUsageError(f"--out must end in .csv or .parquet; got {args.out!r}.")
    if args.data != "ff49" and not (Path(args.data).is_file() or Path(args.data).is_dir()):
        raise CLIUsageError(f"--data: no such file: {args.data!r}.")
    model = load_model(args.model)
    frame = model.predict(args.data, dates=int(dates) if dates.isdigit() else dates)
    left = frame.attrs.get("left_out") or []
    if left:
        shown = ", ".join(f"{a} ({d})" for d, a in left[:10])
        _err(
            f"czar-gbdt predict: left out {len(left)} asset-date(s) without features (a return missing on that date "
            f"or within the features' look-back): {shown}{' ...' if len(left) > 10 else ''}."
        )
    if out is None:
        print(frame.to_string(index=False, float_format=lambda x: f"{x:.6g}"))
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    if out.name.lower().endswith(".csv"):
        frame.to_csv(tmp, index=False)  # floats as their shortest exact text
    else:
        frame.to_parquet(tmp, index=False)
    tmp.replace(out)
    dates_text = sorted({str(pd_date) for pd_date in frame["date"].astype(str)})
    _err(
        f"czar-gbdt predict: wrote {len(frame):,} forecasts for {len(dates_text)} date(s) "
        f"({dates_text[0]} .. {dates_text[-1]}) to {out}."
    )
    return 0


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna's INFO lines (a study created, each trial finished) off while a command runs: the
    progress bar and the printed summary say it. The caller's verbosity is restored after, so that
    ``main([...])`` called from Python leaves optuna's logging as it found it."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``czar-gbdt`` console script; returns the exit code."""
    from .config import ConfigError
    from .datasets import DataError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        with _quiet_optuna():
            return {
                "tune": _cmd_tune,
                "report": _cmd_report,
                "evaluate": _cmd_evaluate,
                "compare": _cmd_compare,
                "fit": _cmd_fit,
                "predict": _cmd_predict,
            }[args.command](args)
    except (CLIUsageError, ConfigError, DataError) as exc:
        print(f"czar-gbdt {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        what = (
            "the study is kept (its completed trials are saved); re-run the same command to resume"
            if args.command == "tune"
            else "nothing was saved"
        )
        print(f"czar-gbdt {args.command}: interrupted: {what}.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one place decides how a failure is shown
        from .tuning import StudyStopped

        if not isinstance(exc, StudyStopped):
            raise
        print(f"czar-gbdt {args.command}: error: {exc}", file=sys.stderr)
        return 2 if exc.usage else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
