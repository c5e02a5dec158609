"""Plotly figures as JSON for the browser, with exact numbers.

Plotly must get numbers, not strings: numeric text makes plotly.js type an axis as
categories ("0", "300", "61.5" in order of appearance), so a 61.5 bar is drawn above a 300
one. Python's Plotly encoder would turn a Decimal into a float; simplejson writes the
Decimal's own digits as a JSON number (61.5 stays 61.5), so no float is made here and the
browser parses exactly the figure the page prints. Axes carrying values are declared
`linear` so no input can make them categorical.
"""
from __future__ import annotations

import simplejson

# Inside <script type="application/json">, "</script>" must not appear: only strings can
# hold these characters, and their \u escapes keep the JSON valid.
_SCRIPT_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))


def figure_json(figure) -> str:
    """A figure (`go.Figure` or its dict) as JSON whose Decimals are exact JSON numbers,
    safe inside a `<script type="application/json">` element or an HTML attribute value.

    :param figure: the figure; data values may be Decimals (never floats are needed).
    """
    as_dict = figure.to_plotly_json() if hasattr(figure, "to_plotly_json") else figure
    text = simplejson.dumps(as_dict, use_decimal=True, separators=(",", ":"))
    for char, escaped in _SCRIPT_ESCAPES:
        text = text.replace(char, escaped)
    return text
