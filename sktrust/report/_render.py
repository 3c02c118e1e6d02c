"""Turn section results into one self-contained HTML page and a JSON document."""

# Authors: The sktrust developers
# SPDX-License-Identifier: BSD-3-Clause

import base64
import html
import io
import math

import numpy as np


def new_figure(figsize=(6.0, 4.0), *, ncols=1):
    """A matplotlib figure that needs no GUI backend and touches no global state.

    The figure is created through :class:`matplotlib.figure.Figure` rather
    than ``pyplot``, so report code neither opens windows nor leaves figures
    behind in ``pyplot``'s registry.

    Parameters
    ----------
    figsize : tuple of float, default=(6.0, 4.0)
        Width and height in inches.
    ncols : int, default=1
        Number of side-by-side axes.

    Returns
    -------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes or list of Axes
        One Axes when ``ncols == 1``, else a list of ``ncols`` Axes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, (axes[0] if ncols == 1 else axes)


def figure_to_html(fig, alt=""):
    """Embed a matplotlib figure in HTML as a base64 PNG ``<img>`` tag.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Figure to render. It is not modified.
    alt : str, default=""
        Alternative text for the image.

    Returns
    -------
    tag : str
        ``<img src="data:image/png;base64,..." alt="...">``.

    Examples
    --------
    >>> from sktrust.report import figure_to_html
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 2))
    >>> _ = fig.add_subplot().plot([0, 1], [0, 1])
    >>> figure_to_html(fig, alt="a line").startswith('<img src="data:image/png;base64,')
    True
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}" '
        'style="max-width:100%">'
    )


def table_to_html(rows, header):
    """A plain HTML table; every cell is escaped.

    Parameters
    ----------
    rows : iterable of sequences
        Table body, one sequence of cells per row.
    header : sequence of str
        Column titles.

    Returns
    -------
    table : str
    """
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value):
    if isinstance(value, float | np.floating):
        return "n/a" if math.isnan(value) else f"{value:.4g}"
    if value is None:
        return "n/a"
    return str(value)


def to_jsonable(obj):
    """Recursively convert numpy scalars and arrays to plain Python for ``json``.

    Non-finite floats become ``None`` so the output is strict JSON.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;
max-width:960px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}.note{color:#555;font-size:.9em}
nav ul{columns:2}
"""


def render_html(title, meta, sections):
    """Assemble the report page.

    Parameters
    ----------
    title : str
        Page title.
    meta : dict
        Run metadata shown at the top (data set, target, rows, folds, seed).
    sections : list of (str, SectionResult)
        Section keys and results, in display order.

    Returns
    -------
    page : str
        A complete HTML document with no external resources.
    """
    meta_rows = [(k, v) for k, v in meta.items() if not isinstance(v, dict | list)]
    nav = "".join(
        f'<li><a href="#{html.escape(key)}">{html.escape(result.title)}</a></li>'
        for key, result in sections
    )
    body = "".join(
        f'<section id="{html.escape(key)}"><h2>{html.escape(result.title)}</h2>'
        f"{result.html}</section>"
        for key, result in sections
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"{table_to_html(meta_rows, ['', ''])}"
        f"<nav><ul>{nav}</ul></nav>{body}"
        "<p class='note'>Generated by <code>sktrust report</code>.</p>"
        "</body></html>\n"
    )
