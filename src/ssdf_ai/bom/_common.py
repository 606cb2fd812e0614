"""What the CycloneDX and SPDX writers share: time, licences, IRIs and JSON output."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from typing import Any
from urllib.parse import quote

TOOL_NAME = "ssdf-ai"
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"

# Licence ids as model cards write them (lower case) -> SPDX license list ids. Anything else is
# kept as a name (CycloneDX) or a LicenseRef- (SPDX).
SPDX_LICENSES: dict[str, str] = {
    name.lower(): name
    for name in (
        "0BSD",
        "AFL-3.0",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Apache-2.0",
        "Artistic-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "BSD-3-Clause-Clear",
        "BSL-1.0",
        "CC-BY-2.0",
        "CC-BY-2.5",
        "CC-BY-3.0",
        "CC-BY-4.0",
        "CC-BY-NC-2.0",
        "CC-BY-NC-3.0",
        "CC-BY-NC-4.0",
        "CC-BY-NC-ND-3.0",
        "CC-BY-NC-ND-4.0",
        "CC-BY-NC-SA-2.0",
        "CC-BY-NC-SA-3.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-SA-3.0",
        "CC-BY-SA-4.0",
        "CC0-1.0",
        "CDLA-Permissive-1.0",
        "CDLA-Permissive-2.0",
        "CDLA-Sharing-1.0",
        "ECL-2.0",
        "EPL-1.0",
        "EPL-2.0",
        "EUPL-1.1",
        "EUPL-1.2",
        "GFDL-1.3-only",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "ISC",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "LPPL-1.3c",
        "MIT",
        "MPL-2.0",
        "MS-PL",
        "NCSA",
        "ODbL-1.0",
        "ODC-By-1.0",
        "OFL-1.1",
        "OSL-3.0",
        "PDDL-1.0",
        "PostgreSQL",
        "Unlicense",
        "UPL-1.0",
        "WTFPL",
        "Zlib",
    )
}
# Deprecated short forms model cards use.
SPDX_LICENSES.update(
    {
        "gpl-2.0": "GPL-2.0-only",
        "gpl-3.0": "GPL-3.0-only",
        "lgpl-2.1": "LGPL-2.1-only",
        "lgpl-3.0": "LGPL-3.0-only",
        "agpl-3.0": "AGPL-3.0-only",
        "gfdl": "GFDL-1.3-only",
        "bsd": "BSD-3-Clause",
    }
)
NO_LICENSE = frozenset({"noassertion", "none", "unknown", ""})


def license_id(text: str) -> str | None:
    """The SPDX license list id for a licence as a model card or registry names it."""
    return SPDX_LICENSES.get(text.strip().lower())


def license_expression(text: str) -> str | None:
    """An SPDX licence expression for ``text``: its id, a ``LicenseRef-``, or ``None``.

    ``NOASSERTION`` and ``NONE`` give ``None``; a licence that is not on the SPDX list becomes
    ``LicenseRef-`` and its name with every other character replaced by ``-``.
    """
    stripped = text.strip()
    if stripped.lower() in NO_LICENSE:
        return None
    known = license_id(stripped)
    if known is not None:
        return known
    if re.fullmatch(r"(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+", stripped):
        return stripped
    return "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", stripped).strip("-") or "unknown")


def now(timestamp: dt.datetime | None = None) -> dt.datetime:
    """The document time: ``timestamp``, else ``SOURCE_DATE_EPOCH``, else now (UTC, seconds)."""
    if timestamp is None:
        epoch = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
        if epoch.isdigit():
            timestamp = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        else:
            timestamp = dt.datetime.now(dt.UTC)
    elif timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=dt.UTC)
    return timestamp.astimezone(dt.UTC).replace(microsecond=0)


def stamp(timestamp: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``."""
    return timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def iri(text: str) -> str:
    """``text`` as an IRI reference: spaces and characters outside IRIs percent-encoded."""
    return quote(text, safe=":/?#[]@!$&'()*+,;=%-._~")


def prune(value: Any) -> Any:
    """Drop ``None``, empty strings, lists and objects, recursively (the order is kept)."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [prune(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


def dumps(document: dict[str, Any]) -> str:
    """The document as indented JSON (UTF-8 text, key order as built) with a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
