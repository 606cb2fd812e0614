"""Release: model cards, data cards, and signed, versioned release archives.

A tour (names are imported lazily, so ``import ssdf_ai.release`` loads nothing heavy):

- :func:`model_card` writes a model's card (Markdown with a Hugging Face compatible YAML
  header) from evidence only: the ``[[models]]`` entry in ``ssdf.toml``, the model's README,
  the evidence store (signature, verification, scan, assessment, dataset registrations), the
  recorded training runs and ``SECURITY.md``. What is missing is a ``Not recorded`` line naming
  the command that records it. :func:`data_card` does the same for a dataset. Both return a
  :class:`Card`.
- :func:`build_release` assembles ``<name>-<version>.tar.gz``: the model's OMS signature, the
  provenance of the runs that produced it, CycloneDX and SPDX BOMs, the model card, the newest
  scan report and assessment, a manifest, and ``release.sig`` (an OMS signature over every
  other member); :func:`record_release` records it as evidence.
- :func:`verify_release` checks an archive without trusting it and returns a
  :class:`ReleaseVerifyReport` listing each check (:class:`ReleaseCheck`) and its result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.release.archive import (
        ARCHIVE_KIND,
        MANIFEST_KIND,
        BuiltRelease,
        ReleaseLimits,
        build_release,
        record_release,
        verify_release,
    )
    from ssdf_ai.release.card import (
        CARD_MEDIA_TYPE,
        DATA_CARD_KIND,
        MODEL_CARD_KIND,
        Card,
        data_card,
        model_card,
    )
    from ssdf_ai.release.report import (
        CheckStatus,
        ReleaseCheck,
        ReleaseMember,
        ReleaseReport,
        ReleaseVerifyReport,
    )

_LAZY = {
    "ARCHIVE_KIND": "ssdf_ai.release.archive",
    "MANIFEST_KIND": "ssdf_ai.release.archive",
    "BuiltRelease": "ssdf_ai.release.archive",
    "ReleaseLimits": "ssdf_ai.release.archive",
    "build_release": "ssdf_ai.release.archive",
    "record_release": "ssdf_ai.release.archive",
    "verify_release": "ssdf_ai.release.archive",
    "CARD_MEDIA_TYPE": "ssdf_ai.release.card",
    "DATA_CARD_KIND": "ssdf_ai.release.card",
    "MODEL_CARD_KIND": "ssdf_ai.release.card",
    "Card": "ssdf_ai.release.card",
    "data_card": "ssdf_ai.release.card",
    "model_card": "ssdf_ai.release.card",
    "CheckStatus": "ssdf_ai.release.report",
    "ReleaseCheck": "ssdf_ai.release.report",
    "ReleaseMember": "ssdf_ai.release.report",
    "ReleaseReport": "ssdf_ai.release.report",
    "ReleaseVerifyReport": "ssdf_ai.release.report",
}

__all__ = [
    "ARCHIVE_KIND",
    "CARD_MEDIA_TYPE",
    "DATA_CARD_KIND",
    "MANIFEST_KIND",
    "MODEL_CARD_KIND",
    "BuiltRelease",
    "Card",
    "CheckStatus",
    "ReleaseCheck",
    "ReleaseLimits",
    "ReleaseMember",
    "ReleaseReport",
    "ReleaseVerifyReport",
    "build_release",
    "data_card",
    "model_card",
    "record_release",
    "verify_release",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
