"""``ssdf card`` and ``ssdf release build`` / ``ssdf release verify``: model and data cards from
evidence, and signed, versioned release archives.

``release`` is a command group with two subcommands, ``build`` and ``verify``, rather than a
command that doubles as a group: ``ssdf release MODEL`` next to ``ssdf release verify ARCHIVE``
would make a model folder named ``verify`` ambiguous. Everything heavy is imported inside the
commands, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ssdf_ai.cli._common import FORMATS_NO_SARIF, Output, command

if TYPE_CHECKING:
    from ssdf_ai.release.report import ReleaseReport, ReleaseVerifyReport

app = typer.Typer(
    help="Build and verify signed, versioned model release archives.", no_args_is_help=True
)

ProjectOpt = Annotated[
    Path,
    typer.Option(
        "--project",
        help="The project root (searched upwards for ssdf.toml); the evidence store is "
        "PROJECT/.ssdf.",
        file_okay=False,
    ),
]
Record = Annotated[
    bool, typer.Option("--record/--no-record", help="Record the result in the evidence store.")
]


def register(root_app: typer.Typer) -> None:
    """Add ``card`` and the ``release`` group to ``root_app``."""

    @command(root_app, "card", formats=None)
    def card(
        path: Annotated[
            Path, typer.Argument(help="The model folder (or file); with --data, the dataset.")
        ],
        data: Annotated[
            bool, typer.Option("--data", help="Write the data card of a dataset instead.")
        ] = False,
        project: ProjectOpt = Path("."),
        record: Record = True,
        *,
        out: Output,
    ) -> str:
        """Write a model card (or, with --data, a data card) filled from recorded evidence.

        The model card is Markdown with a Hugging Face compatible YAML header. Nothing is
        invented: what is missing is written as a "Not recorded" line naming the command that
        records it. The card is recorded as evidence (kind model-card or data-card).
        """
        from ssdf_ai.cli.evidence import _project, database_url
        from ssdf_ai.config import load_config
        from ssdf_ai.release.card import CARD_MEDIA_TYPE, data_card, model_card

        root = _project(project)
        loaded = load_config(root)
        url = database_url(root)
        made = (
            data_card(root, path, loaded=loaded, url=url)
            if data
            else model_card(root, path, loaded=loaded, url=url)
        )
        if record:
            from ssdf_ai.evidence import Subject, SubjectKind
            from ssdf_ai.store import EvidenceStore

            argv = ["ssdf", *sys.argv[1:]]
            with EvidenceStore.open(root, url=url) as store, store.run("card", argv) as run:
                subject_id = run.add_subject(
                    Subject(
                        kind=SubjectKind(made.subject_kind), name=made.subject, digest=made.digest
                    )
                )
                run.add_artifact(
                    made.text.encode("utf-8"),
                    kind=made.kind,
                    media_type=CARD_MEDIA_TYPE,
                    subject_id=subject_id,
                    name="DATA_CARD.md" if data else "MODEL_CARD.md",
                )
                run_id = run.id
            out.status(f"recorded as run:{run_id}")
        if made.missing:
            out.status(f"{len(made.missing)} item(s) not recorded; the card names each one")
        return made.text

    root_app.add_typer(app, name="release")


@command(app, "build", formats=FORMATS_NO_SARIF)
def build(
    model: Annotated[Path, typer.Argument(help="The model folder (or file) to release.")],
    version: Annotated[
        str, typer.Option("--version", help="The release version, e.g. 1.2.0.", show_default=False)
    ],
    key: Annotated[
        Path,
        typer.Option(
            "--key",
            help="Private key (PEM, ECDSA P-256/384/521) that signs release.sig.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            "--passphrase-env",
            metavar="VAR",
            help="Read the key's passphrase from VAR.",
            show_default=False,
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Where to write NAME-VERSION.tar.gz (default: PROJECT/releases).",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    project: ProjectOpt = Path("."),
    record: Record = True,
    *,
    out: Output,
) -> ReleaseReport:
    """Assemble and sign a versioned release archive of a model.

    The archive NAME-VERSION.tar.gz holds the model's signature, the provenance of the runs
    that produced it, CycloneDX and SPDX BOMs, the model card, the newest scan report and
    assessment, a manifest (release.json, which also says what is missing), and release.sig
    over all of them. The model must be signed (`ssdf sign`) and its files must match the
    signature. Exit 0 written, 2 refused.
    """
    from ssdf_ai.cli.evidence import _project, database_url
    from ssdf_ai.cli.integrity import _signer
    from ssdf_ai.config import load_config
    from ssdf_ai.release.archive import build_release, record_release
    from ssdf_ai.release.report import ReleaseReport

    root = _project(project)
    loaded = load_config(root)
    url = database_url(root)
    signer = _signer(key, passphrase_env, None, None)
    built = build_release(
        root, model, version=version, signer=signer, loaded=loaded, out_dir=out_dir, url=url
    )
    run_id = None
    if record:
        run_id = record_release(root, url, built, ["ssdf", *sys.argv[1:]])
        out.status(f"recorded as run:{run_id}")
    return ReleaseReport(
        archive=str(built.archive),
        sha256=built.sha256,
        size=built.size,
        name=built.name,
        version=built.version,
        created=built.created,
        model=built.model,
        model_digest=built.model_digest,
        signer=built.signer,
        members=list(built.members),
        notes=list(built.notes),
        run_id=run_id,
    )


@command(app, "verify", formats=FORMATS_NO_SARIF)
def verify(
    archive: Annotated[
        Path, typer.Argument(help="The release archive (NAME-VERSION.tar.gz).", dir_okay=False)
    ],
    key: Annotated[
        Path,
        typer.Option(
            "--key",
            help="The release signer's public key (PEM); release.sig must verify with it.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Also verify this model folder's files against the release's model.sig.",
            show_default=False,
        ),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            help="Also trust this project's [[signers]] keys for model.sig and the provenance.",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Hashing threads (default: one per CPU).", show_default=False
        ),
    ] = None,
    *,
    out: Output,
) -> ReleaseVerifyReport:
    """Verify a release archive: every check is listed with its result.

    The archive is read without trusting it (no links, absolute paths or '..'; bounded sizes)
    into a private temporary folder. release.sig must verify with --key and cover exactly the
    members; model.sig and the provenance envelopes must verify with --key or a [[signers]]
    key of --project; the BOMs, the card and the manifest must name the model digest model.sig
    signs; with --model, the files must match model.sig. Exit 0 verified, 1 any problem,
    2 unusable input.
    """
    from ssdf_ai.integrity.keys import OMS_CURVES, load_public_key
    from ssdf_ai.release.archive import verify_release

    public = load_public_key(key, curves=OMS_CURVES)
    trusted = {}
    if project is not None:
        from ssdf_ai.cli.evidence import _project
        from ssdf_ai.config import load_config
        from ssdf_ai.release.card import trusted_keys

        trusted = trusted_keys(load_config(_project(project)))
    return verify_release(archive, public, trusted=trusted, model=model, workers=workers)
