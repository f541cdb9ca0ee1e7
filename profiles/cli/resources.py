"""gcloud's output machinery for list commands: --format NAME[ATTRS](PROJECTION), --filter, --sort-by, --limit.

Written to match the semantics of gcloud's core/resource modules (resource_projection_parser, resource_filter,
resource_expr, the table/csv/value/json/yaml/flattened printers), for the subset GIQ users script with:

- keys: `a.b`, `a[0].b`, `a[-1]`, `a[].b` (a name applied to a list maps over its items, as gcloud's keys do);
- projections: `key[:label=X][:sort=N][:reverse]`, comma separated; default table labels are the key's last name
  in ANGRY_SNAKE_CASE (`outputTokensPerSecond` -> OUTPUT_TOKENS_PER_SECOND), CSV labels the same lowercased;
- printer attributes: no-heading (noheading), separator, delimiter, terminator, quote, no-quote;
- filters: `=`, `!=`, `:`, `<`, `<=`, `>`, `>=`, `~`, `!~`, `AND`, `OR`, `NOT`, `-term`, parentheses, implicit
  AND, quoted operands and `key:(a b)` lists. `:` and `=` ignore case; `:` matches a substring, `pre*` a prefix,
  `*suf` a suffix, `*` any value; a number operand compares numerically;
- --sort-by KEY[,~KEY…] (`~` descending), applied before --filter, then --limit (gcloud's order).

Anything else (transforms such as `.basename()`, `box`, global restrictions) is a UsageError naming it: exit 2.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from profiles.errors import UsageError

FORMAT_NAMES = ("table", "csv", "json", "yaml", "value", "flattened", "profile", "csvprofile", "none")
_PRINTER_ATTRIBUTES = {"no-heading", "noheading", "separator", "delimiter", "terminator", "quote", "no-quote"}
_COLUMN_ATTRIBUTES = {"label", "sort", "reverse"}

Key = tuple  # names (str), indices (int) and None for `[]`


# --- keys -------------------------------------------------------------------------------------------------------------

_KEY_PART = re.compile(r"\s*(?:([A-Za-z_][\w-]*)|\[(-?\d*)\])")


def parse_key(text: str, what: str = "key") -> Key:
    """`performanceStats[0].cost[].pricingModel` -> ('performanceStats', 0, 'cost', None, 'pricingModel')."""
    text = text.strip()
    if not text:
        raise UsageError(f"empty {what}")
    parts: list = []
    pos = 0
    while pos < len(text):
        if parts and text[pos] == ".":
            pos += 1
        match = _KEY_PART.match(text, pos)
        if not match or (match.group(1) is None and match.group(2) is None and not parts):
            raise UsageError(f"{what} [{text}] is not supported: expected names joined by '.' with optional [N] / []")
        name, index = match.group(1), match.group(2)
        end = match.end()
        if name is not None and end < len(text) and text[end] == "(":
            raise UsageError(f"{what} [{text}]: transform {name}() is not supported")
        parts.append(name if name is not None else (int(index) if index else None))
        pos = end
    return tuple(parts)


def get(obj: object, key: Key) -> object:
    """The value at key; a name over a list maps over its items; missing -> None."""
    for i, part in enumerate(key):
        if obj is None:
            return None
        if isinstance(part, str):
            if isinstance(obj, dict):
                obj = obj.get(part)
            elif isinstance(obj, list):
                return [get(item, key[i:]) for item in obj]
            else:
                return None
        elif part is None:
            if not isinstance(obj, list):
                return None
            return [get(item, key[i + 1:]) for item in obj]
        else:
            if not isinstance(obj, list) or not -len(obj) <= part < len(obj):
                return None
            obj = obj[part]
    return obj


def key_name(key: Key) -> str:
    out = ""
    for part in key:
        if isinstance(part, str):
            out += ("." if out else "") + part
        else:
            out += "[]" if part is None else f"[{part}]"
    return out


_SNAKE = re.compile(r"((?<=[a-z0-9])[A-Z]+|(?!^)[A-Z](?=[a-z]))")


def _angry_snake(key: Key, taken: set[str]) -> str:
    """gcloud's default heading: the last name, ANGRY_SNAKE_CASE, adding names leftwards until unique."""
    label = ""
    for part in reversed(key):
        if isinstance(part, str):
            snake = _SNAKE.sub(r"_\1", part).upper()
            label = f"{snake}_{label}" if label else snake
            if label not in taken:
                break
    taken.add(label)
    return label


# --- --format -----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: Key
    label: str
    sort: int | None = None
    reverse: bool = False


@dataclass(frozen=True)
class FormatSpec:
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    columns: tuple[Column, ...] = ()

    @property
    def heading(self) -> bool:
        return not ({"no-heading", "noheading"} & set(self.attributes))


def _split_top(text: str, sep: str) -> list[str]:
    """Split at `sep` outside quotes, brackets and parentheses."""
    out, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_format(text: str) -> FormatSpec:
    """`table[no-heading](a.b:label=X, c)` -> FormatSpec."""
    text = text.strip()
    match = re.match(r"([a-z-]+)\s*", text)
    name = match.group(1) if match else ""
    if name not in FORMAT_NAMES:
        raise UsageError(f"--format: format [{name or text}] is not supported; supported: {', '.join(FORMAT_NAMES)}")
    rest = text[match.end():]
    attributes: dict[str, str] = {}
    if rest.startswith("["):
        end = _closing(rest, 0, "[", "]")
        for item in _split_top(rest[1:end], ","):
            if not item.strip():
                continue
            attr, _, value = item.partition("=")
            attr = attr.strip()
            if attr not in _PRINTER_ATTRIBUTES:
                raise UsageError(f"--format: printer attribute [{attr}] is not supported; supported: "
                                 f"{', '.join(sorted(_PRINTER_ATTRIBUTES))}")
            attributes[attr] = _unquote(value).encode().decode("unicode_escape") if value else ""
        rest = rest[end + 1:].strip()
    columns: list[Column] = []
    if rest.startswith("("):
        end = _closing(rest, 0, "(", ")")
        taken: set[str] = set()
        for item in _split_top(rest[1:end], ","):
            if item.strip():
                columns.append(_column(item, taken))
        rest = rest[end + 1:].strip()
    if rest:
        raise UsageError(f"--format: [{rest}] after the projection is not supported (one format, no chained formats)")
    if name in ("profile", "csvprofile", "none") and columns:
        raise UsageError(f"--format: {name} takes no projection")
    return FormatSpec(name, attributes, tuple(columns))


def _closing(text: str, start: int, open_: str, close: str) -> int:
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
    raise UsageError(f"--format: unbalanced '{open_}' in [{text}]")


def _column(item: str, taken: set[str]) -> Column:
    key_text, *attrs = _split_top(item, ":")
    key = parse_key(key_text, "--format key")
    label, sort, reverse = None, None, False
    for attr in attrs:
        name, eq, value = attr.partition("=")
        name = name.strip()
        if name not in _COLUMN_ATTRIBUTES:
            raise UsageError(f"--format: column attribute [{name}] is not supported; supported: "
                             f"{', '.join(sorted(_COLUMN_ATTRIBUTES))}")
        if name == "label":
            label = _unquote(value)
        elif name == "sort":
            try:
                sort = int(value) if eq else 1
            except ValueError:
                raise UsageError(f"--format: sort={value} is not a number") from None
        else:
            reverse = True
    return Column(key, label if label is not None else _angry_snake(key, taken), sort, reverse)


# --- --filter -----------------------------------------------------------------------------------------------------------

_OPERATORS = ("<=", ">=", "!=", "!~", ":", "=", "<", ">", "~")
_TOKEN = re.compile(r"""\s*(?:(?P<paren>[()])|(?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|"""
                    r"""(?P<op><=|>=|!=|!~|:|=|<|>|~)|(?P<word>[^\s()<>=!:~"']+))""")


@dataclass(frozen=True)
class _Tok:
    kind: str  # paren, quoted, op, word
    text: str


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise UsageError(f"--filter: cannot parse [{text[pos:].strip()}] (unbalanced quote or stray '!')")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append(_Tok(kind, value))
        pos = match.end()
    return out


Predicate = Callable[[object], bool]


class _FilterParser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise UsageError(f"--filter: [{self.text}] ends early")
        self.i += 1
        return tok

    def parse(self) -> Predicate:
        if not self.toks:
            return lambda _r: True
        pred = self.or_expr()
        if self.peek() is not None:
            raise UsageError(f"--filter: unexpected [{self.peek().text}] in [{self.text}]")
        return pred

    def _is(self, tok: _Tok | None, kind: str, text: str | None = None) -> bool:
        return tok is not None and tok.kind == kind and (text is None or tok.text == text)

    def or_expr(self) -> Predicate:
        preds = [self.and_expr()]
        while self._is(self.peek(), "word", "OR"):
            self.take()
            preds.append(self.and_expr())
        return preds[0] if len(preds) == 1 else (lambda r, ps=tuple(preds): any(p(r) for p in ps))

    def and_expr(self) -> Predicate:
        preds = [self.not_expr()]
        while True:
            tok = self.peek()
            if tok is None or self._is(tok, "paren", ")") or self._is(tok, "word", "OR"):
                break
            if self._is(tok, "word", "AND"):
                self.take()
            preds.append(self.not_expr())
        return preds[0] if len(preds) == 1 else (lambda r, ps=tuple(preds): all(p(r) for p in ps))

    def not_expr(self) -> Predicate:
        tok = self.peek()
        if self._is(tok, "word", "NOT"):
            self.take()
            inner = self.not_expr()
            return lambda r: not inner(r)
        if self._is(tok, "paren", "("):
            self.take()
            inner = self.or_expr()
            if not self._is(self.peek(), "paren", ")"):
                raise UsageError(f"--filter: missing ')' in [{self.text}]")
            self.take()
            return inner
        return self.term()

    def term(self) -> Predicate:
        tok = self.take()
        if tok.kind != "word":
            raise UsageError(f"--filter: expected a key, got [{tok.text}] in [{self.text}]")
        negate = tok.text.startswith("-") and len(tok.text) > 1
        key_text = tok.text[1:] if negate else tok.text
        op = self.peek()
        if self._is(op, "paren", "("):
            name = key_text.rsplit(".", 1)[-1]
            raise UsageError(f"--filter: transform {name}() is not supported (in [{self.text}])")
        if not self._is(op, "op"):
            raise UsageError(f"--filter: [{tok.text}] has no operator; global restrictions (bare words) are not supported, "
                             "use KEY:VALUE")
        self.take()
        key = parse_key(key_text, "--filter key")
        operands = self.operand(op.text)
        pred = _term(key, op.text, operands)
        return (lambda r: not pred(r)) if negate else pred

    def operand(self, op: str) -> list[str]:
        tok = self.take()
        if self._is(tok, "paren", "("):
            if op not in (":", "=", "!="):
                raise UsageError(f"--filter: a (list) operand works with ':', '=' and '!=', not '{op}'")
            values = []
            while not self._is(self.peek(), "paren", ")"):
                item = self.take()
                if item.kind not in ("word", "quoted"):
                    raise UsageError(f"--filter: unexpected [{item.text}] in a (list) operand")
                values += [v for v in item.text.split(",") if v] if item.kind == "word" else [item.text]
            self.take()
            return [v for v in values if v not in ("OR", "AND")] or [""]
        if tok.kind not in ("word", "quoted"):
            raise UsageError(f"--filter: expected a value after '{op}', got [{tok.text}]")
        return [tok.text]


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return re.sub(r"\.0*$", "", repr(value))
    return str(value).lower()


def _word_match(value: object, operand: str, op: str) -> bool:
    """gcloud's `:` / `=` on one value (its current, deprecated-compatible behaviour)."""
    if isinstance(value, dict):
        return any(_word_match(v, operand, op) for v in (*value.keys(), *value.values()))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = _number(operand)
        if number is not None and float(value) == number:
            return True
    if value is None:
        if operand == "":
            return True
        if operand == "*" and op == ":":
            return False
    text, pattern = _text(value), operand.lower()
    if op == ":":
        if pattern == "*":
            return bool(text)
        if pattern.count("*") > 1:
            raise UsageError(f"--filter: at most one * expected in : patterns [{operand}]")
        head, star, tail = pattern.partition("*")
        if not star:
            return pattern in text
        if not head:
            return text.endswith(tail)
        if not tail:
            return text.startswith(head)
        return text.startswith(head) and text.endswith(tail) and len(text) >= len(head) + len(tail)
    return text == pattern


def _ordered(value: object, operand: str, op: str) -> bool:
    if value is None or isinstance(value, (dict, list)):
        return False
    number, target = _number(value), _number(operand)
    left, right = (number, target) if number is not None and target is not None else (str(value), operand)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def _term(key: Key, op: str, operands: list[str]) -> Predicate:
    if op in ("~", "!~"):
        try:
            regex = re.compile(operands[0])
        except re.error as exc:
            raise UsageError(f"--filter: RE pattern [{operands[0]}]: {exc}") from None

    def values(resource: object) -> list:
        value = get(resource, key)
        flat = list(_flatten(value)) if isinstance(value, list) else [value]
        return flat or [None]

    if op in (":", "="):
        return lambda r: any(_word_match(v, o, op) for v in values(r) for o in operands)
    if op == "!=":
        return lambda r: not any(_word_match(v, o, "=") for v in values(r) for o in operands)
    if op == "~":
        return lambda r: any(isinstance(v, str) and regex.search(v) for v in values(r))
    if op == "!~":
        return lambda r: any(isinstance(v, str) and not regex.search(v) for v in values(r))
    return lambda r: any(_ordered(v, operands[0], op) for v in values(r))


def _flatten(value: list):
    for item in value:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


def parse_filter(text: str) -> Predicate:
    return _FilterParser(text).parse()


# --- sorting ------------------------------------------------------------------------------------------------------------

def parse_sort_by(texts: Sequence[str]) -> list[tuple[Key, bool]]:
    """--sort-by values (each may hold a comma list) -> [(key, descending)]."""
    keys = []
    for text in texts:
        for item in text.split(","):
            item = item.strip()
            if item:
                keys.append((parse_key(item.lstrip("~"), "--sort-by key"), item.startswith("~")))
    return keys


def _sort_value(value: object) -> tuple:
    if isinstance(value, list):
        value = value[0] if value else None
    number = _number(value) if not isinstance(value, str) else None
    if value is None:
        return (2, 0, "")
    if number is not None:
        return (0, number, "")
    return (1, 0, str(value))


def sort_items(items: list, keys: Sequence[tuple[Key, bool]], resource: Callable[[object], object]) -> list:
    """Stable multi-key sort; missing values last in either direction."""
    items = list(items)
    for key, descending in reversed(keys):
        present = [i for i in items if get(resource(i), key) not in (None, [])]
        missing = [i for i in items if get(resource(i), key) in (None, [])]
        present.sort(key=lambda i, k=key: _sort_value(get(resource(i), k)), reverse=descending)
        items = present + missing
    return items


# --- printers -----------------------------------------------------------------------------------------------------------

def display(value: object, delimiter: str = ";") -> str:
    """A cell: None -> '', lists joined by ';', dicts as k=v, floats without trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, list):
        return delimiter.join(display(v, delimiter) for v in value)
    if isinstance(value, dict):
        return delimiter.join(f"{k}={display(v, delimiter)}" for k, v in sorted(value.items()))
    return str(value)


def table_text(labels: Sequence[str], rows: Sequence[Sequence[str]], heading: bool = True) -> str:
    """Aligned columns, two spaces apart, trailing blanks trimmed (gcloud's table and GIQ's profile printer)."""
    if not rows and not heading:
        return ""
    body = ([list(labels)] if heading else []) + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in body) for i in range(len(labels))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n" for r in body)


def _csv_field(field_: str, spec: FormatSpec, separator: str, delimiter: str, terminator: str, quote: str | None) -> str:
    if not field_ or not quote:
        return field_
    if not (delimiter in field_ or quote in field_ or separator in field_ or terminator in field_
            or field_[0].isspace() or field_[-1].isspace()):
        return field_
    return quote + field_.replace(quote, quote * 2) + quote


def csv_text(labels: Sequence[str] | None, rows: Sequence[Sequence[str]], spec: FormatSpec, value: bool = False) -> str:
    """gcloud's csv printer (value: tab separated, no heading, no quoting)."""
    attrs = spec.attributes
    separator = attrs.get("separator", "\t" if value else ",")
    delimiter = attrs.get("delimiter", ";")
    terminator = attrs.get("terminator", "\n")
    quote = ('"' if "quote" in attrs else None) if value else (None if "no-quote" in attrs else '"')
    out = []
    if labels and not value and spec.heading:
        out.append(separator.join(_csv_field(x, spec, separator, delimiter, terminator, quote) for x in labels) + terminator)
    for row in rows:
        out.append(separator.join(_csv_field(x, spec, separator, delimiter, terminator, quote) for x in row) + terminator)
    return "".join(out)


def project(resource: object, columns: Sequence[Column]) -> object:
    """The resource reduced to the projected keys, nesting kept (json(a.b, c) -> {a: {b}, c})."""
    if not columns:
        return resource
    out: dict = {}
    for column in columns:
        value = get(resource, column.key)
        if value is None:
            continue
        _put(out, column.key, value)
    return out


def _put(out: dict, key: Key, value: object) -> None:
    target: object = out
    for i, part in enumerate(key[:-1]):
        nxt = key[i + 1]
        if isinstance(part, str):
            default: object = {} if isinstance(nxt, str) else []
            target = target.setdefault(part, default) if isinstance(target, dict) else target
        else:
            if not isinstance(target, list):
                return
            index = part or 0
            while len(target) <= index:
                target.append({} if isinstance(nxt, str) else [])
            target = target[index]
    last = key[-1]
    if isinstance(last, str) and isinstance(target, dict):
        target[last] = value
    elif isinstance(target, list):
        target.append(value)


def _flat_pairs(value: object, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(value, dict):
        pairs = []
        for k in sorted(value):
            pairs += _flat_pairs(value[k], f"{prefix}.{k}" if prefix else str(k))
        return pairs
    if isinstance(value, list) and value:
        pairs = []
        for i, item in enumerate(value):
            pairs += _flat_pairs(item, f"{prefix}[{i}]")
        return pairs
    return [(prefix, value)]


def structured_text(resources: Sequence[object], spec: FormatSpec) -> str:
    data = [project(r, spec.columns) for r in resources]
    if spec.name == "json":
        return json.dumps(data, indent=2, sort_keys=True) + "\n"
    if spec.name == "yaml":
        import yaml  # only the yaml format pays for the import

        return "".join("---\n" + yaml.safe_dump(d, sort_keys=True, default_flow_style=False, allow_unicode=True, width=120)
                       for d in data)
    out = []  # flattened
    for d in data:
        pairs = _flat_pairs(d)
        width = max((len(k) for k, _ in pairs), default=0) + 1
        out.append("---\n" + "".join(f"{(k + ':').ljust(width)} {_flat_value(v)}".rstrip() + "\n" for k, v in pairs))
    return "".join(out)


def _flat_value(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return display(value)


# --- one list command's output -----------------------------------------------------------------------------------------

@dataclass
class Listing:
    """What a list verb hands the machinery.

    items: whatever the verb keeps per resource; `resource(item)` is the GIQ-shaped object that projections, filters
    and sort keys address. `printers` are the command's own default printers by format name (e.g. profile /
    csvprofile for `list`); bare `table`/`csv` use `table_as`/`csv_as` among them.
    """

    items: list
    resource: Callable[[object], object]
    printers: dict[str, Callable[[list], str]]
    default: str
    table_as: str = ""
    csv_as: str = ""
    value_as: str = ""
    kept: list = field(default_factory=list)  # the items printed, after --sort-by, --filter and --limit


def emit(listing: Listing, fmt: str | None, filter_text: str | None, sort_by: Sequence[str], limit: int | None,
         uri: bool = False) -> str:
    own_default = not fmt and listing.default in listing.printers and listing.default not in FORMAT_NAMES
    spec = FormatSpec(listing.default) if own_default else parse_format(fmt or listing.default)
    predicate = parse_filter(filter_text or "")
    keys = parse_sort_by(sort_by)
    if uri:
        raise UsageError("--uri is not supported: GIQ profiles, models and use cases are not addressable resources "
                         "(no selfLink); use --format 'value(…)'")
    items = listing.items
    if not keys:
        keys = [(c.key, c.reverse) for c in sorted((c for c in spec.columns if c.sort is not None), key=lambda c: c.sort)]
    if keys:
        items = sort_items(items, keys, listing.resource)
    items = [i for i in items if predicate(listing.resource(i))]
    if limit is not None:
        items = items[:limit]
    listing.kept = items
    name = spec.name
    if name == "none":
        return ""
    if own_default:
        return listing.printers[listing.default](items)
    if not spec.columns:
        alias = {"table": listing.table_as, "csv": listing.csv_as, "value": listing.value_as}.get(name, name)
        if alias in listing.printers:
            return listing.printers[alias](items)
        if name in ("profile", "csvprofile"):
            raise UsageError(f"--format: {name} is the profile printer of `list` and `benchmarks list`; this command "
                             f"prints with table, csv, value, json, yaml or flattened")
    resources = [listing.resource(i) for i in items]
    if name in ("json", "yaml", "flattened"):
        return structured_text(resources, spec)
    if not spec.columns:
        raise UsageError(f"--format: {name} needs a projection here, e.g. {name}(KEY, …)")
    rows = [[display(get(r, c.key), spec.attributes.get("delimiter", ";")) for c in spec.columns] for r in resources]
    if name == "table":
        return table_text([c.label for c in spec.columns], rows, spec.heading) if rows else ""
    labels = [c.label.lower() for c in spec.columns]
    return csv_text(labels, rows, spec, value=name == "value")
