"""The simulator's schema is a strict subset of Shopify's real 2026-07 Admin schema."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
)

from pipeline.simulator.subset import SCHEMA_PATH, cut
from pipeline.simulator.versions import SCHEMA_FILES
from tests.conftest import REAL_SCHEMA, require_shared


def ours():
    return build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_our_schema_builds_without_assume_valid():
    schema = ours()
    assert schema.query_type.name == "QueryRoot"
    assert schema.mutation_type.name == "Mutation"
    assert schema.get_directive("idempotent") is not None


def test_every_type_field_argument_and_enum_value_is_shopifys(real_schema):
    problems = []
    for name, ours_type in ours().type_map.items():
        if name.startswith("__"):
            continue
        real = real_schema.type_map.get(name)
        if real is None or type(real) is not type(ours_type):
            problems.append(f"type {name}")
            continue
        if isinstance(ours_type, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for fname, field in ours_type.fields.items():
                rfield = real.fields.get(fname)
                if rfield is None or str(rfield.type) != str(field.type):
                    problems.append(f"{name}.{fname}")
                    continue
                for aname, arg in getattr(field, "args", {}).items():
                    rarg = rfield.args.get(aname)
                    if rarg is None or str(rarg.type) != str(arg.type):
                        problems.append(f"{name}.{fname}({aname})")
                if getattr(field, "deprecation_reason", None) != getattr(rfield, "deprecation_reason", None):
                    problems.append(f"{name}.{fname} deprecation")
            if isinstance(ours_type, GraphQLObjectType):
                extra = {i.name for i in ours_type.interfaces} - {i.name for i in real.interfaces}
                problems += [f"{name} implements {i}" for i in sorted(extra)]
        if isinstance(ours_type, GraphQLEnumType):
            problems += [f"{name}.{v}" for v in set(ours_type.values) - set(real.values)]
        if isinstance(ours_type, GraphQLScalarType):
            assert real.name == ours_type.name
    assert problems == []


def test_arguments_keep_shopifys_default_values(real_schema):
    for name, ours_type in ours().type_map.items():
        if isinstance(ours_type, (GraphQLObjectType, GraphQLInterfaceType)) and not name.startswith("__"):
            for fname, field in ours_type.fields.items():
                for aname, arg in field.args.items():
                    assert (
                        arg.default_value
                        == real_schema.type_map[name].fields[fname].args[aname].default_value
                    )


def test_no_descriptions_are_copied():
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    assert '"""' not in text
    assert not any(line.lstrip().startswith('"') for line in text.splitlines())


def test_schema_file_is_exactly_what_the_cutter_makes_from_shopifys():
    real_sdl = require_shared(REAL_SCHEMA).read_text(encoding="utf-8")
    assert cut(real_sdl) == SCHEMA_PATH.read_text(encoding="utf-8")


def test_the_calls_the_project_makes_are_served():
    schema = ours()
    assert {"orderCancel", "refundCreate", "giftCardCreate", "tagsAdd", "orderUpdate"} <= set(
        schema.mutation_type.fields
    )
    assert {"orders", "order", "nodes", "job"} <= set(schema.query_type.fields)
    order = schema.type_map["Order"]
    assert "suggestedRefund" in order.fields
    assert set(order.fields["suggestedRefund"].args) == {
        "shippingAmount",
        "refundShipping",
        "refundLineItems",
        "refundDuties",
        "suggestFullRefund",
        "refundMethodAllocation",
    }


def test_the_2026_04_schema_is_what_the_cutter_makes_from_shopifys_2026_04():
    real_sdl = require_shared(REAL_SCHEMA.with_name("admin-2026-04.schema.graphql")).read_text(
        encoding="utf-8"
    )
    ours_04 = SCHEMA_PATH.with_name(SCHEMA_FILES["2026-04"]).read_text(encoding="utf-8")
    assert cut(real_sdl, "2026-04") == ours_04
    assert '"""' not in ours_04
