"""``ssdf bom``: a bill of materials for a model, CycloneDX 1.6 ML-BOM or SPDX 3.0.1.

The BOM library (:mod:`ssdf_ai.bom`) is imported inside the command, so ``ssdf --help`` stays
fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ssdf_ai.cli._common import Output, command

CYCLONEDX_ARTIFACT = ("cyclonedx-bom", "bom.cdx.json")
SPDX_ARTIFACT = ("spdx-document", "bom.spdx.json")


def _record(
    root: Path, subject: str, digest: str, artifacts: list[tuple[str, str, str, str]]
) -> int:
    """Record a ``bom`` run: the model as subject, each document as an artifact."""
    from ssdf_ai.cli.evidence import database_url
    from ssdf_ai.evidence import Subject, SubjectKind
    from ssdf_ai.store import EvidenceStore

    with (
        EvidenceStore.open(root, url=database_url(root)) as store,
        store.run("bom", ["ssdf", *sys.argv[1:]]) as run,
    ):
        subject_id = run.add_subject(Subject(kind=SubjectKind.MODEL, name=subject, digest=digest))
        for text, kind, media, name in artifacts:
            run.add_artifact(
                text.encode("utf-8"),
                kind=kind,
                media_type=media,
                subject_id=subject_id,
                name=name,
            )
        run.set_exit_code(0)
        return run.id


def register(app: typer.Typer) -> None:
    """Add ``bom``."""

    @command(app, "bom", formats=None)
    def bom(
        model: Annotated[
            Path, typer.Argument(help="The model: a folder (Hugging Face layout or any) or a file.")
        ],
        spdx: Annotated[
            bool,
            typer.Option(
                "--spdx",
                help="Write an SPDX 3.0.1 JSON-LD document (AI and Dataset profiles) instead of "
                "the CycloneDX 1.6 ML-BOM.",
            ),
        ] = False,
        spdx_output: Annotated[
            Path | None,
            typer.Option(
                "--spdx-output",
                metavar="FILE",
                help="Also write the SPDX document to FILE (the CycloneDX BOM still goes to "
                "--output or stdout).",
                dir_okay=False,
                show_default=False,
            ),
        ] = None,
        project: Annotated[
            Path,
            typer.Option(
                "--project",
                help="The project root (its recorded runs, dataset registry, signatures and "
                "ssdf.toml are read); the evidence store is PROJECT/.ssdf.",
                file_okay=False,
            ),
        ] = Path("."),
        record: Annotated[
            bool,
            typer.Option("--record/--no-record", help="Record the BOM in the evidence store."),
        ] = True,
        *,
        out: Output,
    ) -> str:
        """Write a bill of materials for a model: CycloneDX 1.6 ML-BOM (default) or SPDX 3.0.1.

        The model with its file digests and OMS root, its model card (task, architecture,
        metrics, intended uses, limitations), the datasets its recorded training runs consumed
        and the registered datasets its card names (digests, provenance, licence, sensitive
        data), its frameworks and packages, its base model, the training run, and references to
        its signature and provenance. Paths in the document are relative to the project root.
        """
        from ssdf_ai._io import atomic_write
        from ssdf_ai.bom import (
            CYCLONEDX_MEDIA_TYPE,
            SPDX_MEDIA_TYPE,
            cyclonedx_from_info,
            dumps,
            gather_model_info,
            spdx_from_info,
        )
        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.config import load_config
        from ssdf_ai.errors import InputError

        if spdx and spdx_output is not None:
            raise InputError(
                "--spdx and --spdx-output do not go together",
                hint="--spdx writes SPDX instead of CycloneDX; --spdx-output writes both",
            )
        if not model.exists():
            raise InputError(
                f"{model} does not exist", where=model, hint="give a model folder or file"
            )
        root = _project(project)
        info = gather_model_info(root, model, loaded_config=load_config(root))
        for warning in info.warnings:
            out.status(f"warning: {warning}")
        documents: list[tuple[str, str, str, str]] = []
        result: str
        if spdx:
            result = dumps(spdx_from_info(info))
            documents.append((result, SPDX_ARTIFACT[0], SPDX_MEDIA_TYPE, SPDX_ARTIFACT[1]))
        else:
            result = dumps(cyclonedx_from_info(info))
            documents.append(
                (result, CYCLONEDX_ARTIFACT[0], CYCLONEDX_MEDIA_TYPE, CYCLONEDX_ARTIFACT[1])
            )
        if spdx_output is not None:
            text = dumps(spdx_from_info(info))
            atomic_write(spdx_output, text)
            documents.append((text, SPDX_ARTIFACT[0], SPDX_MEDIA_TYPE, SPDX_ARTIFACT[1]))
            out.status(f"wrote SPDX document to {spdx_output}")
        if record:
            run_id = _record(root, info.rel_path, info.digest, documents)
            out.status(f"recorded as run:{run_id}")
        return result
