"""Bills of materials for AI models: CycloneDX 1.6 ML-BOM and SPDX 3.0.1 (AI and Dataset).

A tour (names are imported lazily, so ``import ssdf_ai.bom`` costs nothing):

- :func:`gather_model_info` reads everything known about a model (its files and digests, a
  Hugging Face ``config.json`` and model card, metrics files, recorded training runs, the dataset
  registry, signatures in the evidence store, ``[[models]]`` in ``ssdf.toml``) into one
  format-neutral :class:`ModelInfo`.
- :func:`cyclonedx_bom` writes a CycloneDX 1.6 ML-BOM as a JSON object;
  :func:`cyclonedx_from_info` does the same from a gathered :class:`ModelInfo`.
- :func:`spdx_document` writes an SPDX 3.0.1 JSON-LD document (AI, Dataset, Build profiles);
  :func:`spdx_from_info` from a gathered :class:`ModelInfo`.
- :func:`dumps` serialises either document (indented JSON, final newline).
- :data:`CYCLONEDX_MEDIA_TYPE` and :data:`SPDX_MEDIA_TYPE` name them in the evidence store.

``docs/bom.md`` maps every field to its source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ssdf_ai._lazy import lazy_exports

if TYPE_CHECKING:
    from ssdf_ai.bom._common import dumps
    from ssdf_ai.bom.cyclonedx import CYCLONEDX_MEDIA_TYPE, cyclonedx_bom, cyclonedx_from_info
    from ssdf_ai.bom.model_info import ModelInfo, gather_model_info
    from ssdf_ai.bom.spdx import SPDX_MEDIA_TYPE, spdx_document, spdx_from_info

_LAZY = {
    "dumps": "ssdf_ai.bom._common",
    "CYCLONEDX_MEDIA_TYPE": "ssdf_ai.bom.cyclonedx",
    "cyclonedx_bom": "ssdf_ai.bom.cyclonedx",
    "cyclonedx_from_info": "ssdf_ai.bom.cyclonedx",
    "ModelInfo": "ssdf_ai.bom.model_info",
    "gather_model_info": "ssdf_ai.bom.model_info",
    "SPDX_MEDIA_TYPE": "ssdf_ai.bom.spdx",
    "spdx_document": "ssdf_ai.bom.spdx",
    "spdx_from_info": "ssdf_ai.bom.spdx",
}

__all__ = [
    "CYCLONEDX_MEDIA_TYPE",
    "SPDX_MEDIA_TYPE",
    "ModelInfo",
    "cyclonedx_bom",
    "cyclonedx_from_info",
    "dumps",
    "gather_model_info",
    "spdx_document",
    "spdx_from_info",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
