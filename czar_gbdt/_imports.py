"""Deferred imports of optional backends, after optuna-integration's ``try_import``.

A backend module guards its import and checks it on the first line of every public
factory, so that ``import czar_gbdt.xgboost`` never fails and a missing or broken
backend only affects the functions that need it::

    with try_import("xgboost", min_version="3.1", extra="xgboost") as _imports:
        import xgboost as xgb

XGBoost, CatBoost and Dask are extras of the package (``pyproject.toml``); the error of a
missing one names the extra that installs it (:func:`install_hint`).

    def objective(loss, ...):
        _imports.check()
        ...
"""

from __future__ import annotations

from types import TracebackType

__all__ = ["install_hint", "try_import"]


def install_hint(package: str, extra: str | None = None) -> str:
    """The command that installs ``package``: the package's extra when it is one, else pip's own."""
    if extra is None:
        return f"`pip install {package}`"
    return f'`pip install -e ".[{extra}]"` in your clone of czar-gbdt (or `pip install {package}`)'


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


class _DeferredImport:
    """Context manager that swallows an ImportError and re-raises it on :meth:`check`."""

    def __init__(
        self,
        package: str,
        min_version: str | None,
        below_version: str | None,
        extra: str | None = None,
        module: str | None = None,
    ):
        self._package = package
        self._extra = extra
        self._module = module or f"czar_gbdt.{package}"
        self._min = min_version
        self._below = below_version
        self._error: tuple[BaseException, str] | None = None

    def __enter__(self) -> _DeferredImport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if exc is None:
            self._check_version()
            return None
        if isinstance(exc, (ImportError, SyntaxError)):
            self._error = (
                exc,
                f"{self._package} could not be imported ({exc}). Install it with "
                f"{install_hint(self._package, self._extra)} to use {self._module}.",
            )
            return True
        return None

    def _check_version(self) -> None:
        try:
            import importlib.metadata as md

            found = md.version(self._package)
        except Exception:  # noqa: BLE001 - a package without metadata: do not gate
            return
        v = _version_tuple(found)
        if self._min is not None and v < _version_tuple(self._min):
            self._error = (
                ImportError(found),
                f"czar_gbdt.{self._package} needs {self._package} >= {self._min}; found {found}.",
            )
        if self._below is not None and v >= _version_tuple(self._below):
            self._error = (
                ImportError(found),
                f"czar_gbdt.{self._package} supports {self._package} < {self._below} (its API changed); found {found}.",
            )

    def is_successful(self) -> bool:
        """Whether the import (and the version gate) succeeded."""
        return self._error is None

    def check(self) -> None:
        """Raise the deferred :class:`ImportError`, if any."""
        if self._error is not None:
            exc, message = self._error
            raise ImportError(message) from exc


def try_import(
    package: str,
    *,
    min_version: str | None = None,
    below_version: str | None = None,
    extra: str | None = None,
    module: str | None = None,
) -> _DeferredImport:
    """Guard the import of ``package``; failures surface on ``.check()``.

    Parameters
    ----------
    package : str
        Distribution name, used in messages and for the version gate.
    min_version, below_version : str, optional
        Supported range ``min_version <= version < below_version``.
    extra : str, optional
        The package's extra (``pyproject.toml``) that installs ``package``, named in the error.
    module : str, optional
        The czar_gbdt module that needs it, named in the error (default ``czar_gbdt.<package>``).

    Returns
    -------
    context manager
        Use it in a ``with`` block around the import; call ``.check()`` before use.
    """
    return _DeferredImport(package, min_version, below_version, extra, module)
