"""Shared hypothesis strategies of the test suite (records live in ``dsc_engine.strategies``).

Filter ASTs
-----------
:func:`asts` draws canonical filter ASTs of a record kind: every node type, nested boolean logic,
values of each field's query type (mostly documented values where the page lists them), ``And``/``Or``
with at least two operands and none of their own kind (the form the parser builds), set values
without duplicates, ranges whose lower bound is not above the upper one. String and time values
come partly from the record pools of ``dsc_engine.strategies`` so that filters hit records.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

import dsc_engine.strategies as pools
from dsc_engine.models import RecordKind
from dsc_engine.query import ast
from dsc_engine.wire import types
from dsc_engine.wire.catalog import FIELDS, NESTED, FieldSpec

Catalog = Mapping[str, FieldSpec]

#: Every string of the record pools: realistic values that match loaded records.
POOL_STRINGS: tuple[str, ...] = tuple(
    sorted(
        {
            value
            for name, pool in vars(pools).items()
            if name.isupper() and isinstance(pool, tuple)
            for value in pool
            if isinstance(value, str)
        }
    )
)
_BEYOND = {types.STRING: "4", types.INTEGER: 5}


def _strings() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(POOL_STRINGS), st.text(max_size=12))


def values(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Any value of the field's query type (enumerations included: ordering takes any value)."""
    if spec.type is types.STRING:
        return _strings()
    if spec.type is types.INTEGER:
        return st.one_of(st.integers(-10, 6_000), st.integers(-(2**63), 2**63 - 1))
    if spec.type is types.TIME_MS:
        return st.one_of(st.sampled_from(pools.TIMES_MS), st.integers(-(10**14), 10**14))
    if spec.type is types.WALL_CLOCK:
        return st.one_of(st.sampled_from(pools.DMS_TIMES), st.datetimes())
    if spec.type is types.BOOLEAN:
        return st.booleans()
    raise AssertionError(f"{spec.name} holds entries, not values")


def members(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """A value for equality: mostly one of the documented values where the page lists them."""
    if spec.documented is not None:  # and one value beyond the list (records may hold it)
        return st.sampled_from((*spec.documented, _BEYOND[spec.type]))
    return values(spec)


def ranges(spec: FieldSpec) -> st.SearchStrategy[ast.Node]:
    """``Range`` leaves on the ordered field ``spec`` (either bound may be absent)."""
    bound = st.one_of(st.none(), values(spec))

    def build(low: Any, high: Any, low_inc: bool, high_inc: bool) -> ast.Node:
        if low is not None and high is not None and low > high:
            low, high = high, low
        return ast.Range(spec.name, low, high, low_inc, high_inc)

    return st.builds(build, bound, bound, st.booleans(), st.booleans())


def _text_leaves(spec: FieldSpec) -> list[st.SearchStrategy[ast.Node]]:
    if spec.documented is not None:
        folded = st.sampled_from(spec.documented).flatmap(
            lambda v: st.sampled_from((v, v.lower(), v.upper()))
        )
    else:
        folded = _strings()
    return [
        st.builds(ast.EqualsIgnoreCase, st.just(spec.name), folded),
        st.builds(ast.Contains, st.just(spec.name), _strings()),
        st.builds(ast.StartsWith, st.just(spec.name), _strings()),
    ]


def field_leaves(spec: FieldSpec) -> st.SearchStrategy[ast.Node]:
    """Every leaf node the filter language allows on ``spec`` (not ``AnyEntry``)."""
    name = st.just(spec.name)
    equality = st.sampled_from((ast.CompareOp.EQ, ast.CompareOp.NE))
    options = [
        st.builds(ast.Compare, name, equality, members(spec)),
        st.builds(
            lambda items: ast.InSet(spec.name, tuple(items)),
            st.lists(members(spec), min_size=1, max_size=4, unique=True),
        ),
    ]
    if spec.type.ordered:
        ordering = st.sampled_from(
            (ast.CompareOp.LT, ast.CompareOp.LE, ast.CompareOp.GT, ast.CompareOp.GE)
        )
        options += [st.builds(ast.Compare, name, ordering, values(spec)), ranges(spec)]
    if spec.type is types.STRING:
        options += _text_leaves(spec)
    return st.one_of(options)


def _junction(cls: type[ast.And] | type[ast.Or], items: list[ast.Node]) -> ast.Node:
    flat: list[ast.Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def _trees(catalog: Catalog, nested: Mapping[str, Catalog], max_leaves: int) -> st.SearchStrategy[ast.Node]:
    leaves: list[st.SearchStrategy[ast.Node]] = []
    for spec in catalog.values():
        if spec.type is types.ENTRIES:
            inner = st.one_of(st.just(ast.MatchAll()), _trees(nested[spec.name], {}, 6))
            leaves.append(st.builds(ast.AnyEntry, st.just(spec.name), inner))
        else:
            leaves.append(field_leaves(spec))

    def extend(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
        operands = st.lists(children, min_size=2, max_size=4)
        return st.one_of(
            st.builds(ast.Not, children),
            st.builds(ast.Not, st.just(ast.MatchAll())),
            operands.map(lambda items: _junction(ast.And, items)),
            operands.map(lambda items: _junction(ast.Or, items)),
        )

    return st.recursive(st.one_of(leaves), extend, max_leaves=max_leaves)


def asts(kind: RecordKind | str, max_leaves: int = 12) -> st.SearchStrategy[ast.Node]:
    """Canonical filter ASTs over the fields of ``kind`` (``MatchAll`` now and then)."""
    return _asts(RecordKind.parse(kind), max_leaves)


@functools.cache
def _asts(kind: RecordKind, max_leaves: int) -> st.SearchStrategy[ast.Node]:
    # Built once per kind: constructing this strategy costs more than drawing from it.
    return st.one_of(st.just(ast.MatchAll()), _trees(FIELDS[kind], NESTED[kind], max_leaves))

