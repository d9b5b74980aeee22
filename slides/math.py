"""TeX math (`$…$`, `$$…$$`) rendered on the server as MathML, which Chromium draws natively.

No script and no CDN: latex2mathml turns the TeX into MathML elements, the sanitiser keeps
only MathML's presentation tags, and the TeX itself stays in the page, verbatim, as the
formula's annotation (what a screen reader or a copy may use).
"""

from __future__ import annotations

import html
from typing import Any

from latex2mathml.converter import convert

# The MathML elements latex2mathml writes (presentation markup: nothing that links or runs).
MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
    "mfrac", "msqrt", "mroot", "msub", "msup", "msubsup", "munder", "mover", "munderover",
    "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose", "merror",
    "mmultiscripts", "mprescripts", "none",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "math": {"display"},
    "annotation": {"encoding"},
    "mi": {"mathvariant"},
    "mo": {"stretchy", "fence", "separator", "lspace", "rspace", "minsize", "maxsize"},
    "mfrac": {"linethickness"},
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mtable": {"columnalign", "rowspacing", "columnspacing"},
    "mtd": {"columnalign"},
    "mspace": {"width", "height", "depth", "linebreak"},
    "menclose": {"notation"},
    "mover": {"accent"},
    "munder": {"accentunder"},
}


def to_mathml(tex: str, display: bool) -> str:
    """MathML for one formula; the TeX as written is kept as its annotation."""
    source = f'<annotation encoding="application/x-tex">{html.escape(tex)}</annotation>'
    try:
        converted = convert(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds of error on TeX it cannot read
        # Shown as the author wrote it rather than not at all.
        return f"<code>{html.escape(tex)}</code>"
    # `<math …><mrow>…</mrow></math>` -> `<math …><semantics><mrow>…</mrow>TeX</semantics></math>`
    start = converted.index(">") + 1
    end = converted.rindex("</math>")
    mode = "block" if display else "inline"
    return (
        f'<math display="{mode}"><semantics><mrow>{converted[start:end]}</mrow>'
        f"{source}</semantics></math>"
    )


def render_math(content: str, options: dict[str, Any]) -> str:
    """The renderer mdit-py-plugins' dollarmath calls for each formula."""
    return to_mathml(content.strip(), bool(options.get("display_mode")))
