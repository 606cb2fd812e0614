"""The SP 800-218A catalog as typed, frozen models: groups, practices, tasks and items.

The id scheme is the publication's own: a group is ``PO``, a practice ``PO.1``, a task
``PO.1.2`` and an AI-specific item ``PO.1.2.R1`` (R recommendation, C consideration, N note,
numbered per kind within the task). The models check that every id fits its parent, so a
damaged data file fails to load instead of producing a catalog with holes.
"""

from __future__ import annotations

import difflib
from typing import Any, ClassVar, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from ssdf_ai.errors import InputError
from ssdf_ai.profile._enums import ItemKind, Priority, Tag

_GROUP_ID = r"^[A-Z]{2}$"
_PRACTICE_ID = r"^[A-Z]{2}\.[1-9][0-9]*$"
_TASK_ID = r"^[A-Z]{2}\.[1-9][0-9]*\.[1-9][0-9]*$"
_ITEM_ID = r"^[A-Z]{2}\.[1-9][0-9]*\.[1-9][0-9]*\.[RCN][1-9][0-9]*$"

_ID_SCHEME = "ids look like PO (group), PO.1 (practice), PO.1.2 (task) or PO.1.2.R1 (item)"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class References(_Model):
    """The informative references SP 800-218A gives for a task.

    Attributes:
        ai_rmf: NIST AI RMF 1.0 (AI 100-1) subcategories, as printed (e.g. ``"Map 1.3, 1.5"``),
            or ``None`` when the task cites none.
        owasp_llm_v1_1: OWASP Top 10 for LLM Applications v1.1 entries (2023 numbering, e.g.
            ``"LLM05-1"``), or ``None``.
        adv_ml: Whether the task cites NIST AI 100-2e2023 (adversarial machine learning).
    """

    ai_rmf: str | None = Field(description="NIST AI RMF 1.0 subcategories, as printed.")
    owasp_llm_v1_1: str | None = Field(
        description="OWASP Top 10 for LLM Applications v1.1 entries (2023 numbering)."
    )
    adv_ml: bool = Field(description="Whether the task cites NIST AI 100-2e2023.")


class Item(_Model):
    """One AI-specific recommendation, consideration or note of a task.

    Attributes:
        id: The item id, e.g. ``PO.1.2.R1``.
        kind: Recommendation, consideration or note; matches the letter in the id.
        text: The item's text, verbatim from the publication.
    """

    level: ClassVar[str] = "item"

    id: str = Field(pattern=_ITEM_ID)
    kind: ItemKind
    text: str = Field(min_length=1)

    @property
    def label(self) -> str:
        """The item's short label within its task, e.g. ``R1``."""
        return self.id.rsplit(".", 1)[1]

    @property
    def task_id(self) -> str:
        """The id of the task the item belongs to."""
        return self.id.rsplit(".", 1)[0]

    @model_validator(mode="after")
    def _kind_matches_id(self) -> Item:
        if self.label[0] != self.kind.letter:
            raise ValueError(
                f"item {self.id} is a {self.kind.value}, so its letter must be {self.kind.letter}"
            )
        return self


class Task(_Model):
    """A task of a practice, with its priority, tag, AI-specific items and references.

    Attributes:
        id: The task id, e.g. ``PO.1.2``.
        statement: The task statement (SP 800-218A wording, without the tag marker).
        priority: High, Medium or Low, for AI model development.
        tag: ``unchanged``, ``modified`` (from SSDF 1.1) or ``new`` (not part of SSDF 1.1).
        items: The AI-specific items, in the publication's order; empty where the publication
            says "No additions to SSDF 1.1".
        references: The informative references.
    """

    level: ClassVar[str] = "task"

    id: str = Field(pattern=_TASK_ID)
    statement: str = Field(min_length=1)
    priority: Priority
    tag: Tag
    items: tuple[Item, ...] = ()
    references: References

    @property
    def practice_id(self) -> str:
        """The id of the practice the task belongs to."""
        return self.id.rsplit(".", 1)[0]

    @property
    def group_id(self) -> str:
        """The id of the group the task belongs to."""
        return self.id.split(".", 1)[0]

    def items_of(self, kind: ItemKind) -> tuple[Item, ...]:
        """Return the task's items of one kind, in order.

        Args:
            kind: The kind to keep.

        Returns:
            The matching items.
        """
        return tuple(item for item in self.items if item.kind is kind)

    @model_validator(mode="after")
    def _items_belong(self) -> Task:
        for item in self.items:
            if item.task_id != self.id:
                raise ValueError(f"item {item.id} is listed under task {self.id}")
        return self


class Practice(_Model):
    """A practice of a group and its tasks.

    Attributes:
        id: The practice id, e.g. ``PO.1``.
        title: The practice title.
        statement: The practice statement (SP 800-218A wording, without the tag marker).
        tag: ``unchanged``, ``modified`` or ``new``.
        tasks: The practice's tasks, in order.
    """

    level: ClassVar[str] = "practice"

    id: str = Field(pattern=_PRACTICE_ID)
    title: str = Field(min_length=1)
    statement: str = Field(min_length=1)
    tag: Tag
    tasks: tuple[Task, ...] = Field(min_length=1)

    @property
    def group_id(self) -> str:
        """The id of the group the practice belongs to."""
        return self.id.split(".", 1)[0]

    @model_validator(mode="after")
    def _tasks_belong(self) -> Practice:
        for task in self.tasks:
            if task.practice_id != self.id:
                raise ValueError(f"task {task.id} is listed under practice {self.id}")
        return self


class Group(_Model):
    """One of the four groups of practices: PO, PS, PW, RV.

    Attributes:
        id: The group id, e.g. ``PO``.
        title: The group title, e.g. "Prepare the Organization".
        practices: The group's practices, in order.
    """

    level: ClassVar[str] = "group"

    id: str = Field(pattern=_GROUP_ID)
    title: str = Field(min_length=1)
    practices: tuple[Practice, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _practices_belong(self) -> Group:
        for practice in self.practices:
            if practice.group_id != self.id:
                raise ValueError(f"practice {practice.id} is listed under group {self.id}")
        return self


Node: TypeAlias = Group | Practice | Task | Item
"""Any node of the catalog."""

_N = TypeVar("_N", Group, Practice, Task, Item)


def normalize_id(node_id: str) -> str:
    """Return an id in canonical form (trimmed, upper case): ``po.1.2.r1`` -> ``PO.1.2.R1``.

    Args:
        node_id: An id as a user typed it.

    Returns:
        The canonical id.
    """
    return node_id.strip().upper()


class Catalog(_Model):
    """The whole SP 800-218A profile: 4 groups, 20 practices, 48 tasks, 86 items.

    Build one with :func:`ssdf_ai.profile.load_catalog`. Lookups accept ids in any case.

    Attributes:
        source: Where the data comes from (the publication and table).
        groups: The groups, in order: PO, PS, PW, RV.
    """

    source: str = Field(min_length=1)
    groups: tuple[Group, ...] = Field(min_length=1)

    _index: dict[str, Node] = PrivateAttr(default_factory=dict)
    _parent: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalog:
        seen: set[str] = set()
        for node, _ in _walk(self.groups, None):
            if node.id in seen:
                raise ValueError(f"id {node.id} appears more than once")
            seen.add(node.id)
        return self

    def model_post_init(self, context: Any, /) -> None:
        """Index every node by id, and remember each node's parent."""
        for node, parent in _walk(self.groups, None):
            self._index[node.id] = node
            if parent is not None:
                self._parent[node.id] = parent.id

    # -- lookups ----------------------------------------------------------------------------

    def ids(self) -> list[str]:
        """Return every id in the catalog, in document order (each group, then its practices…).

        Returns:
            The ids of all groups, practices, tasks and items.
        """
        return list(self._index)

    def find(self, node_id: str) -> Node | None:
        """Return the node with this id, or ``None``.

        Args:
            node_id: A group, practice, task or item id, in any case.

        Returns:
            The node, or ``None`` when there is no such id.
        """
        return self._index.get(normalize_id(node_id))

    def get(self, node_id: str) -> Node:
        """Return the group, practice, task or item with this id.

        Args:
            node_id: The id, in any case (``PO``, ``PO.1``, ``PO.1.2``, ``PO.1.2.R1``).

        Returns:
            The node.

        Raises:
            InputError: If there is no such id; the hint names the closest ids.
        """
        node = self.find(node_id)
        if node is None:
            raise self._unknown(node_id, "id", self.ids())
        return node

    def group(self, group_id: str) -> Group:
        """Return the group with this id (``PO``, ``PS``, ``PW`` or ``RV``).

        Raises:
            InputError: If there is no such group.
        """
        return self._typed(group_id, Group, [g.id for g in self.groups])

    def practice(self, practice_id: str) -> Practice:
        """Return the practice with this id, e.g. ``PO.1``.

        Raises:
            InputError: If there is no such practice.
        """
        return self._typed(practice_id, Practice, [p.id for p in self.practices()])

    def task(self, task_id: str) -> Task:
        """Return the task with this id, e.g. ``PO.1.2``.

        Raises:
            InputError: If there is no such task.
        """
        return self._typed(task_id, Task, [t.id for t in self.tasks()])

    def item(self, item_id: str) -> Item:
        """Return the item with this id, e.g. ``PO.1.2.R1``.

        Raises:
            InputError: If there is no such item.
        """
        return self._typed(item_id, Item, [i.id for i in self.items()])

    def parent_of(self, node_id: str) -> Group | Practice | Task | None:
        """Return the parent of a node: a task's practice, an item's task; ``None`` for a group.

        Args:
            node_id: Any id in the catalog.

        Returns:
            The parent node, or ``None`` for a group.

        Raises:
            InputError: If there is no such id.
        """
        node = self.get(node_id)
        parent_id = self._parent.get(node.id)
        if parent_id is None:
            return None
        parent = self._index[parent_id]
        if isinstance(parent, Item):  # pragma: no cover - _walk never makes an item a parent
            raise TypeError(f"{parent.id} is an item and cannot be a parent")
        return parent

    def ancestors(self, node_id: str) -> list[Group | Practice | Task]:
        """Return the chain of parents of a node, outermost first (group, practice, task).

        Args:
            node_id: Any id in the catalog.

        Returns:
            The ancestors; empty for a group.

        Raises:
            InputError: If there is no such id.
        """
        chain: list[Group | Practice | Task] = []
        parent = self.parent_of(node_id)
        while parent is not None:
            chain.append(parent)
            parent = self.parent_of(parent.id)
        return chain[::-1]

    def children_of(
        self, node_id: str
    ) -> tuple[Practice, ...] | tuple[Task, ...] | tuple[Item, ...]:
        """Return the direct children of a node: practices, tasks or items (none for an item).

        Args:
            node_id: Any id in the catalog.

        Returns:
            The children, in order.

        Raises:
            InputError: If there is no such id.
        """
        node = self.get(node_id)
        if isinstance(node, Group):
            return node.practices
        if isinstance(node, Practice):
            return node.tasks
        if isinstance(node, Task):
            return node.items
        return ()

    # -- listings ---------------------------------------------------------------------------

    def practices(self, *, group: str | None = None) -> list[Practice]:
        """Return the practices in order, optionally of one group.

        Args:
            group: A group id to keep only its practices.

        Returns:
            The practices.

        Raises:
            InputError: If ``group`` is not a group id.
        """
        groups = [self.group(group)] if group is not None else list(self.groups)
        return [practice for g in groups for practice in g.practices]

    def tasks(
        self,
        *,
        group: str | None = None,
        practice: str | None = None,
        priority: Priority | None = None,
        tag: Tag | None = None,
    ) -> list[Task]:
        """Return the tasks in order; the filters combine (all must hold).

        Args:
            group: Keep tasks of this group (``PO``, ``PS``, ``PW``, ``RV``).
            practice: Keep tasks of this practice (e.g. ``PO.1``).
            priority: Keep tasks of this priority.
            tag: Keep tasks with this tag (the task's own, not its practice's).

        Returns:
            The matching tasks.

        Raises:
            InputError: If ``group`` or ``practice`` is not an id of that kind, or the
                practice is not in the group.
        """
        practices = self.practices(group=group)
        if practice is not None:
            chosen = self.practice(practice)
            if group is not None and chosen.group_id != normalize_id(group):
                raise InputError(
                    f"practice {chosen.id} is not in group {normalize_id(group)}",
                    where="--practice",
                    hint=f"{chosen.id} is in group {chosen.group_id}; drop --group or change it",
                )
            practices = [chosen]
        return [
            task
            for p in practices
            for task in p.tasks
            if (priority is None or task.priority is priority) and (tag is None or task.tag is tag)
        ]

    def items(self, *, kind: ItemKind | None = None) -> list[Item]:
        """Return every AI-specific item in order, optionally of one kind.

        Args:
            kind: Keep only recommendations, considerations or notes.

        Returns:
            The items.
        """
        return [
            item
            for task in self.tasks()
            for item in task.items
            if kind is None or item.kind is kind
        ]

    # -- helpers ----------------------------------------------------------------------------

    def _typed(self, node_id: str, cls: type[_N], allowed: list[str]) -> _N:
        node = self.find(node_id)
        if not isinstance(node, cls):
            raise self._unknown(node_id, cls.level, allowed)
        return node

    @staticmethod
    def _unknown(node_id: str, level: str, allowed: list[str]) -> InputError:
        wanted = normalize_id(node_id)
        close = difflib.get_close_matches(wanted, allowed, n=5, cutoff=0.6)
        if len(allowed) <= 20:
            hint = f"use one of: {', '.join(allowed)}"
        elif close:
            hint = f"did you mean {', '.join(close)}? ({_ID_SCHEME})"
        else:
            hint = f"{_ID_SCHEME}; `ssdf profile list --items` shows them all"
        return InputError(f"unknown profile {level} {node_id!r}", where=node_id, hint=hint)


def _walk(
    nodes: tuple[Group, ...] | tuple[Practice, ...] | tuple[Task, ...] | tuple[Item, ...],
    parent: Group | Practice | Task | None,
) -> list[tuple[Node, Group | Practice | Task | None]]:
    """Every node under ``nodes`` with its parent, in document order."""
    out: list[tuple[Node, Group | Practice | Task | None]] = []
    for node in nodes:
        out.append((node, parent))
        if isinstance(node, Group):
            out += _walk(node.practices, node)
        elif isinstance(node, Practice):
            out += _walk(node.tasks, node)
        elif isinstance(node, Task):
            out += _walk(node.items, node)
    return out
