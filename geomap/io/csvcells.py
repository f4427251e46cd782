"""CSV cells that a spreadsheet would run as a formula, and back.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=HYPERLINK("http://…","x")`` in an asset's name would
become a live link in a volunteer's spreadsheet). As OWASP recommends, such *text* cells are
written with a leading single quote; numbers are numbers and stay as they are (-12.5 is
still -12.5). The loader takes the quote off again, so load → export → load changes nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as a CSV text cell that no spreadsheet runs."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def restore(value: Any) -> Any:
    """The text :func:`neutralise` was given (a quote before a formula character is taken off)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


def _map_text(frame: pd.DataFrame, cell) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if _text(out[column]):
            out[column] = out[column].map(cell)
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (numeric columns untouched)."""
    return _map_text(frame, neutralise)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise_frame` on a CSV read as text."""
    return _map_text(frame, restore)


def _text(column: pd.Series) -> bool:
    """Whether a column may hold text (object or string dtype), not numbers, booleans or dates."""
    return column.dtype == object or pd.api.types.is_string_dtype(column.dtype)
