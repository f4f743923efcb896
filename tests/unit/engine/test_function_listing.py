"""SHOW FUNCTIONS and DESCRIBE FUNCTION (show-functions.md, describe-function.md): every kind of
function listed with its type, and each form's parameters and, where they are plain types, the
return type the function itself gives for them."""
from __future__ import annotations

from ksql.engine.describe import _function_list


def test_scalar_aggregate_and_table_functions_are_listed_in_name_order():
    listed = {f["name"]: f for f in _function_list()}
    names = [f["name"] for f in _function_list()]
    assert names == sorted(names)
    assert (listed["ABS"]["type"], listed["COUNT"]["type"], listed["EXPLODE"]["type"]) == ("SCALAR", "AGGREGATE", "TABLE")
    assert listed["UCASE"]["category"] == "STRING"


def test_every_built_in_aggregate_has_its_forms():
    listed = {f["name"]: f for f in _function_list()}
    aggregates = [f for f in listed.values() if f["type"] == "AGGREGATE"]
    assert aggregates and all(f["signatures"] for f in aggregates)
    assert listed["COUNT"]["signatures"] == ["COUNT(*) -> BIGINT", "COUNT(col1) -> BIGINT"]


def test_return_types_come_from_the_function_for_plain_parameter_types():
    listed = {f["name"]: f for f in _function_list()}
    assert listed["UCASE"]["signatures"] == ["UCASE(s STRING) -> STRING"]
    assert listed["LEN"]["signatures"][0].endswith("-> INTEGER")


def test_every_function_the_reference_documents_is_listed():
    import re
    from pathlib import Path

    reference = Path(__file__).resolve().parents[4] / "shared" / "reference" / "ksqldb-docs" / "developer-guide" / \
        "ksqldb-reference"
    listed = {f["name"] for f in _function_list()}
    syntax = {"ARRAY", "MAP", "CAST"}  # documented with the functions, but constructors and a cast: syntax
    for page in ("scalar-functions.md", "aggregate-functions.md", "table-functions.md"):
        documented = set(re.findall(r"^#+ \*\*`([A-Z_0-9]+)`\*\*", (reference / page).read_text(), re.M))
        assert len(documented) > 1, page
        assert documented - syntax - listed == set(), page
