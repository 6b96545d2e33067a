"""Bulk import and export in the interchange format (docs/import-format.md).

Each app registers its record types (`register(RecordType(...))` in AppConfig.ready). An
import validates the whole file into a scratch database first, reports every error with its
line and field, and only then writes everything in one transaction, dependencies first.
"""

import datetime
import decimal
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.utils.translation import gettext as _

from yingji.core import audit
from yingji.lib.readers import BadRecord, read_jsonl, read_xlsx
from yingji.lib.staging import Staging

REF_RE = re.compile(r"^[^\s/]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Field:
    """One field of a record type: how to read it, check it and write it back."""

    name: str
    kind: str = "str"  # str, int, bool, date, datetime, decimal, enum, ref
    required: bool = False
    many: bool = False
    choices: tuple[str, ...] = ()
    ref_type: str = ""
    max_length: int = 0
    validators: tuple[Callable[[object], None], ...] = ()
    default: object = None

    def parse(self, raw: object) -> object:
        if self.many:
            if isinstance(raw, str):
                raw = [v for v in (s.strip() for s in raw.split(";")) if v]
            if not isinstance(raw, list):
                raise ValidationError(_("must be a list"))
            values = [self._one(v) for v in raw]
            if self.kind in ("enum", "ref", "str"):
                seen = []
                for v in values:
                    if v not in seen:
                        seen.append(v)
                values = seen
            return values
        return self._one(raw)

    def _one(self, raw: object) -> object:
        kind = self.kind
        if kind in ("str", "enum", "ref"):
            if isinstance(raw, str):  # tested first: nearly every value is text
                value = raw.strip()
            elif isinstance(raw, int | float) and not isinstance(raw, bool):
                value = str(raw)
            else:
                raise ValidationError(_("must be text"))
            if kind == "enum" and value not in self.choices:
                raise ValidationError(
                    _("“%(value)s” is not one of: %(choices)s")
                    % {"value": value, "choices": ", ".join(self.choices)}
                )
            if kind == "ref" and not REF_RE.match(value):
                raise ValidationError(_("“%(value)s” is not a valid reference") % {"value": value})
            if self.max_length and len(value) > self.max_length:
                raise ValidationError(_("is longer than %(n)d characters") % {"n": self.max_length})
        elif kind == "bool":
            if isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str) and raw.strip().lower() in ("true", "false", "1", "0"):
                value = raw.strip().lower() in ("true", "1")
            elif raw in (0, 1):
                value = bool(raw)
            else:
                raise ValidationError(_("must be true or false"))
        elif kind == "int":
            if isinstance(raw, bool) or not isinstance(raw, int | str):
                raise ValidationError(_("must be a whole number"))
            try:
                value = int(raw)
            except ValueError:
                raise ValidationError(_("must be a whole number")) from None
        elif kind == "date":
            if not isinstance(raw, str) or not DATE_RE.match(raw):
                raise ValidationError(_("must be a date written YYYY-MM-DD"))
            try:
                value = datetime.date.fromisoformat(raw).isoformat()
            except ValueError:
                raise ValidationError(
                    _("“%(value)s” is not a real date") % {"value": raw}
                ) from None
        elif kind == "datetime":
            try:
                parsed = datetime.datetime.fromisoformat(str(raw))
            except ValueError:
                raise ValidationError(_("must be an ISO 8601 time with an offset")) from None
            if parsed.tzinfo is None:
                raise ValidationError(_("must be an ISO 8601 time with an offset"))
            value = parsed.isoformat()
        elif kind == "decimal":
            try:
                number = decimal.Decimal(str(raw))
            except decimal.InvalidOperation:
                raise ValidationError(_("must be a number")) from None
            if not number.is_finite() or number.as_tuple().exponent < -2:
                raise ValidationError(_("must be a number with at most two decimals"))
            value = str(number.quantize(decimal.Decimal("0.01")))
        else:  # pragma: no cover - a programming error, not input
            raise AssertionError(kind)
        for validator in self.validators:
            validator(value)
        return value


@dataclass
class Context:
    """What a record type needs while writing: resolved ids of references and the actor."""

    actor: object
    problems: list = field(default_factory=list)
    _ids: dict[str, dict[str, int]] = field(default_factory=dict)
    _memo: dict[str, object] = field(default_factory=dict)

    def memo(self, key: str, compute: Callable[[], object]) -> object:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def resolve(self, type_: str, ref: str) -> int:
        cache = self._ids.setdefault(type_, {})
        if ref not in cache:
            model = REGISTRY[type_].model
            cache.update(model.objects.filter(ref=ref).values_list("ref", "pk"))
        return cache[ref]

    def prefetch(self, type_: str, refs: Iterable[str]) -> None:
        cache = self._ids.setdefault(type_, {})
        missing = [r for r in set(refs) if r not in cache]
        model = REGISTRY[type_].model
        for i in range(0, len(missing), 900):
            cache.update(
                model.objects.filter(ref__in=missing[i : i + 900]).values_list("ref", "pk")
            )

    def remember(self, type_: str, ref: str, pk: int) -> None:
        self._ids.setdefault(type_, {})[ref] = pk


class RecordType:
    """A kind of record in the interchange format, mapped onto one model."""

    type: str = ""
    model: "type[models.Model]"
    fields: tuple[Field, ...] = ()
    label: str = ""

    def __init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}
        # Looked up per record while validating, so worked out once here.
        self.required = [f.name for f in self.fields if f.required]
        self.ref_fields = [f for f in self.fields if f.kind == "ref"]

    # -- reading ---------------------------------------------------------------------------
    def depends(self) -> set[str]:
        return {f.ref_type for f in self.fields if f.kind == "ref" and f.ref_type != self.type}

    def phase(self, data: dict) -> int:
        """Records of a lower phase are written first (for references within one type)."""
        return 0

    def check(self, data: dict) -> list[tuple[str, str]]:
        """Cross-field rules on one cleaned record: (field, message) pairs."""
        return []

    def unique_keys(self, data: dict) -> dict[str, str]:
        """Values that must be unique among records of this type (besides ref)."""
        return {}

    def unique_clash_in_db(self, key: str, values: list[str]) -> dict[str, str]:
        """value → ref of an existing record holding it."""
        return {}

    # -- writing ---------------------------------------------------------------------------
    def model_values(self, data: dict, ctx: Context) -> dict:
        """Model field values for a cleaned record (references resolved to ids)."""
        values = {}
        for f in self.fields:
            value = data.get(f.name, f.default)
            if f.kind == "ref" and not f.many:
                values[f"{f.name}_id"] = ctx.resolve(f.ref_type, value) if value else None
            elif f.kind == "date" and value:
                values[f.name] = datetime.date.fromisoformat(value)
            elif f.kind == "datetime" and value:
                # In UTC, as the database hands it back: an unchanged record stays unchanged.
                values[f.name] = datetime.datetime.fromisoformat(value).astimezone(datetime.UTC)
            elif f.kind == "decimal" and value is not None:
                values[f.name] = decimal.Decimal(value)
            elif value is None and f.kind in ("str", "enum"):
                values[f.name] = ""
            else:
                values[f.name] = value
        return values

    def prepare(self, obj: models.Model, ctx: Context) -> None:
        """Check rules that need the database and set derived columns; raise ValidationError."""

    def write(self, batch: list[tuple[str, str, dict]], ctx: Context) -> list[audit.Change]:
        model = self.model
        refs = [ref for ref, _loc, _data in batch]
        for f in self.fields:
            if f.kind == "ref" and not f.many:
                ctx.prefetch(f.ref_type, (d[f.name] for _r, _l, d in batch if d.get(f.name)))
        # Which refs exist, by plain SQL; only those are loaded as models (none the first time).
        using = router.db_for_write(model)
        known = _ids_by_ref(model, refs, using)
        existing = {
            o.ref: o for o in model.objects.using(using).filter(pk__in=list(known.values()))
        }
        new = _constructor(model)
        creates, updates, changes, update_fields = [], [], [], set()
        for ref, loc, data in batch:
            values = self.model_values(data, ctx)
            obj = existing.get(ref)
            before = audit.snapshot(obj) if obj is not None else None
            if obj is None:
                obj = new(ref, values)
            else:
                for name, value in values.items():
                    setattr(obj, name, value)
            try:
                self.prepare(obj, ctx)
            except ValidationError as exc:
                for fname, messages in exc.message_dict.items():
                    ctx.problems.append(Problem(loc, fname, "; ".join(messages)))
                continue
            if before is None:
                creates.append(obj)
                continue
            after = audit.snapshot(obj)
            if after != before:
                update_fields |= {k for k in after if after[k] != before.get(k)}
                updates.append(obj)
                changes.append(audit.Change("update", obj, before, after, note="import"))
        # Updates first: one may free a unique value (e.g. close an enterprise) that a
        # new record of the same batch takes.
        if updates:
            fields = [model._meta.get_field(n).name for n in sorted(update_fields) if n != "id"]
            model.objects.bulk_update(updates, fields, batch_size=500)
        if creates:
            _insert_new(model, creates)
            for obj in creates:
                ctx.remember(self.type, obj.ref, obj.pk)
                changes.append(
                    audit.Change("create", obj, None, audit.snapshot(obj), note="import")
                )
        return changes

    # -- export ----------------------------------------------------------------------------
    def export_queryset(self, user=None) -> models.QuerySet:
        qs = self.model.objects.all()
        if user is not None and hasattr(qs, "visible_to"):
            qs = qs.visible_to(user)
        return qs.order_by("pk")

    def export_value(self, f: Field, obj: models.Model) -> object:
        value = getattr(obj, f.name)
        if f.kind == "ref":
            related = getattr(obj, f.name)
            return related.ref if related is not None else None
        if isinstance(value, datetime.datetime):
            return value.isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        if value == "" and not f.required:
            return None
        return value

    def export_records(self, user=None, queryset=None) -> Iterator[dict]:
        related = [f.name for f in self.fields if f.kind == "ref" and not f.many]
        qs = queryset if queryset is not None else self.export_queryset(user)
        qs = qs.select_related(*related).order_by("pk")
        for obj in qs.iterator(chunk_size=2000):
            record = {"type": self.type, "ref": obj.ref}
            for f in self.fields:
                value = self.export_value(f, obj)
                if value is not None and value != []:
                    record[f.name] = value
            yield record


# Python types that get_db_prep_save gives back unchanged, by field class; for these values
# _insert_new() skips the call. Exact classes only: a subclass may convert.
_TEXT = frozenset({str, type(None)})
_INTEGER = frozenset({int, type(None)})
_AS_IS = {
    models.CharField: _TEXT,
    models.TextField: _TEXT,
    models.BooleanField: frozenset({bool, type(None)}),
    models.IntegerField: _INTEGER,
    models.BigIntegerField: _INTEGER,
    models.SmallIntegerField: _INTEGER,
    models.PositiveIntegerField: _INTEGER,
    models.PositiveSmallIntegerField: _INTEGER,
    models.PositiveBigIntegerField: _INTEGER,
    models.AutoField: _INTEGER,
    models.BigAutoField: _INTEGER,
}


def _creation_stamps(model: "type[models.Model]") -> dict:
    """One value per batch for date/time columns with a callable default (timezone.now).

    A batch is created at once, in one transaction; one shared time costs one default call
    and one database preparation (_insert_new) instead of one per record and column.
    """
    return {
        f.attname: f.get_default()
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and f.has_default() and callable(f.default)
    }


def _constructor(model: "type[models.Model]") -> Callable[[str, dict], models.Model]:
    """model(ref=ref, **values) for the new records of one batch, made faster.

    Positional arguments in field order take the quick path of Model.__init__, which costs
    half as much as keyword arguments; values keyed by anything but a column's attname (a
    related object, a property) still go the keyword way.
    """
    fields = model._meta.concrete_fields
    attnames = frozenset(f.attname for f in fields)
    stamps = _creation_stamps(model)

    def new(ref: str, values: dict) -> models.Model:
        given = {**stamps, **values, "ref": ref}
        if not attnames.issuperset(values):
            return model(**given)
        return model(*[given[f.attname] if f.attname in given else f.get_default() for f in fields])

    return new


def _insert_new(model: "type[models.Model]", objs: list[models.Model]) -> None:
    """Insert new records with one executemany, then read their ids back by ref.

    Why not bulk_create: on SQLite it sends statements of at most 999 parameters (71
    enterprises) and prepares every value through several calls; executing one prepared
    statement per row is several times faster. Ids are read back by ref (unique for every
    record type), which works the same on SQLite and PostgreSQL.
    """
    opts = model._meta
    connection = connections[router.db_for_write(model)]
    fields = [f for f in opts.concrete_fields if f is not opts.auto_field and not f.generated]
    columns = []
    for f in fields:
        target = f.target_field if type(f) is models.ForeignKey else f
        as_is = _AS_IS.get(type(target), frozenset())
        # pre_save() matters only where a field overrides it (auto_now dates, files).
        plain_attr = type(f).pre_save is models.Field.pre_save
        columns.append((f, f.attname, as_is, plain_attr))
    rows = []
    dates: dict[tuple[int, object], object] = {}  # prepared once: see _creation_stamps()
    for obj in objs:
        row = []
        for i, (f, attname, as_is, plain_attr) in enumerate(columns):
            value = getattr(obj, attname) if plain_attr else f.pre_save(obj, True)
            if type(value) in as_is:
                row.append(value)
            elif type(value) in (datetime.datetime, datetime.date):
                if (i, value) not in dates:
                    dates[i, value] = f.get_db_prep_save(value, connection)
                row.append(dates[i, value])
            else:
                row.append(f.get_db_prep_save(value, connection))
        rows.append(row)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(opts.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    ids = _ids_by_ref(model, [obj.ref for obj in objs], connection.alias)
    for obj in objs:
        obj.pk = ids[obj.ref]
        obj._state.adding = False
        obj._state.db = connection.alias


def _ids_by_ref(model: "type[models.Model]", refs: list[str], using: str) -> dict[str, int]:
    """ref → pk of the records that exist. Plain SQL: for a batch of 1,000 refs the ORM's
    preparation of a large IN list costs more than running the query."""
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = model._meta
    ref, pk = quote(opts.get_field("ref").column), quote(opts.pk.column)
    ids: dict[str, int] = {}
    with connection.cursor() as cursor:
        for i in range(0, len(refs), 900):
            chunk = refs[i : i + 900]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT {ref}, {pk} FROM {quote(opts.db_table)} WHERE {ref} IN ({marks})", chunk
            )
            ids.update(cursor.fetchall())
    return ids


REGISTRY: dict[str, RecordType] = {}


def register(record_type: RecordType) -> RecordType:
    REGISTRY[record_type.type] = record_type
    return record_type


def ordered_types(names: Iterable[str] | None = None) -> list[RecordType]:
    """Record types with every type after the types it references."""
    wanted = set(names) if names is not None else set(REGISTRY)
    done: list[str] = []

    def visit(name: str, stack: tuple[str, ...] = ()) -> None:
        if name in done or name in stack:
            return
        for dep in sorted(REGISTRY[name].depends()):
            if dep in REGISTRY:
                visit(dep, (*stack, name))
        done.append(name)

    for name in sorted(REGISTRY):
        visit(name)
    return [REGISTRY[n] for n in done if n in wanted]


@dataclass
class Problem:
    loc: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.field}: {self.message}"


@dataclass
class Result:
    errors: list[Problem]
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    records: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFailed(Exception):
    def __init__(self, errors: list[Problem]) -> None:
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def read_records(path: Path) -> Iterator[tuple[str, object]]:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".xlsx":
        lists = {t: {f.name for f in rt.fields if f.many} for t, rt in REGISTRY.items()}
        return read_xlsx(path, lists)
    raise ImportFailed([Problem(path.name, "-", _("only .jsonl and .xlsx files can be imported"))])


def _clean(loc: str, raw: object, errors: list[Problem]) -> tuple[RecordType, str, dict] | None:
    if isinstance(raw, BadRecord):
        errors.append(Problem(loc, "-", str(raw)))
        return None
    if not isinstance(raw, dict):
        errors.append(Problem(loc, "-", _("a record must be a JSON object")))
        return None
    type_name = raw.get("type")
    rt = REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if rt is None:
        errors.append(
            Problem(
                loc,
                "type",
                _("unknown record type “%(type)s” (known: %(known)s)")
                % {"type": type_name, "known": " ".join(sorted(REGISTRY))},
            )
        )
        return None
    ok = True
    ref = raw.get("ref")
    if isinstance(ref, int) and not isinstance(ref, bool):
        ref = str(ref)
    if not isinstance(ref, str) or not REF_RE.match(ref.strip()):
        errors.append(
            Problem(
                loc, "ref", _("a reference (ref) is required: 1–64 characters, no spaces or “/”")
            )
        )
        ok = False
    data: dict = {}
    for name, value in raw.items():
        if name in ("type", "ref"):
            continue
        f = rt.by_name.get(name)
        if f is None:
            errors.append(Problem(loc, name, _("unknown field for %(type)s") % {"type": rt.type}))
            ok = False
            continue
        if value is None or value == "" or value == []:
            continue
        try:
            data[name] = f.parse(value)
        except ValidationError as exc:
            errors.append(Problem(loc, name, "; ".join(exc.messages)))
            ok = False
    for name in rt.required:
        if name not in data and raw.get(name) in (None, "", []):
            errors.append(Problem(loc, name, _("this field is required")))
            ok = False
    if not ok:
        return None
    for fname, message in rt.check(data):
        errors.append(Problem(loc, fname, message))
        ok = False
    return (rt, ref.strip(), data) if ok else None


def validate(
    path: Path,
    staging: Staging,
    progress: Callable[[int], None] | None = None,
) -> list[Problem]:
    """Pass 1: clean every record into the scratch database and check the whole file."""
    errors: list[Problem] = []
    for loc, raw in read_records(path):
        if progress:
            progress(1)
        cleaned = _clean(loc, raw, errors)
        if cleaned is None:
            continue
        rt, ref, data = cleaned
        staging.add(rt.type, ref, rt.phase(data), loc, data)
        for f in rt.ref_fields:
            if f.name not in data:
                continue
            for value in data[f.name] if f.many else [data[f.name]]:
                staging.add_ref(f.ref_type, value, loc, f.name)
        for key, value in rt.unique_keys(data).items():
            staging.add_unique(rt.type, key, value, ref, loc)
    staging.finish_loading()

    for _type, ref, loc, first in staging.duplicates():
        errors.append(
            Problem(
                loc,
                "ref",
                _("“%(ref)s” appears again (first at %(first)s)") % {"ref": ref, "first": first},
            )
        )
    for _type, key, value, loc, first in staging.unique_clashes():
        errors.append(
            Problem(
                loc,
                key,
                _("“%(value)s” is already used at %(first)s") % {"value": value, "first": first},
            )
        )
    for chunk in staging.unresolved_refs():
        by_type: dict[str, list[str]] = {}
        for type_, ref in chunk:
            by_type.setdefault(type_, []).append(ref)
        for type_, refs in by_type.items():
            known = (
                set(
                    REGISTRY[type_].model.objects.filter(ref__in=refs).values_list("ref", flat=True)
                )
                if type_ in REGISTRY
                else set()
            )
            for ref in refs:
                if ref in known:
                    continue
                for loc, fname in staging.referrers(type_, ref):
                    errors.append(
                        Problem(
                            loc,
                            fname,
                            _("unknown %(type)s “%(ref)s”") % {"type": type_, "ref": ref},
                        )
                    )
    for rt in REGISTRY.values():
        for key in _unique_key_names(staging, rt):
            for rows in staging.unique_values(rt.type, key):
                held = rt.unique_clash_in_db(key, [v for v, _r, _l in rows])
                for value, ref, loc in rows:
                    owner = held.get(value)
                    if owner is None or owner == ref or staging.defines(rt.type, owner):
                        continue
                    errors.append(
                        Problem(
                            loc,
                            key,
                            _("“%(value)s” already belongs to %(owner)s in the database")
                            % {"value": value, "owner": owner},
                        )
                    )
    errors.sort(key=lambda p: _loc_key(p.loc))
    return errors


def _unique_key_names(staging: Staging, rt: RecordType) -> set[str]:
    rows = staging.db.execute("SELECT DISTINCT key FROM uniq WHERE type = ?", (rt.type,))
    return {r[0] for r in rows}


def _loc_key(loc: str) -> tuple:
    head, _, tail = loc.rpartition(" ") if loc.startswith("line ") else loc.rpartition("!")
    return (head, int(tail) if tail.isdigit() else 0)


def import_file(path: Path | str, *, actor, progress_factory=None) -> Result:
    """Validate a whole file, then write it in one transaction; raise ImportFailed on errors."""
    path = Path(path)
    staging = Staging()
    try:
        bar = progress_factory("validate", None) if progress_factory else None
        errors = validate(path, staging, bar.update if bar is not None else None)
        if bar is not None:
            bar.close()
        if errors:
            raise ImportFailed(errors)
        total = staging.count()
        result = Result(errors=[], records=total)
        bar = progress_factory("write", total) if progress_factory else None
        ctx = Context(actor=actor)
        with transaction.atomic():
            for rt in ordered_types():
                for phase in staging.phases(rt.type):
                    for batch in staging.records(rt.type, phase):
                        changes = rt.write(batch, ctx)
                        counted = [c for c in changes if c.counted]
                        created = sum(1 for c in counted if c.action == "create")
                        result.created += created
                        result.updated += len(counted) - created
                        result.unchanged += len(batch) - len(counted)
                        audit.append_many(changes, actor=actor)
                        if bar is not None:
                            bar.update(len(batch))
            if ctx.problems:
                raise ImportFailed(sorted(ctx.problems, key=lambda p: _loc_key(p.loc)))
            audit.append(
                [
                    audit.Change(
                        "import",
                        None,
                        None,
                        {
                            "file": path.name,
                            "records": total,
                            "created": result.created,
                            "updated": result.updated,
                        },
                        target_type="import",
                        target_id=path.name[:64],
                        target_repr=path.name[:200],
                    )
                ],
                actor=actor,
            )
        if bar is not None:
            bar.close()
        return result
    finally:
        staging.close()


def export_file(
    path: Path | str, *, types: Iterable[str] | None = None, user=None, progress=None
) -> int:
    """Write records (in the viewer's scope when a user is given) as .jsonl or .xlsx."""
    path = Path(path)
    chosen = ordered_types(types)
    count = 0
    if path.suffix.lower() == ".jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for rt in chosen:
                for record in rt.export_records(user):
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
                    if progress:
                        progress(1)
        return count
    if path.suffix.lower() == ".xlsx":
        with open(path, "wb") as fh:
            for _n in write_xlsx(fh, chosen, user, progress):
                count += 1
        return count
    raise ValueError(_("only .jsonl and .xlsx files can be exported"))


def write_xlsx(
    fh, chosen: list[RecordType], user=None, progress=None, querysets: dict | None = None
) -> Iterator[None]:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for rt in chosen:
        ws = wb.create_sheet(rt.type)
        names = ["ref", *(f.name for f in rt.fields)]
        ws.append(names)
        for record in rt.export_records(user, (querysets or {}).get(rt.type)):
            row = []
            for name in names:
                value = record.get(name)
                row.append(";".join(value) if isinstance(value, list) else value)
            ws.append(row)
            if progress:
                progress(1)
            yield None
    wb.save(fh)


def jsonl_lines(
    chosen: list[RecordType],
    user=None,
    querysets: dict | None = None,
) -> Iterator[str]:
    for rt in chosen:
        for record in rt.export_records(user, (querysets or {}).get(rt.type)):
            yield json.dumps(record, ensure_ascii=False) + "\n"
