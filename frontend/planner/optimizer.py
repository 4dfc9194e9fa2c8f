"""The logical optimizer: an ordered list of named stages of rewrite rules.

Each rule takes a node and returns a rewritten node or None (no change);
a stage applies its rules bottom-up until nothing changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from common import functions
from common.batch_plan import JoinType
from common.expr import Case, Cast, Expr, FuncCall, InputRef, input_refs, shift_inputs
from common.types import BOOLEAN
from frontend.planner.logical import (
    Field,
    LApply,
    LFilter,
    LJoin,
    LogicalNode,
    LProject,
    LProjectSet,
    children,
    with_children,
)

Rule = Callable[[LogicalNode], LogicalNode | None]


def conjuncts(e: Expr) -> list[Expr]:
    if isinstance(e, FuncCall) and e.func == "and":
        return [c for a in e.args for c in conjuncts(a)]
    return [e]


def conjoin(es: list[Expr]) -> Expr | None:
    if not es:
        return None
    out = es[0]
    for e in es[1:]:
        out = FuncCall("and", (out, e), BOOLEAN)
    return out


def merge_filters(node: LogicalNode) -> LogicalNode | None:
    """Filter(Filter(x, a), b) -> Filter(x, a AND b)."""
    if isinstance(node, LFilter) and isinstance(node.input, LFilter):
        return LFilter(node.input.input, FuncCall("and", (node.input.predicate, node.predicate), BOOLEAN))
    return None


def filter_into_inner_join(node: LogicalNode) -> LogicalNode | None:
    """Filter(a JOIN b ON c, p) -> a JOIN b ON c AND p, for inner and cross joins.

    SELECT * FROM a, b WHERE a.x = b.y  =>  SELECT * FROM a JOIN b ON a.x = b.y
    """
    if isinstance(node, LFilter) and isinstance(node.input, LJoin) and node.input.kind in (JoinType.INNER,
                                                                                            JoinType.CROSS):
        j = node.input
        cond = conjoin(([] if j.condition is None else conjuncts(j.condition)) + conjuncts(node.predicate))
        return LJoin(j.left, j.right, JoinType.INNER, cond, j.left_keys, j.right_keys)
    return None


def push_join_conjuncts(node: LogicalNode) -> LogicalNode | None:
    """Conjuncts of an inner join's condition that read only one side move below the join.

    a JOIN b ON a.x = b.y AND a.z > 1  =>  (a WHERE a.z > 1) JOIN b ON a.x = b.y
    """
    if not (isinstance(node, LJoin) and node.kind is JoinType.INNER and node.condition is not None):
        return None
    nl = len(node.left.fields)
    left, right, keep = [], [], []
    for c in conjuncts(node.condition):
        refs = input_refs(c)
        if refs and all(r < nl for r in refs):
            left.append(c)
        elif refs and all(r >= nl for r in refs):
            right.append(shift_inputs(c, {r: r - nl for r in refs}))
        else:
            keep.append(c)
    if not left and not right:
        return None
    lp = LFilter(node.left, conjoin(left)) if left else node.left  # type: ignore[arg-type]
    rp = LFilter(node.right, conjoin(right)) if right else node.right  # type: ignore[arg-type]
    return LJoin(lp, rp, node.kind, conjoin(keep), node.left_keys, node.right_keys)


def push_filter_below_outer_join(node: LogicalNode) -> LogicalNode | None:
    """Conjuncts of a filter over an outer join that read only its preserved side move below the join.

    SELECT * FROM a LEFT JOIN b ON a.x = b.y WHERE a.z = 1  =>  (a WHERE a.z = 1) LEFT JOIN b ON a.x = b.y
    """
    if not (isinstance(node, LFilter) and isinstance(node.input, LJoin)
            and node.input.kind in (JoinType.LEFT, JoinType.RIGHT)):
        return None
    j = node.input
    nl = len(j.left.fields)
    moved: list[Expr] = []
    keep: list[Expr] = []
    for c in conjuncts(node.predicate):
        refs = input_refs(c)
        if refs and j.kind is JoinType.LEFT and all(r < nl for r in refs):
            moved.append(c)
        elif refs and j.kind is JoinType.RIGHT and all(r >= nl for r in refs):
            moved.append(shift_inputs(c, {r: r - nl for r in refs}))
        else:
            keep.append(c)
    if not moved:
        return None
    if j.kind is JoinType.LEFT:
        joined = LJoin(LFilter(j.left, conjoin(moved)), j.right, j.kind, j.condition,  # type: ignore[arg-type]
                       j.left_keys, j.right_keys)
    else:
        joined = LJoin(j.left, LFilter(j.right, conjoin(moved)), j.kind, j.condition,  # type: ignore[arg-type]
                       j.left_keys, j.right_keys)
    return LFilter(joined, conjoin(keep)) if keep else joined  # type: ignore[arg-type]


def push_filter_below_project(node: LogicalNode) -> LogicalNode | None:
    """A filter over a projection filters the projection's input instead, on the expressions it names.

    SELECT * FROM (SELECT a + 1 AS b FROM t) s WHERE s.b > 2  =>  SELECT a + 1 AS b FROM t WHERE a + 1 > 2
    """
    if not (isinstance(node, LFilter) and isinstance(node.input, LProject)):
        return None
    project = node.input
    refs = input_refs(node.predicate)
    if any(not _pushable(project.exprs[r]) for r in refs):
        return None
    predicate = substitute(node.predicate, project.exprs)
    return LProject(LFilter(project.input, predicate), project.exprs, project.fields)


def push_filter_below_apply(node: LogicalNode) -> LogicalNode | None:
    """Conjuncts not reading a subquery's value filter the apply's input: fewer rows run the subquery."""
    if not (isinstance(node, LFilter) and isinstance(node.input, (LApply, LProjectSet))):
        return None
    below = node.input
    width = len(below.input.fields)
    moved: list[Expr] = []
    keep: list[Expr] = []
    for c in conjuncts(node.predicate):
        refs = input_refs(c)
        (moved if refs and all(r < width for r in refs) else keep).append(c)
    if not moved:
        return None
    pushed = dataclasses.replace(below, input=LFilter(below.input, conjoin(moved)))  # type: ignore[arg-type]
    return LFilter(pushed, conjoin(keep)) if keep else pushed  # type: ignore[arg-type]


def _pushable(e: Expr) -> bool:
    """Whether a projected expression may be evaluated below the projection, in a filter."""
    if isinstance(e, FuncCall):
        return functions.is_deterministic(e.func) and all(_pushable(a) for a in e.args)
    if isinstance(e, Cast):
        return _pushable(e.arg)
    if isinstance(e, Case):
        return all(_pushable(x) for b in e.branches for x in b) and (e.default is None or _pushable(e.default))
    return True


def substitute(e: Expr, exprs: tuple[Expr, ...]) -> Expr:
    """`e` with each InputRef i replaced by exprs[i]."""
    if isinstance(e, InputRef):
        return exprs[e.index]
    if isinstance(e, FuncCall):
        return FuncCall(e.func, tuple(substitute(a, exprs) for a in e.args), e.type)
    if isinstance(e, Cast):
        return Cast(substitute(e.arg, exprs), e.type)
    if isinstance(e, Case):
        return Case(tuple((substitute(c, exprs), substitute(r, exprs)) for c, r in e.branches),
                    None if e.default is None else substitute(e.default, exprs), e.type)
    return e


def extract_equi_keys(node: LogicalNode) -> LogicalNode | None:
    """Turn `left_expr = right_expr` conjuncts into join keys, computing non-column keys below.

    a JOIN b ON a.x + 1 = b.y  =>  (SELECT *, a.x + 1 FROM a) JOIN b ON keys (k = b.y)
    Keys of different types are cast to a common type on both sides.
    """
    if not isinstance(node, LJoin) or node.left_keys or node.condition is None or node.kind is JoinType.CROSS:
        return None
    nl = len(node.left.fields)
    pairs: list[tuple[Expr, Expr]] = []
    rest: list[Expr] = []
    for c in conjuncts(node.condition):
        pair = _equi_pair(c, nl)
        if pair is None:
            rest.append(c)
        else:
            pairs.append(pair)
    if not pairs:
        return None
    pairs = [_same_type(a, b) for a, b in pairs]
    left, lkeys = _with_key_columns(node.left, [p[0] for p in pairs])
    right, rkeys = _with_key_columns(node.right, [p[1] for p in pairs])
    nl2, nr2 = len(left.fields), len(right.fields)
    remap = {i: i for i in range(nl)}
    remap.update({nl + i: nl2 + i for i in range(len(node.right.fields))})
    residual = conjoin([shift_inputs(c, remap) for c in rest])
    joined = LJoin(left, right, node.kind, residual, tuple(lkeys), tuple(rkeys))
    if nl2 == nl and nr2 == len(node.right.fields):
        return joined
    # Drop the added key columns again so the join's consumers see the original columns.
    keep = list(range(nl)) + [nl2 + i for i in range(len(node.right.fields))]
    fields = joined.fields
    return LProject(joined, tuple(InputRef(i, fields[i].type) for i in keep), tuple(fields[i] for i in keep))


def _equi_pair(c: Expr, nl: int) -> tuple[Expr, Expr] | None:
    if not (isinstance(c, FuncCall) and c.func == "equal" and len(c.args) == 2):
        return None
    a, b = c.args
    ra, rb = input_refs(a), input_refs(b)
    if not ra or not rb:
        return None
    if all(r < nl for r in ra) and all(r >= nl for r in rb):
        return a, shift_inputs(b, {r: r - nl for r in rb})
    if all(r < nl for r in rb) and all(r >= nl for r in ra):
        return b, shift_inputs(a, {r: r - nl for r in ra})
    return None


def _same_type(a: Expr, b: Expr) -> tuple[Expr, Expr]:
    """Keys must hash alike on both sides: cast them to their common type."""
    if a.type == b.type:
        return a, b
    t = functions.common_type([a.type, b.type], "JOIN")
    return (a if a.type == t else Cast(a, t)), (b if b.type == t else Cast(b, t))


def _with_key_columns(node: LogicalNode, keys: list[Expr]) -> tuple[LogicalNode, list[int]]:
    """Key expressions as column indices of `node`, adding computed columns where needed."""
    fields = node.fields
    extra: list[Expr] = []
    idx = []
    for k in keys:
        if isinstance(k, InputRef):
            idx.append(k.index)
        else:
            extra.append(k)
            idx.append(len(fields) + len(extra) - 1)
    if not extra:
        return node, idx
    exprs = tuple(InputRef(i, f.type) for i, f in enumerate(fields)) + tuple(extra)
    new_fields = fields + tuple(Field(f"_key{i}", e.type, hidden=True) for i, e in enumerate(extra))
    return LProject(node, exprs, new_fields), idx


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    rules: tuple[Rule, ...]


STAGES: tuple[Stage, ...] = (
    Stage("predicate pushdown", (merge_filters, filter_into_inner_join, push_join_conjuncts,
                                 push_filter_below_outer_join, push_filter_below_project, push_filter_below_apply)),
    Stage("join keys", (extract_equi_keys,)),
)


def _rebuild(node: LogicalNode, new_children: list[LogicalNode]) -> LogicalNode:
    return with_children(node, new_children)


def _apply(node: LogicalNode, rules: tuple[Rule, ...]) -> LogicalNode:
    kids = [_apply(c, rules) for c in children(node)]
    if any(k is not c for k, c in zip(kids, children(node))):
        node = _rebuild(node, kids)
    for _ in range(100):
        for rule in rules:
            out = rule(node)
            if out is not None:
                node = _apply(out, rules) if out is not node else out
                break
        else:
            return node
    return node


def optimize(node: LogicalNode, trace: list[tuple[str, LogicalNode]] | None = None) -> LogicalNode:
    for stage in STAGES:
        node = _apply(node, stage.rules)
        if trace is not None:
            trace.append((stage.name, node))
    return node
