"""gcloud's --format / --filter / --sort-by semantics (profiles.cli.resources), on small hand-made resources."""

import json
import re

import pytest
import yaml

from profiles.cli.resources import (
    Listing,
    emit,
    get,
    parse_filter,
    parse_format,
    parse_key,
    parse_sort_by,
    sort_items,
)
from profiles.errors import UsageError

R = [
    {"instanceType": "g2-standard-12", "acceleratorType": "nvidia-l4", "modelServerInfo": {"model": "openai/gpt-oss-20b"},
     "performanceStats": [{"outputTokensPerSecond": 1882, "cost": [{"pricingModel": "spot"}]}], "tags": ["a", "b"]},
    {"instanceType": "a3-highgpu-1g", "acceleratorType": "nvidia-h100-80gb", "modelServerInfo": {"model": "google/gemma"},
     "performanceStats": [{"outputTokensPerSecond": 20217}]},
    {"instanceType": "g2-standard-48", "acceleratorType": "nvidia-l4", "modelServerInfo": {"model": "openai/gpt-oss-20b"},
     "performanceStats": [{"outputTokensPerSecond": 5197.5}], "extension": {"deployable": False}},
]


def names(expr):
    pred = parse_filter(expr)
    return [r["instanceType"] for r in R if pred(r)]


def out(fmt=None, filter_=None, sort_by=(), limit=None, printers=None, default="json"):
    return emit(Listing(list(R), lambda r: r, printers or {}, default), fmt, filter_, list(sort_by), limit)


def test_keys_and_get():
    assert parse_key("performanceStats[0].cost[].pricingModel") == ("performanceStats", 0, "cost", None, "pricingModel")
    assert get(R[0], parse_key("performanceStats[0].outputTokensPerSecond")) == 1882
    assert get(R[0], parse_key("performanceStats[-1].cost[0].pricingModel")) == "spot"
    assert get(R[0], parse_key("performanceStats.outputTokensPerSecond")) == [1882]  # a name over a list maps
    assert get(R[1], parse_key("performanceStats[3].x")) is None and get(R[1], parse_key("nope.deeper")) is None


@pytest.mark.parametrize("expr,expected", [
    ("acceleratorType:nvidia-l4", ["g2-standard-12", "g2-standard-48"]),
    ("acceleratorType:NVIDIA-L4", ["g2-standard-12", "g2-standard-48"]),  # case ignored
    ("acceleratorType:h100", ["a3-highgpu-1g"]),  # ':' matches inside the value
    ("acceleratorType=h100", []),  # '=' matches the whole value
    ("acceleratorType=nvidia-h100-80gb", ["a3-highgpu-1g"]),
    ("acceleratorType!=nvidia-l4", ["a3-highgpu-1g"]),
    ("instanceType:g2-*", ["g2-standard-12", "g2-standard-48"]),
    ("instanceType:*-1g", ["a3-highgpu-1g"]),
    ("extension:*", ["g2-standard-48"]),
    ("performanceStats[0].outputTokensPerSecond>5000", ["a3-highgpu-1g", "g2-standard-48"]),
    ("performanceStats[0].outputTokensPerSecond>=5197.5", ["a3-highgpu-1g", "g2-standard-48"]),
    ("performanceStats[0].outputTokensPerSecond<2000", ["g2-standard-12"]),
    ("performanceStats[0].outputTokensPerSecond<=1882", ["g2-standard-12"]),
    ("performanceStats[0].outputTokensPerSecond=20217", ["a3-highgpu-1g"]),
    ("performanceStats.outputTokensPerSecond>10000", ["a3-highgpu-1g"]),  # any list item
    ("acceleratorType:nvidia-l4 AND performanceStats[0].outputTokensPerSecond>2000", ["g2-standard-48"]),
    ("acceleratorType:nvidia-l4 performanceStats[0].outputTokensPerSecond>2000", ["g2-standard-48"]),  # implicit AND
    ("acceleratorType:h100 OR instanceType=g2-standard-12", ["g2-standard-12", "a3-highgpu-1g"]),
    ("NOT acceleratorType:nvidia-l4", ["a3-highgpu-1g"]),
    ("-acceleratorType:nvidia-l4", ["a3-highgpu-1g"]),
    ("(acceleratorType:h100 OR instanceType:48) AND modelServerInfo.model:openai", ["g2-standard-48"]),
    ("instanceType:(g2-standard-12 a3-highgpu-1g)", ["g2-standard-12", "a3-highgpu-1g"]),
    ("modelServerInfo.model='google/gemma'", ["a3-highgpu-1g"]),
    ('modelServerInfo.model:"gpt-oss"', ["g2-standard-12", "g2-standard-48"]),
    ("instanceType~^g2-standard-1", ["g2-standard-12"]),
    ("instanceType!~standard", ["a3-highgpu-1g"]),
    ("extension.deployable=false", ["g2-standard-48"]),
    ("tags:b", ["g2-standard-12"]),
    ("", ["g2-standard-12", "a3-highgpu-1g", "g2-standard-48"]),
])
def test_filter_semantics(expr, expected):
    assert names(expr) == expected


@pytest.mark.parametrize("expr,fragment", [
    ("nvidia-l4", "global restrictions"),
    ("(acceleratorType:l4", "missing ')'"),
    ("acceleratorType:", "ends early"),
    ("instanceType:a*b*c", "at most one *"),
    ("name.basename():x", "transform basename() is not supported"),
    ("x~'('", "RE pattern"),
])
def test_filter_errors_name_what_is_not_supported(expr, fragment):
    with pytest.raises(UsageError, match=None) as err:
        parse_filter(expr)({})
    assert fragment in str(err.value)


def test_sort_by_descending_multiple_keys_missing_last():
    keys = parse_sort_by(["acceleratorType,~performanceStats[0].outputTokensPerSecond"])
    assert [r["instanceType"] for r in sort_items(R, keys, lambda r: r)] == ["a3-highgpu-1g", "g2-standard-48", "g2-standard-12"]
    assert [r["instanceType"] for r in sort_items(R, parse_sort_by(["extension.deployable"]), lambda r: r)][0] == "g2-standard-48"


def test_format_parsing():
    spec = parse_format("csv[no-heading,separator=';'](instanceType, performanceStats[0].outputTokensPerSecond:label=TPS)")
    assert spec.name == "csv" and not spec.heading and spec.attributes["separator"] == ";"
    assert [c.label for c in spec.columns] == ["INSTANCE_TYPE", "TPS"]
    labels = [c.label for c in parse_format("table(modelServerInfo.model, modelServerInfo.modelServer, a.model)").columns]
    assert labels == ["MODEL", "MODEL_SERVER", "A_MODEL"]  # gcloud adds names leftwards to keep headings unique
    for bad, fragment in (("xml", "format [xml]"), ("table[box]", "attribute [box]"), ("table(a:width=3)", "attribute [width]"),
                          ("table(a", "unbalanced"), ("json yaml", "after the projection"), ("profile(a)", "no projection")):
        with pytest.raises(UsageError) as err:
            parse_format(bad)
        assert fragment in str(err.value)


def test_printers():
    table = out("table(instanceType, performanceStats[0].outputTokensPerSecond:label=TPS)").splitlines()
    assert table[0].split() == ["INSTANCE_TYPE", "TPS"] and table[3].split() == ["g2-standard-48", "5197.5"]
    assert out("table[no-heading](instanceType)", limit=1) == "g2-standard-12\n"
    assert out("value(instanceType, tags)", limit=1) == "g2-standard-12\ta;b\n"
    assert out("csv(instanceType,acceleratorType:label='Acc Type')", limit=1) == "instance_type,acc type\ng2-standard-12,nvidia-l4\n"
    assert out("csv[no-heading,separator='|'](instanceType,modelServerInfo.model)", limit=1) == "g2-standard-12|openai/gpt-oss-20b\n"
    projected = json.loads(out("json(instanceType, performanceStats[0].outputTokensPerSecond)", limit=1))
    assert projected == [{"instanceType": "g2-standard-12", "performanceStats": [{"outputTokensPerSecond": 1882}]}]
    docs = list(yaml.safe_load_all(out("yaml(modelServerInfo.model)", limit=2)))
    assert docs == [{"modelServerInfo": {"model": "openai/gpt-oss-20b"}}, {"modelServerInfo": {"model": "google/gemma"}}]
    flat = out("flattened", limit=1)
    assert flat.startswith("---\n") and re.search(r"^performanceStats\[0\]\.cost\[0\]\.pricingModel: +spot$", flat, re.M)
    assert out("none") == ""
    assert out("table(instanceType)", filter_="instanceType:nothing") == ""  # no resources: no heading either


def test_order_is_sort_then_filter_then_limit():
    got = out("value(instanceType)", filter_="acceleratorType:nvidia-l4", sort_by=["~performanceStats[0].outputTokensPerSecond"],
              limit=1)
    assert got == "g2-standard-48\n"


def test_command_printers_and_uri():
    printers = {"profile": lambda items: f"{len(items)} rows\n"}
    listing = Listing(list(R), lambda r: r, printers, "profile", table_as="profile")
    assert emit(listing, None, "acceleratorType:nvidia-l4", [], None) == "2 rows\n" and len(listing.kept) == 2
    assert emit(listing, "table", None, [], 1) == "1 rows\n"
    with pytest.raises(UsageError, match="csvprofile is the profile printer"):
        emit(listing, "csvprofile", None, [], None)
    with pytest.raises(UsageError, match="--uri is not supported"):
        emit(listing, None, None, [], None, uri=True)
    with pytest.raises(UsageError, match="needs a projection"):
        emit(Listing(list(R), lambda r: r, {}, "json"), "value", None, [], None)


def test_projection_sort_attributes_order_rows_when_no_sort_by():
    got = out("value(instanceType, performanceStats[0].outputTokensPerSecond:sort=1:reverse)")
    assert [line.split("\t")[0] for line in got.splitlines()] == ["a3-highgpu-1g", "g2-standard-48", "g2-standard-12"]
