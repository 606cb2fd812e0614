"""ssdf-ai: the automated toolchain for NIST SP 800-218A.

A short tour of the public API (imported lazily, so ``import ssdf_ai`` is cheap):

- :mod:`ssdf_ai.findings`: :class:`Finding`, :class:`Severity`, :class:`Confidence`,
  :class:`Location`, :class:`Outcome`, the one type every capability reports problems in.
- :mod:`ssdf_ai.evidence`: :class:`Subject` (what evidence is about) and :class:`Artifact`
  (a produced, content-addressed piece of evidence).
- :mod:`ssdf_ai.profile`: the SP 800-218A catalog as data (``load_catalog()``), and its OSCAL
  export.
- :mod:`ssdf_ai.config`: the project's ``ssdf.toml`` (``load_config()``).
- :mod:`ssdf_ai.store`: the evidence store (``EvidenceStore.open()``).
- :mod:`ssdf_ai.report`: renderers (terminal, JSON, SARIF).
- :mod:`ssdf_ai.errors`: :class:`Error` and its subclasses; every deliberate error has
  ``diagnostics()``.
"""

from __future__ import annotations

from ssdf_ai._lazy import lazy_exports
from ssdf_ai._version import __version__

_LAZY = {
    "Finding": "ssdf_ai.findings",
    "Severity": "ssdf_ai.findings",
    "Confidence": "ssdf_ai.findings",
    "Location": "ssdf_ai.findings",
    "Outcome": "ssdf_ai.findings",
    "Subject": "ssdf_ai.evidence",
    "Artifact": "ssdf_ai.evidence",
    "Error": "ssdf_ai.errors",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
