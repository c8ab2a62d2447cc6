"""One declaration per resource shape: its response schema. Which fields a resource shows, in which
order, how each type is written and what null becomes are read from the schema's declared fields
here, once, and every other format derives from them: the JSON document built straight from a row
or a model (no schema dump per response: it costs several times as much), and the CSV header and
cells. Adding a field to a response schema adds it to all of them.

How each type of field is written, the one place it is:

| field                  | JSON                                  | CSV cell                             |
|------------------------|---------------------------------------|--------------------------------------|
| UtcDateTime            | `YYYY-MM-DDTHH:MM:SSZ` (api_time)     | the same                             |
| Boolean                | true / false                          | `true` / `false`                     |
| String, Integer        | as stored                             | as stored, formula-safe (`safe`)     |
| Dict (stored JSON)     | the stored text, passed through       | the stored text, formula-safe        |
| null (allow_none)      | null                                  | an empty cell                        |

PostgreSQL writes the same cells itself for a CSV export read with COPY (`sql_cells`): the last
column of each row of the table above, as SQL (`_SQL_WRITERS`), the same rules: a null, or an empty
text, an empty cell (COPY quotes an empty text, which the `csv` module does not).

A Dict field's value is the compact JSON text the service stored (it wrote it with `json.dumps` from
a value the request parser accepted), so it goes out as an `orjson.Fragment`, never parsed again.

The functions are generated at import from the declaration (as `dataclasses` and `namedtuple`
generate theirs), so that a response costs one dict built in one call, as a hand-written renderer
would: a page renders its rows in a loop, and a call per field would cost more than the rest of it.
"""
import ast
import builtins
import re

import orjson
from marshmallow import fields
from peewee import SQL, NodeList, Value

from .schemas import UtcDateTime, api_time

_FORMULA_STARTS = frozenset("=+-@\t\r")


def safe(text):
    """Text as a CSV cell no spreadsheet runs as a formula: a leading `'` before what would start one.
    (The cells inline the same test, a call per cell costing more than the test.)"""
    return f"'{text}" if text[:1] in _FORMULA_STARTS else text


_SAFE = "(\"'\" + {v} if {v}[:1] in _FORMULA_STARTS else {v})"  # safe(), inline
# (JSON, CSV cell) of a value `{v}` of each type of field, in the order they are tried (subclasses first).
_WRITERS = (
    (UtcDateTime, "_api_time({v})", "_api_time({v})"),
    (fields.DateTime, None, None),  # another date format than the API's: refused
    (fields.Boolean, "{v}", '("true" if {v} else "false")'),
    (fields.String, "{v}", _SAFE),
    (fields.Integer, "{v}", "str({v})"),
    (fields.Dict, "_Fragment({v})", _SAFE),
)
# The same cells written by PostgreSQL (COPY), in the order above: `{v}` a SQL expression of the value.
_SQL_SAFE = ("NULLIF(CASE WHEN left({v}, 1) IN (" + ", ".join(f"chr({ord(start)})" for start in sorted(_FORMULA_STARTS))
             + ") THEN '''' || {v} ELSE {v} END, '')")
_SQL_WRITERS = (
    (UtcDateTime, """to_char({v}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""),  # to the second, as api_time: truncated
    (fields.DateTime, None),
    (fields.Boolean, "CASE WHEN {v} THEN 'true' ELSE 'false' END"),
    (fields.String, _SQL_SAFE),
    (fields.Integer, "{v}"),
    (fields.Dict, _SQL_SAFE),
)
_HELPERS = {"_api_time": api_time, "_FORMULA_STARTS": _FORMULA_STARTS, "_Fragment": orjson.Fragment}


class Shape:
    """The shape of a resource whose reads return rows of `columns`, as its response `schema`
    declares it.

    `columns`: what a row holds, in order: peewee fields of the resource's model, fields of an alias
    joined to it (`joined` names the model attribute that holds the joined model, None when
    nothing joins), or plain attribute names. Each column is named in the expressions below by its
    attribute (a foreign key's id attribute, `mentor_id`, not `mentor`), a joined one as
    `<attribute>_<field>` (`active_pause_start_date`).

    `sources`: for each field whose value is not the column of its name (or `attribute`), a Python
    expression of the columns (and of `names`) that gives it; `sql_sources` the same as SQL, each
    column and name written `{name}` (for `sql_cells`). A field no column or source gives, a
    source of an unknown field and a field type without a writer each stop the import, naming it.

    Gives `header` (the field names, in order), `render_row(row)` and `render(model)` (the JSON
    document as the schema dumps the resource) and `cells(row)` (its CSV cells); `sql_cells()` the
    same cells as PostgreSQL expressions of the columns.
    """

    def __init__(self, schema, columns, sources=None, joined=None, names=None, sql_sources=None):
        self.schema, self.columns = schema, tuple(columns)
        self.sql_sources = dict(sql_sources or {})
        self.sources, self.joined, self.names = dict(sources or {}), dict(joined or {}), dict(names or {})
        self.fields = schema().dump_fields
        self.header = tuple(field.data_key or name for name, field in self.fields.items())
        unknown = set(self.sources) - set(self.fields)
        if unknown:
            raise TypeError(f"{schema.__name__}: sources for fields it does not declare: {sorted(unknown)}")
        self._paths = [self._path(column) for column in self.columns]
        self._locals = [path.replace(".", "_") for path in self._paths]
        values, computed = {}, ""
        for name, field in self.fields.items():
            expression = self._value(name, field)
            if not expression.isidentifier():  # computed once into a local, however often a writer names it
                computed += f"    _f_{name} = {expression}\n"
                expression = f"_f_{name}"
            values[name] = expression
        document = ", ".join(f"{key!r}: {self._write(name, field, values[name], 1)}"
                             for key, (name, field) in zip(self.header, self.fields.items(), strict=True))
        cells = ", ".join(self._write(name, field, values[name], 2) for name, field in self.fields.items())
        unpack = f"    {', '.join(self._locals)}, = row\n{computed}"
        source = (f"def render_row(row):\n{unpack}    return {{{document}}}\n\n"
                  f"def render(model):\n{self._model_reads()}{computed}    return {{{document}}}\n\n"
                  f"def cells(row):\n{unpack}    return ({cells},)\n")
        namespace = {**_HELPERS, **self.names}
        exec(compile(source, f"<shape of {schema.__name__}>", "exec"), namespace)  # text built above, from the schema
        self.source = source
        self.render_row, self.render, self.cells = namespace["render_row"], namespace["render"], namespace["cells"]

    def _path(self, column):
        """How a model reaches `column`: `attribute` or `joined_attribute.attribute`."""
        if isinstance(column, str):
            return column
        attribute = getattr(column, "object_id_name", None) or column.name  # a foreign key: its id, not a read
        if column.model in self.joined:
            return f"{self.joined[column.model]}.{attribute}"
        return attribute

    def _value(self, name, field):
        """The expression of field `name`'s value: its source, or the column named like it (or like
        the field's `attribute`, as marshmallow reads it)."""
        expression = self.sources.get(name, field.attribute or name)
        tree = ast.parse(expression, mode="eval")
        known = {*self._locals, *self.names, *vars(builtins)}
        missing = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - known)
        if missing:
            raise TypeError(f"{self.schema.__name__}.{name}: no column or name {', '.join(missing)} "
                            f"(columns: {', '.join(self._locals)}); give the field a source")
        return expression

    def _write(self, name, field, value, format_index):
        """The expression writing `value` (of `field`) in format 1 (JSON) or 2 (CSV)."""
        for writer in _WRITERS:
            if isinstance(field, writer[0]):
                template = writer[format_index]
                break
        else:
            template = None
        if template is None:
            raise TypeError(f"{self.schema.__name__}.{name}: no writer for a {type(field).__name__} field")
        if template == "{v}":
            return value
        written = template.format(v=value)
        if field.allow_none:
            null = "None" if format_index == 1 else '""'
            return f"({null} if {value} is None else {written})"
        return written

    def _model_reads(self):
        """The lines that read each column from `model` into its name; a joined model may be None."""
        lines, joined = [], {}
        for path, local in zip(self._paths, self._locals, strict=True):
            holder, _, attribute = path.rpartition(".")
            if holder:
                joined.setdefault(holder, []).append((local, attribute))
            else:
                lines.append(f"    {local} = model.{attribute}\n")
        for holder, reads in joined.items():
            lines.append(f"    _j_{holder} = model.{holder}\n    if _j_{holder} is None:\n")
            lines.append(f"        {' = '.join(local for local, _ in reads)} = None\n    else:\n")
            lines.extend(f"        {local} = _j_{holder}.{attribute}\n" for local, attribute in reads)
        return "".join(lines)

    def sql_cells(self):
        """The CSV cells as PostgreSQL expressions (peewee nodes) of the columns, one per field in
        the header's order, each what `cells` gives for the same row (NULL for an empty cell)."""
        nodes = {local: column for local, column in zip(self._locals, self.columns, strict=True)}
        nodes.update((name, Value(value)) for name, value in self.names.items())
        cells = []
        for name, field in self.fields.items():
            value = self.sql_sources.get(name)
            if value is None:  # the column the field's Python source names, or its own
                column = self.sources.get(name, field.attribute or name)
                if not column.isidentifier():
                    raise TypeError(f"{self.schema.__name__}.{name}: computed in Python; give it a SQL source")
                value = "{" + column + "}"
            else:
                value = f"({value})"
            template = next((sql for kind, sql in _SQL_WRITERS if isinstance(field, kind)), None)
            if template is None:
                raise TypeError(f"{self.schema.__name__}.{name}: no SQL writer for a {type(field).__name__} field")
            cells.append(_sql(template.replace("{v}", value), nodes, f"{self.schema.__name__}.{name}"))
        return tuple(cells)


def _sql(template, nodes, what):
    """`template` as a peewee node, each `{name}` in it the node `nodes` gives for that name."""
    parts = re.split(r"\{(\w+)\}", template)
    missing = sorted(set(parts[1::2]) - set(nodes))
    if missing:
        raise TypeError(f"{what}: no column or name {', '.join(missing)} for SQL")
    return NodeList([SQL(part) if index % 2 == 0 else nodes[part] for index, part in enumerate(parts) if part],
                    glue="")
