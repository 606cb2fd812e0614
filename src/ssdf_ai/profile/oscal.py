"""SP 800-218A in OSCAL: as a catalog of its own, and as a profile of NIST's SSDF 1.1 catalog.

**Catalog** (:func:`oscal_catalog`): groups PO, PS, PW, RV; each practice a control of class
``practice`` with a ``statement`` part; each task a control of class ``task`` nested in its
practice, with a ``statement`` part and one part per AI-specific item (part name
``recommendation``, ``consideration`` or ``note`` in the ssdf-ai namespace :data:`NS`, part id
= the item id, e.g. ``PO.1.2.R1``). Priority, the SSDF 1.1 tag and the informative references
are properties in :data:`NS`. Document and resource uuids are UUIDv5 values derived from the
content, so two exports of the same catalog differ only in ``last-modified`` (which can be
fixed with ``last_modified``).

**Profile** (:func:`oscal_profile`): imports NIST's official OSCAL catalog of SSDF 1.1 (all
controls) and adds, with ``modify/alters``, the AI items as parts and the priority, tag and
reference properties to each task, and the tag (plus, for modified practices, the SP 800-218A
title and statement) to each practice. Controls that are new in SP 800-218A (``PW.3`` and its
tasks, ``PO.5.3``, ``PS.1.2``, ``PS.1.3``) do not exist in SSDF 1.1, and an alter cannot
create a control, so the profile imports them, by id, from our own exported catalog. Both
imports point at back-matter resources, so their locations can be changed in one place.

Both functions return plain ``dict`` documents (``{"catalog": …}`` / ``{"profile": …}``); use
:func:`dumps` for JSON text. The shapes follow OSCAL 1.1 (:data:`OSCAL_VERSION`) and are checked
in the tests with compliance-trestle's models and profile resolver.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ssdf_ai._version import __version__
from ssdf_ai.errors import InputError
from ssdf_ai.profile._enums import Tag
from ssdf_ai.profile._models import Catalog, Item, Practice, Task

OSCAL_VERSION = "1.1.2"
"""The OSCAL version the documents are written against."""

NS = "urn:ssdf-ai:oscal:sp800-218a"
"""Namespace of the property and part names that OSCAL itself does not define."""

NIST_SSDF_CATALOG_HREF = (
    "https://raw.githubusercontent.com/usnistgov/oscal-content/main/"
    "nist.gov/SP800-218/ver1/json/NIST_SP800-218_ver1_catalog.json"
)
"""Where NIST publishes its OSCAL catalog of SSDF 1.1 (SP 800-218)."""

AI_CATALOG_HREF = "sp800-218a-catalog.json"
"""Default location of our exported catalog, relative to the profile (write them side by side)."""

# fmt: off
SSDF_1_1_CONTROL_IDS: frozenset[str] = frozenset({
    # Every control id (practices and tasks) in NIST's OSCAL catalog of SSDF 1.1,
    # usnistgov/oscal-content nist.gov/SP800-218/ver1 (commit 78650f02); the tests compare this
    # set with the catalog file, so an alter can never target a control that does not exist.
    "PO.1", "PO.1.1", "PO.1.2", "PO.1.3", "PO.2", "PO.2.1", "PO.2.2", "PO.2.3",
    "PO.3", "PO.3.1", "PO.3.2", "PO.3.3", "PO.4", "PO.4.1", "PO.4.2",
    "PO.5", "PO.5.1", "PO.5.2",
    "PS.1", "PS.1.1", "PS.2", "PS.2.1", "PS.3", "PS.3.1", "PS.3.2",
    "PW.1", "PW.1.1", "PW.1.2", "PW.1.3", "PW.2", "PW.2.1", "PW.4", "PW.4.1", "PW.4.2", "PW.4.4",
    "PW.5", "PW.5.1", "PW.6", "PW.6.1", "PW.6.2", "PW.7", "PW.7.1", "PW.7.2",
    "PW.8", "PW.8.1", "PW.8.2", "PW.9", "PW.9.1", "PW.9.2",
    "RV.1", "RV.1.1", "RV.1.2", "RV.1.3", "RV.2", "RV.2.1", "RV.2.2",
    "RV.3", "RV.3.1", "RV.3.2", "RV.3.3", "RV.3.4",
})
# fmt: on

_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
_TOKEN_BAD = re.compile(r"[^A-Za-z0-9_.\-]")
_DOI = "http://www.doi.org/"  # the scheme OSCAL names for DOIs

# Back-matter resources: key -> (title, link, DOI or None).
_RESOURCES: dict[str, tuple[str, str, str | None]] = {
    "sp800-218a": (
        "NIST SP 800-218A, Secure Software Development Practices for Generative AI and Dual-Use "
        "Foundation Models: An SSDF Community Profile (July 2024)",
        "https://csrc.nist.gov/pubs/sp/800/218/a/final",
        "10.6028/NIST.SP.800-218A",
    ),
    "sp800-218": (
        "NIST SP 800-218, Secure Software Development Framework (SSDF) Version 1.1",
        "https://csrc.nist.gov/pubs/sp/800/218/final",
        "10.6028/NIST.SP.800-218",
    ),
    "ai-rmf": (
        "NIST AI 100-1, Artificial Intelligence Risk Management Framework (AI RMF 1.0)",
        "https://doi.org/10.6028/NIST.AI.100-1",
        "10.6028/NIST.AI.100-1",
    ),
    "owasp-llm-v1.1": (
        "OWASP Top 10 for Large Language Model Applications, version 1.1",
        "https://owasp.org/www-project-top-10-for-large-language-model-applications/",
        None,
    ),
    "adv-ml": (
        "NIST AI 100-2e2023, Adversarial Machine Learning: A Taxonomy and Terminology of "
        "Attacks and Mitigations",
        "https://doi.org/10.6028/NIST.AI.100-2e2023",
        "10.6028/NIST.AI.100-2e2023",
    ),
}


def stable_uuid(name: str) -> str:
    """Return the UUIDv5 of ``name`` in the ssdf-ai OSCAL namespace (same name, same uuid).

    Args:
        name: Any string that identifies what the uuid is for.

    Returns:
        The uuid in canonical text form.
    """
    return str(uuid.uuid5(_UUID_NAMESPACE, name))


def token(value: str) -> str:
    """Make ``value`` a valid OSCAL token (``PO.1.2.R1`` stays as it is).

    Characters outside letters, digits, ``_``, ``.`` and ``-`` become ``_``, and a token that
    would not start with a letter or ``_`` gets a leading ``_``.

    Args:
        value: The string.

    Returns:
        The token.
    """
    safe = _TOKEN_BAD.sub("_", value)
    return safe if re.match(r"[A-Za-z_]", safe) else f"_{safe}"


def oscal_catalog(catalog: Catalog, *, last_modified: datetime | None = None) -> dict[str, Any]:
    """Return SP 800-218A as an OSCAL catalog document.

    Args:
        catalog: The catalog (usually :func:`ssdf_ai.profile.load_catalog`).
        last_modified: The ``metadata/last-modified`` time (time-zone aware); now by default.
            Everything else in the document is a function of ``catalog``.

    Returns:
        ``{"catalog": {...}}``, ready for :func:`dumps`.

    Raises:
        InputError: If ``last_modified`` has no time zone.
    """
    digest = _digest(catalog)
    doc: dict[str, Any] = {
        "uuid": stable_uuid(f"catalog/{__version__}/{digest}"),
        "metadata": {
            "title": "NIST SP 800-218A: SSDF Community Profile for Generative AI and Dual-Use "
            "Foundation Models",
            "last-modified": _timestamp(last_modified),
            "version": __version__,
            "oscal-version": OSCAL_VERSION,
            "props": [_prop("content-sha256", digest)],
            "links": [{"href": f"#{_resource_uuid('sp800-218a')}", "rel": "source"}],
            "remarks": (
                f"{catalog.source}, transcribed as data by ssdf-ai {__version__}. Not an "
                "official NIST publication. Tasks that are new in SP 800-218A carry the "
                "property ssdf-1.1-tag=new; AI-specific items are parts named recommendation, "
                f"consideration or note in the namespace {NS}."
            ),
        },
        "groups": [
            {
                "id": token(group.id),
                "class": "group",
                "title": group.title,
                "props": [
                    {"name": "label", "value": group.id},
                    {"name": "sort-id", "value": _sort_id(g)},
                ],
                "controls": [_practice_control(practice, g) for practice in group.practices],
            }
            for g, group in enumerate(catalog.groups, 1)
        ],
        "back-matter": {"resources": [_resource(key) for key in _RESOURCES]},
    }
    return {"catalog": doc}


def oscal_profile(
    catalog: Catalog,
    *,
    nist_catalog_href: str = NIST_SSDF_CATALOG_HREF,
    ai_catalog_href: str = AI_CATALOG_HREF,
    last_modified: datetime | None = None,
    ssdf_control_ids: Iterable[str] = SSDF_1_1_CONTROL_IDS,
) -> dict[str, Any]:
    """Return SP 800-218A as an OSCAL profile over NIST's SSDF 1.1 catalog.

    Args:
        catalog: The catalog.
        nist_catalog_href: Where the profile finds NIST's SSDF 1.1 catalog.
        ai_catalog_href: Where it finds our catalog (:func:`oscal_catalog`), from which it
            imports the controls that SSDF 1.1 lacks.
        last_modified: The ``metadata/last-modified`` time (time-zone aware); now by default.
        ssdf_control_ids: The control ids of the SSDF 1.1 catalog; use
            :func:`catalog_control_ids` on another copy of it to check against that.

    Returns:
        ``{"profile": {...}}``, ready for :func:`dumps`.

    Raises:
        InputError: If an href is empty, ``last_modified`` has no time zone, or the catalog's
            tags disagree with ``ssdf_control_ids`` (a practice or task tagged as in SSDF 1.1
            but missing there, or tagged new but present).
    """
    for option, href in (
        ("--catalog-href", nist_catalog_href),
        ("ai_catalog_href", ai_catalog_href),
    ):
        if not href.strip():
            raise InputError("the catalog location must not be empty", where=option)
    known = frozenset(ssdf_control_ids)
    base: list[Practice | Task] = []
    new: list[str] = []
    for practice in catalog.practices():
        controls: list[Practice | Task] = [practice, *practice.tasks]
        for control in controls:
            _check_control(control, known)
            if control.tag is Tag.NEW:
                new.append(control.id)
            else:
                base.append(control)

    nist_res = stable_uuid("resource/nist-sp800-218-ver1-oscal-catalog")
    ai_res = stable_uuid("resource/ssdf-ai-sp800-218a-oscal-catalog")
    digest = _digest(catalog)
    doc: dict[str, Any] = {
        "uuid": stable_uuid(
            f"profile/{__version__}/{digest}/{nist_catalog_href}/{ai_catalog_href}"
        ),
        "metadata": {
            "title": "NIST SP 800-218A as a profile of the SSDF 1.1 (SP 800-218) catalog",
            "last-modified": _timestamp(last_modified),
            "version": __version__,
            "oscal-version": OSCAL_VERSION,
            "props": [_prop("content-sha256", digest)],
            "remarks": (
                "Imports every control of NIST's OSCAL catalog of SSDF 1.1 and adds the "
                "SP 800-218A items, priorities, tags and references with alters. The controls "
                f"that SP 800-218A adds ({', '.join(new)}) are not in SSDF 1.1, and an alter "
                "cannot create a control, so they are imported by id from the ssdf-ai OSCAL "
                "catalog of SP 800-218A, which holds them with their items."
            ),
        },
        "imports": [
            {"href": f"#{nist_res}", "include-all": {}},
            {"href": f"#{ai_res}", "include-controls": [{"with-ids": new}]},
        ],
        "merge": {"as-is": True},
        "modify": {"alters": [_alter(control) for control in base]},
        "back-matter": {
            "resources": [
                {
                    "uuid": nist_res,
                    "title": "NIST SP 800-218 ver. 1.1 (SSDF) OSCAL catalog",
                    "rlinks": [
                        {"href": nist_catalog_href, "media-type": "application/oscal.catalog+json"}
                    ],
                },
                {
                    "uuid": ai_res,
                    "title": "NIST SP 800-218A OSCAL catalog (ssdf-ai export)",
                    "rlinks": [
                        {"href": ai_catalog_href, "media-type": "application/oscal.catalog+json"}
                    ],
                },
                _resource("sp800-218a"),
            ]
        },
    }
    return {"profile": doc}


def catalog_control_ids(document: Mapping[str, Any]) -> frozenset[str]:
    """Return the ids of every control (at any depth) in an OSCAL catalog document.

    Args:
        document: A parsed OSCAL catalog, with or without the outer ``{"catalog": …}``.

    Returns:
        The control ids.

    Raises:
        InputError: If the document is not an OSCAL catalog.
    """
    body = document.get("catalog", document)
    if not isinstance(body, Mapping) or "metadata" not in body:
        raise InputError("not an OSCAL catalog (no catalog/metadata)")
    ids: set[str] = set()
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        for key in ("groups", "controls"):
            for child in node.get(key, []) or []:
                if key == "controls":
                    ids.add(str(child["id"]))
                stack.append(child)
    return frozenset(ids)


def dumps(document: Mapping[str, Any]) -> str:
    """Serialise an OSCAL document as indented JSON with a final newline.

    Args:
        document: The document from :func:`oscal_catalog` or :func:`oscal_profile`.

    Returns:
        The JSON text.
    """
    import json

    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- building blocks ------------------------------------------------------------------------


def _practice_control(practice: Practice, group_number: int) -> dict[str, Any]:
    return {
        "id": token(practice.id),
        "class": "practice",
        "title": practice.title,
        "props": [
            {"name": "label", "value": practice.id},
            {"name": "sort-id", "value": _sort_id(group_number, *_numbers(practice.id))},
            _prop("ssdf-1.1-tag", practice.tag.value),
        ],
        "parts": [
            {
                "id": token(f"statement_{practice.id}"),
                "name": "statement",
                "prose": practice.statement,
            }
        ],
        "controls": [_task_control(task, group_number) for task in practice.tasks],
    }


def _task_control(task: Task, group_number: int) -> dict[str, Any]:
    return {
        "id": token(task.id),
        "class": "task",
        "title": task.id,
        "props": [
            {"name": "label", "value": task.id},
            {"name": "sort-id", "value": _sort_id(group_number, *_numbers(task.id))},
            *_task_props(task),
        ],
        "parts": [
            {"id": token(f"statement_{task.id}"), "name": "statement", "prose": task.statement},
            *(_item_part(item) for item in task.items),
        ],
    }


def _task_props(task: Task) -> list[dict[str, Any]]:
    refs = task.references
    props = [_prop("priority", task.priority.value), _prop("ssdf-1.1-tag", task.tag.value)]
    if refs.ai_rmf:
        props.append(_prop("ai-rmf", refs.ai_rmf))
    if refs.owasp_llm_v1_1:
        props.append(_prop("owasp-llm-v1.1", refs.owasp_llm_v1_1))
    props.append(_prop("adv-ml", "true" if refs.adv_ml else "false"))
    return props


def _item_part(item: Item) -> dict[str, Any]:
    return {
        "id": token(item.id),
        "name": item.kind.value,
        "ns": NS,
        "props": [{"name": "label", "value": item.label}],
        "prose": item.text,
    }


def _alter(control: Practice | Task) -> dict[str, Any]:
    """What the profile adds to an SSDF 1.1 control."""
    add: dict[str, Any] = {"position": "ending"}
    parts: list[dict[str, Any]] = []
    if control.tag is Tag.MODIFIED:
        # SSDF 1.1 keeps its own statement; the modified wording rides along as a part.
        part: dict[str, Any] = {
            "id": token(f"sp800-218a-statement_{control.id}"),
            "name": "sp800-218a-statement",
            "ns": NS,
            "title": control.title if isinstance(control, Practice) else "SP 800-218A statement",
            "prose": control.statement,
        }
        parts.append(part)
    if isinstance(control, Task):
        add["props"] = _task_props(control)
        parts += [_item_part(item) for item in control.items]
    else:
        add["props"] = [_prop("ssdf-1.1-tag", control.tag.value)]
    if parts:
        add["parts"] = parts
    return {"control-id": token(control.id), "adds": [add]}


def _check_control(control: Practice | Task, known: frozenset[str]) -> None:
    if control.tag is Tag.NEW and control.id in known:
        raise InputError(
            f"{control.id} is tagged new in SP 800-218A but exists in the SSDF 1.1 catalog",
            where=control.id,
            hint="check the profile data's tag or the SSDF 1.1 catalog given",
        )
    if control.tag is not Tag.NEW and control.id not in known:
        raise InputError(
            f"{control.id} is not in the SSDF 1.1 catalog, so the profile cannot alter it",
            where=control.id,
            hint="tag it new in the profile data, or check the SSDF 1.1 catalog given",
        )


def _prop(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "ns": NS, "value": value}


def _resource(key: str) -> dict[str, Any]:
    title, href, doi = _RESOURCES[key]
    resource: dict[str, Any] = {
        "uuid": _resource_uuid(key),
        "title": title,
        "rlinks": [{"href": href}],
    }
    if doi:
        resource["document-ids"] = [{"scheme": _DOI, "identifier": doi}]
    return resource


def _resource_uuid(key: str) -> str:
    return stable_uuid(f"resource/{key}")


def _sort_id(*position: int) -> str:
    # The scheme of NIST's SSDF 1.1 catalog (group number, then the numbers in the id), so that
    # a control imported from our catalog sorts into place beside NIST's controls.
    return ".".join(f"{n:06d}" for n in position)


def _numbers(control_id: str) -> list[int]:
    return [int(part) for part in control_id.split(".")[1:]]


def _digest(catalog: Catalog) -> str:
    return hashlib.sha256(catalog.model_dump_json().encode("utf-8")).hexdigest()


def _timestamp(when: datetime | None) -> str:
    if when is None:
        when = datetime.now(UTC)
    elif when.tzinfo is None or when.utcoffset() is None:
        raise InputError(
            f"last-modified time {when.isoformat()} has no time zone",
            hint="give a time with an offset, e.g. 2024-07-26T00:00:00+00:00",
        )
    return when.isoformat(timespec="seconds")
