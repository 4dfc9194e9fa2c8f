"""Binding state shared by the expression and query binders: the statement's context, scopes, untyped values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from sqlglot import exp

from common import pgtext
from common.errors import AmbiguousColumn, UndefinedColumn, UndefinedTable
from common.expr import Expr, Literal
from common.types import DataType
from frontend.binder.extras import IdSource
from frontend.planner.logical import Field

if TYPE_CHECKING:
    from common.cluster_status import ClusterStatus
    from frontend.catalog import CatalogSnapshot, SessionInfo


@dataclass(frozen=True, slots=True)
class Unknown:
    """A quoted literal or NULL whose type the context decides (PostgreSQL's `unknown`)."""

    text: str | None


@dataclass(frozen=True, slots=True)
class Param:
    """`$n` whose type is not known yet."""

    index: int


Bound = Union[Expr, Unknown, Param]


@dataclass
class BindContext:
    """Per-statement binding state: parameter types and values, session settings, the session itself.

    `session` is what catalog functions and system relations read (None in
    tests that bind without one); `new_id` numbers correlation parameters
    and work tables within the statement.
    """

    param_types: list[DataType | None] = field(default_factory=list)
    param_values: list[object] | None = None
    format: pgtext.FormatOptions = field(default_factory=pgtext.FormatOptions)
    session: SessionInfo | None = None
    new_id: IdSource = field(default_factory=IdSource)
    cluster: ClusterStatus | None = None
    _snapshot: CatalogSnapshot | None = None

    def catalog(self) -> CatalogSnapshot:
        """The statement's snapshot of the catalog, taken on first use."""
        from common.errors import FeatureNotSupported
        from frontend.catalog import take_snapshot

        if self._snapshot is None:
            if self.session is None:
                raise FeatureNotSupported("system catalogs are not available here")
            self._snapshot = take_snapshot(self.session, self.cluster)
        return self._snapshot

    @property
    def describing(self) -> bool:
        """Binding for Parse/Describe: parameters have types but no values yet."""
        return self.param_values is None and bool(self.param_types)

    def param(self, index: int) -> DataType | None:
        if index >= len(self.param_types):
            self.param_types.extend([None] * (index + 1 - len(self.param_types)))
        return self.param_types[index]

    def param_literal(self, index: int, t: DataType) -> Literal:
        value = None if self.param_values is None else self.param_values[index]
        return Literal(value, t)


class Scope:
    """The columns an expression can name: the fields of its input row."""

    def __init__(self, fields: Sequence[Field]) -> None:
        self.fields = tuple(fields)

    def resolve(self, name: str, qualifier: str | None) -> int:
        matches = [i for i, f in enumerate(self.fields)
                   if f.name == name and (qualifier is None or f.qualifier == qualifier)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousColumn(f'column reference "{name}" is ambiguous')
        if qualifier is not None and not any(f.qualifier == qualifier for f in self.fields):
            raise UndefinedTable(f'missing FROM-clause entry for table "{qualifier}"')
        full = f"{qualifier}.{name}" if qualifier else name
        raise UndefinedColumn(f'column "{full}" does not exist')


AggHandler = Callable[[exp.Expression], Expr]


def identifier(node: exp.Expression | str | None) -> str:
    """An identifier as PostgreSQL sees it: unquoted names fold to lower case."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.lower()
    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    return node.name.lower()
