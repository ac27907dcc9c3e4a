"""Report text helpers: provenance tags kept out of JSON strings, self-contained HTML.

Report numbers carry a provenance tag (``<sup>i</sup>`` input from the file, ``<sup>a</sup>``
assumed, ``<sup>d</sup>`` derived; ``docs/stress.md``).  JSON values never contain the markup:
:func:`split_provenance` returns the plain text and the tagged values as a separate list.
:func:`embed_images` makes the HTML report one file (PNG figures as base64 data URIs), so it
stays readable when sent on its own.
"""

from __future__ import annotations

import base64
import html as _html
import re
from pathlib import Path

_TAG = re.compile(r"<sup>([a-z])</sup>")
_IMG = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")', re.IGNORECASE)
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def split_provenance(text: str) -> tuple[str, list[dict]]:
    """``"day 87<sup>d</sup> (net 12.5<sup>d</sup>)"`` -> (``"day 87 (net 12.5)"``,
    ``[{"value": "87", "tag": "d"}, {"value": "12.5", "tag": "d"}]``)."""
    tags = []
    pos = 0
    for m in _TAG.finditer(text):
        before = text[pos:m.start()]
        tok = re.search(r"([^\s(]+)$", before)
        tags.append({"value": tok.group(1).rstrip(",;") if tok else "", "tag": m.group(1)})
        pos = m.end()
    return _TAG.sub("", text), tags


def embed_images(html: str, folder: Path) -> str:
    """Replace ``<img src="file.png">`` (relative paths under ``folder``) by data URIs; images
    that do not exist are left as they are."""
    folder = Path(folder)

    def repl(m: re.Match) -> str:
        src = _html.unescape(m.group(2))
        if src.startswith(("data:", "http:", "https:")):
            return m.group(0)
        p = folder / src
        mime = _MIME.get(p.suffix.lower())
        if mime is None or not p.is_file():
            return m.group(0)
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        return f"{m.group(1)}data:{mime};base64,{data}{m.group(3)}"

    return _IMG.sub(repl, html)
