"""``ssdf profile``: browse and export the SP 800-218A catalog.

Only typer and the profile's small enums are imported at start-up; the catalog, pydantic and
YAML load inside the commands, so that ``ssdf --help`` stays fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, assert_never

import typer

from ssdf_ai.cli._common import Output, command
from ssdf_ai.profile import ExportFormat, OscalKind, Priority, Tag

if TYPE_CHECKING:
    from ssdf_ai.profile import ProfileListReport, ProfileShowReport

app = typer.Typer(help="Browse and export the SP 800-218A profile.", no_args_is_help=True)


@command(app, "list")
def list_(
    group: Annotated[
        str | None,
        typer.Option("--group", "-g", help="Only this group: PO, PS, PW or RV.", metavar="ID"),
    ] = None,
    practice: Annotated[
        str | None,
        typer.Option("--practice", "-p", help="Only this practice, e.g. PO.1.", metavar="ID"),
    ] = None,
    priority: Annotated[
        Priority | None,
        typer.Option("--priority", help="Only tasks of this priority.", case_sensitive=False),
    ] = None,
    tag: Annotated[
        Tag | None,
        typer.Option(
            "--tag",
            help="Only tasks with this tag (new: not part of SSDF 1.1).",
            case_sensitive=False,
        ),
    ] = None,
    items: Annotated[
        bool, typer.Option("--items", "-i", help="List each task's AI-specific items.")
    ] = False,
    *,
    out: Output,
) -> ProfileListReport:
    """List the profile's tasks with priority, tag and item counts; filters combine."""
    from ssdf_ai.profile import ProfileListReport, load_catalog

    return ProfileListReport.build(
        load_catalog(),
        group=group,
        practice=practice,
        priority=priority,
        tag=tag,
        show_items=items,
    )


@command(app, "show")
def show(
    node_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="A group, practice, task or item id: PO, PO.1, PO.1.2, PO.1.2.R1."
        ),
    ],
    *,
    out: Output,
) -> ProfileShowReport:
    """Show a practice, task or item with its parents and children."""
    from ssdf_ai.profile import ProfileShowReport, load_catalog

    return ProfileShowReport.build(load_catalog(), node_id)


@command(app, "export", formats=None)
def export(
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help="Document format: oscal, json (the catalog model), csv (one row per item) "
            "or markdown.",
            case_sensitive=False,
        ),
    ] = ExportFormat.OSCAL,
    oscal_kind: Annotated[
        OscalKind | None,
        typer.Option(
            "--oscal-kind",
            help="With --format oscal: a catalog of SP 800-218A (default), or a profile that "
            "imports NIST's SSDF 1.1 catalog and adds the AI items.",
            case_sensitive=False,
        ),
    ] = None,
    catalog_href: Annotated[
        str | None,
        typer.Option(
            "--catalog-href",
            metavar="URL",
            help="With --oscal-kind profile: where NIST's SSDF 1.1 OSCAL catalog is "
            "(default: its usnistgov/oscal-content URL).",
        ),
    ] = None,
    ai_catalog_href: Annotated[
        str | None,
        typer.Option(
            "--ai-catalog-href",
            metavar="URL",
            help="With --oscal-kind profile: where our exported OSCAL catalog is, for the "
            "controls SSDF 1.1 lacks (default: sp800-218a-catalog.json beside the profile).",
        ),
    ] = None,
    last_modified: Annotated[
        datetime | None,
        typer.Option(
            "--last-modified",
            metavar="TIME",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"],
            help="With --format oscal: the last-modified time to record, for reproducible "
            "output (e.g. 2024-07-26T00:00:00+00:00; a date means midnight UTC) (default: now).",
        ),
    ] = None,
    *,
    out: Output,
) -> str:
    """Export the whole profile as OSCAL, JSON, CSV or Markdown."""
    from ssdf_ai.errors import InputError
    from ssdf_ai.profile import load_catalog, to_csv, to_json, to_markdown

    if fmt is not ExportFormat.OSCAL:
        given = [
            name
            for name, value in (
                ("--oscal-kind", oscal_kind),
                ("--catalog-href", catalog_href),
                ("--ai-catalog-href", ai_catalog_href),
                ("--last-modified", last_modified),
            )
            if value is not None
        ]
        if given:
            raise InputError(
                f"{', '.join(given)} applies only to --format oscal",
                where=given[0],
                hint=f"drop {given[0]} or use --format oscal",
            )
    elif oscal_kind is not OscalKind.PROFILE and (catalog_href or ai_catalog_href):
        option = "--catalog-href" if catalog_href else "--ai-catalog-href"
        raise InputError(
            f"{option} applies only to --oscal-kind profile",
            where=option,
            hint="add --oscal-kind profile",
        )
    if last_modified is not None and last_modified.tzinfo is None:
        from datetime import UTC

        last_modified = last_modified.replace(tzinfo=UTC)

    catalog = load_catalog()
    match fmt:
        case ExportFormat.OSCAL:
            from ssdf_ai.profile import oscal

            if oscal_kind is OscalKind.PROFILE:
                document = oscal.oscal_profile(
                    catalog,
                    nist_catalog_href=catalog_href or oscal.NIST_SSDF_CATALOG_HREF,
                    ai_catalog_href=ai_catalog_href or oscal.AI_CATALOG_HREF,
                    last_modified=last_modified,
                )
            else:
                document = oscal.oscal_catalog(catalog, last_modified=last_modified)
            return oscal.dumps(document)
        case ExportFormat.JSON:
            return to_json(catalog)
        case ExportFormat.CSV:
            return to_csv(catalog)
        case ExportFormat.MARKDOWN:
            return to_markdown(catalog)
        case _:
            assert_never(fmt)
