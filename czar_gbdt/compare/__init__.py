"""ZPTAE vs CZAR: the same booster on the same walk-forward folds, once per loss.

:func:`compare_losses` trains the config's booster (fixed parameters) once per entry of
``compare.losses``, on the folds of ``[splits]``:

- ``builtin``: the backend's own squared error (the baseline every custom loss must beat);
- any loss of :mod:`czar_gbdt.losses` with parameters, ``"czar:alpha=0.5"``;
- ``ranking``: the backend's learning-to-rank objective with each date as a query group
  and the target binned into quantile grades per date (``ranking:bins=10,objective=...``),
  the strongest built-in competitor when rank IC is the target;
- with ``compare.study`` (or ``study=``), CZAR with the best CZAR parameters of a tuning
  study, named after what the study tuned (:func:`~czar_gbdt.compare.run.study_row`: the
  study's booster parameters are not taken, every row trains with ``model.params``);
- with ``compare.ensemble``, the rank-average of all the models above: per date, each
  model's predictions are ranked (percentiles) and the ranks averaged.

Each row of the table scores the concatenated test windows: mean Rank IC, ICIR and
t-stat (per date, as :mod:`czar_gbdt.metrics`), the same t-stat with Newey-West errors
(``horizon - 1`` lags: consecutive dates' h-day labels overlap), the per-fold spread, directional
accuracy, the top-k long-short spread before and after costs, and the mean CZAR (with
``compare.eval_alpha``, near 0 as the CZAR authors recommend for evaluation) and ZPTAE
losses. Directional accuracy and the losses compare each forecast with the test target
transformed like the training labels (``data.target_transform``): that is what the
models forecast. The ranking objective and the ensemble output scores, not return
forecasts: those three columns are NaN for them.

When a ranking objective is compared, every other row also gets its mean per-date Rank IC
difference to it, the Newey-West t-stat of that paired difference and a verdict
(``vs_ranking``: "beats it" only with t >= 2; "does NOT beat it" when the difference is
not positive), and :attr:`ComparisonResult.verdicts` spells out each CZAR model against
the ranking objective and the built-in squared error.

On a single series (one asset) the rank IC is the time-series rank IC of each test
window, and the ranking objective and the ensemble, which rank forecasts within a date,
are left out (:class:`czar_gbdt.evaluation.Scoring`); ``settings["scoring"]`` says so in
one line. Every return forecast is also graded with Allora's evaluation (the ``allora_*``
columns: all test windows as one series, or each asset's series averaged over the assets).

:func:`holdout_bakeoff` (``czar-gbdt report``) runs the same statistics on the holdout: the
tuned model of a study against the baselines of ``report.baselines``.

:func:`write_outputs` saves ``compare.csv``, ``compare_folds.csv``,
``compare_rank_ic.csv`` and three figures next to the study (``<runs_dir>/<name>/``).

The package, bottom to top: :mod:`~czar_gbdt.compare.result` (the result types),
:mod:`~czar_gbdt.compare.stats` (table and verdicts), :mod:`~czar_gbdt.compare.plots`
(figures), :mod:`~czar_gbdt.compare.files` (CSV/PNG files and the printed table) and
:mod:`~czar_gbdt.compare.run` (training the models) and :mod:`~czar_gbdt.compare.holdout`
(the holdout bake-off of ``report``).
"""

from .files import TEXT_WIDTH, legend, print_comparison, short_names, text_table, write_outputs
from .holdout import holdout_bakeoff, holdout_record, record_table, regrade_record, write_holdout_files
from .plots import allora_text, formatted_table, plot_cumulative_rank_ic, plot_fold_rank_ic, plot_table
from .result import ComparisonResult, Member
from .run import compare_losses, model_specs, rank_average, study_row
from .stats import TABLE_COLUMNS

__all__ = [
    "Member",
    "ComparisonResult",
    "compare_losses",
    "model_specs",
    "study_row",
    "rank_average",
    "write_outputs",
    "print_comparison",
    "plot_fold_rank_ic",
    "plot_cumulative_rank_ic",
    "plot_table",
    "formatted_table",
    "allora_text",
    "TABLE_COLUMNS",
    "holdout_bakeoff",
    "holdout_record",
    "record_table",
    "regrade_record",
    "write_holdout_files",
    "text_table",
    "short_names",
    "legend",
    "TEXT_WIDTH",
]
