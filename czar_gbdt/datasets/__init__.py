"""Data: the bundled FF49 industry returns, users' wide tables and long panels, a synthetic panel.

Everything that feeds a model arrives as a :class:`Panel`: one row per
(date, asset), sorted by date, with the features, the realised target and the
optional per-row ``std`` / ``mean`` (for z-scored losses such as CZAR and
ZPTAE) and ``weight``.

Two shapes of users' data are read, with every check done when the data is loaded
(:class:`DataError` names the file, column, row, date and asset):

- a *wide* table of returns, log returns or prices (one row per date, one column per
  asset): :func:`load_wide` returns simple returns, the input of
  :func:`czar_gbdt.features.build_features`, which builds the same features, target
  and ``std`` as for the bundled FF49 table (itself a wide table, :func:`load_ff49`);
- a *long* panel that already holds features and a target: :func:`load_panel`.

:func:`detect_layout` tells them apart. See ``docs/own-data.md``.

Data source
-----------
:func:`load_ff49` reads the Kenneth R. French Data Library "49 Industry
Portfolios" (value-weighted, daily), 1969-07-01 to 2021-12-31, shipped with the
package (``czar_gbdt/data/ff49_industries_vw_daily.csv.gz``, returns in percent
as published). https://mba.tuck.dartmouth.edu/pages/faculty/ken.french/data_library.html

Modules
-------
``panel`` (the Panel type, target transforms), ``errors`` (DataError and the wording),
``files`` (reading, layouts, digests), ``dates`` (date and period rules), ``columns`` (the roles
of a long panel's columns, side columns), ``checks`` (the row rules of a long panel), ``wide``,
``long``, ``ff49``, ``synthetic``. The cluster path (:mod:`czar_gbdt.cluster`) calls the same
rules as the in-memory one.
"""

from __future__ import annotations

from .columns import AUTO, SIDE_COLUMNS
from .dates import (
    PERIOD_LIMIT,
    WIDE_DATES,
    date_text,
    is_period,
    period_index,
    periods_shown,
)
from .errors import DataError
from .ff49 import load_ff49
from .files import LAYOUTS, detect_layout, read_table, resolve_layout, source_digest
from .long import load_panel
from .panel import TARGET_TRANSFORMS, Panel, transform_target
from .synthetic import expected_rank_ic, make_synthetic_panel, make_synthetic_returns
from .wide import (
    BAR_COLUMNS,
    EXTREME_RETURNS,
    RETURN_SCALE_LIMIT,
    WIDE_VALUES,
    extreme_returns,
    load_wide,
    to_returns,
)

__all__ = [
    "AUTO",
    "BAR_COLUMNS",
    "EXTREME_RETURNS",
    "LAYOUTS",
    "PERIOD_LIMIT",
    "RETURN_SCALE_LIMIT",
    "SIDE_COLUMNS",
    "TARGET_TRANSFORMS",
    "WIDE_DATES",
    "WIDE_VALUES",
    "DataError",
    "Panel",
    "date_text",
    "detect_layout",
    "expected_rank_ic",
    "extreme_returns",
    "is_period",
    "load_ff49",
    "load_panel",
    "load_wide",
    "make_synthetic_panel",
    "make_synthetic_returns",
    "period_index",
    "periods_shown",
    "read_table",
    "resolve_layout",
    "source_digest",
    "to_returns",
    "transform_target",
]
