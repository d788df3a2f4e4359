"""Importing people and companies from a CSV file: columns mapped to fields, every cell checked by its field's type.

People are matched by email, companies by domain; a row creates or updates one of them. A person's row may carry
company fields: the company is found by domain (or name) or created, and the person linked to it; a person left
without a company joins the company of their email's domain, as when a visitor gives their email.

Columns: a header that is a field's dotted name, its short name after the dot or its label (any case, `_`, `-` and
spaces alike) maps itself; `mapping` maps any other header (an empty field name ignores the column). A column that
maps to nothing is refused, so that a misspelt header cannot silently drop a column of data, unless
`ignore_unknown` is set: then it is listed once in the report and ignored. Empty cells leave fields as they are.

Line numbers are the file's physical lines (the header is line 1; a row with a quoted new line starts on the line
given). The import runs inside a savepoint: a dry run, and an all-or-nothing import with a bad row, roll it back.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from overture.errors import InvalidInput, Problem
from overture.people.companies import link_company
from overture.people.fields import FieldSchema, FieldSpec
from overture.people.import_values import BadValue, parse_value
from overture.people.models import Company, CompanyDomain, Person
from overture.people.service import COMPANY_COLUMNS, PERSON_COLUMNS, field_schema, set_company_field, set_field
from overture.users.models import User

Kind = Literal["person", "company"]
KINDS: tuple[Kind, ...] = ("person", "company")
# The field that finds the row's person or company: a row without it is bad.
KEY_FIELD: dict[Kind, str] = {"person": "person.email", "company": "company.domain"}
# Called after each row with (rows done, rows in the file): the CLI draws its progress bar with it.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportOptions:
    kind: Kind
    # CSV header -> dotted field name ("" ignores the column); overrides the header's own meaning.
    mapping: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = False
    all_or_nothing: bool = False
    ignore_unknown: bool = False
    # Where phone numbers without a country code are (ISO 3166 alpha-2), e.g. "US".
    region: str | None = None


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column '{self.column}'" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportReport:
    kind: Kind
    # CSV header -> the field it was imported into.
    columns: dict[str, str]
    # Headers left out (with ignore_unknown, or mapped to ""), each with the reason.
    ignored: dict[str, str]
    rows: int = 0
    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    dry_run: bool = False
    # False after a dry run, or an all-or-nothing import with a bad row: nothing was changed.
    written: bool = False

    @property
    def bad_lines(self) -> list[int]:
        return sorted({problem.line for problem in self.problems})

    @property
    def bad(self) -> int:
        return len(self.bad_lines)

    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, bad {self.bad}"


@dataclass(frozen=True)
class CsvTable:
    header: list[str]
    # (physical line where the row starts, its cells); blank lines are left out.
    rows: list[tuple[int, list[str]]]


# --- reading -------------------------------------------------------------------------------------------------------


def read_csv(source: bytes | str) -> CsvTable:
    """The header and rows of a UTF-8 CSV file (with or without BOM), its delimiter `,` or `;` chosen by the header.

    Raises InvalidInput for a file that is not UTF-8, is empty, or is not well-formed CSV.
    """
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = source[: exc.start].count(b"\n") + 1
            raise InvalidInput(
                "The file is not UTF-8 text: save it as CSV UTF-8 and import it again.",
                [Problem(f"line {line}", "This line holds bytes that are not UTF-8.")],
            ) from None
    else:
        text = source.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        start = 1
        for cells in reader:
            if header is None:
                header = [cell.strip() for cell in cells]
            elif any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(
            "The file is not well-formed CSV.", [Problem(f"line {reader.line_num}", f"{str(exc).capitalize()}.")]
        ) from None
    if not header or not any(header):
        raise InvalidInput("The file is empty: the first line must name the columns.")
    return CsvTable(header, rows)


# --- columns -------------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def importable(spec: FieldSpec, kind: Kind) -> bool:
    """Person imports take person and company fields; company imports company fields. visit.* and activity.* are
    read-only (a custom field that visitors may not fill can still be imported)."""
    prefixes = ("person.", "company.") if kind == "person" else ("company.",)
    return spec.name.startswith(prefixes)


def _refusal(spec: FieldSpec, kind: Kind) -> str:
    if spec.name.startswith(("person.", "company.")):
        return f"{spec.name} is a person field: import it with --kind person."
    return f"{spec.name} is read-only: visit and activity fields are recorded by Overture, not imported."


def _field_for_header(header: str, schema: FieldSchema, kind: Kind) -> tuple[FieldSpec | None, str]:
    """The field a header names by itself, or None and why not."""
    exact = schema.get(header.strip().lower())
    if exact is not None:
        return (exact, "") if importable(exact, kind) else (None, _refusal(exact, kind))
    plain = _plain(header)
    named = [
        spec for spec in schema.fields.values() if plain in {_plain(spec.name.split(".", 1)[-1]), _plain(spec.label)}
    ]
    usable = [spec for spec in named if importable(spec, kind)]
    own = [spec for spec in usable if spec.name.startswith(f"{kind}.")]
    for choice in (usable, own):
        if len(choice) == 1:
            return choice[0], ""
    if len(own or usable) > 1:
        names = " and ".join(spec.name for spec in own or usable)
        return None, f'It could be {names}: say which with --map "{header}=FIELD".'
    if named:
        return None, _refusal(named[0], kind)
    return None, (f"No field is called '{header}': map it with --map \"{header}=FIELD\" or pass --ignore-unknown.")


def map_columns(
    header: list[str], schema: FieldSchema, options: ImportOptions
) -> tuple[dict[int, FieldSpec], dict[str, str]]:
    """Column index -> field, and the ignored headers with the reason. Raises InvalidInput listing every column
    that cannot be imported, a header given twice, a mapping to an unknown column or field, two columns for one
    field, and a missing key column (email for people, domain for companies)."""
    problems: list[Problem] = []
    mapping = {_plain(column): name.strip() for column, name in options.mapping.items()}
    for column, name in options.mapping.items():
        if _plain(column) not in {_plain(h) for h in header}:
            problems.append(Problem(f"--map {column}", f"The file has no column '{column}'."))
        elif name.strip():
            spec = schema.get(name.strip())
            if spec is None:
                problems.append(Problem(f"--map {column}", f"There is no field '{name.strip()}'."))
            elif not importable(spec, options.kind):
                problems.append(Problem(f"--map {column}", _refusal(spec, options.kind)))
    columns: dict[int, FieldSpec] = {}
    ignored: dict[str, str] = {}
    seen: dict[str, str] = {}
    for index, name in enumerate(header):
        label = name or f"(column {index + 1})"
        if _plain(label) in seen:
            problems.append(Problem(label, "This column name is given twice."))
            continue
        seen[_plain(label)] = label
        if _plain(label) in mapping:
            target = mapping[_plain(label)]
            if not target:
                ignored[label] = "ignored by --map"
            elif (spec := schema.get(target)) is not None and importable(spec, options.kind):
                columns[index] = spec
            continue
        spec, reason = _field_for_header(name, schema, options.kind) if name else (None, "The column has no name.")
        if spec is not None:
            columns[index] = spec
        elif options.ignore_unknown:
            ignored[label] = reason
        else:
            problems.append(Problem(label, reason))
    by_field: dict[str, str] = {}
    for index, spec in columns.items():
        if spec.name in by_field:
            problems.append(Problem(header[index], f"Both '{by_field[spec.name]}' and it go into {spec.name}."))
        by_field[spec.name] = header[index]
    key = KEY_FIELD[options.kind]
    if key not in by_field and not problems:
        problems.append(Problem(key, f"A {options.kind} import needs a column for {key}, which finds the rows."))
    if problems:
        raise InvalidInput("Some columns cannot be imported; nothing was imported.", problems)
    return columns, ignored


# --- rows ----------------------------------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    problems: list[RowProblem]


def _max_length(spec: FieldSpec) -> int | None:
    """The length of the text column a built-in field is stored in (custom fields: the general limit)."""
    model, columns = (Person, PERSON_COLUMNS) if spec.name.startswith("person.") else (Company, COMPANY_COLUMNS)
    column = columns.get(spec.name)
    if column is None:
        return None
    return getattr(model.__table__.c[column].type, "length", None)


def _check_row(
    line: int, cells: list[str], header: list[str], columns: dict[int, FieldSpec], options: ImportOptions
) -> _Row:
    row = _Row(line, {}, [])
    if len(cells) > len(header):
        row.problems.append(
            RowProblem(line, None, f"The row has {len(cells)} cells but the header names {len(header)} columns.")
        )
        return row
    for index, spec in columns.items():
        raw = cells[index].strip() if index < len(cells) else ""
        if not raw:
            continue
        try:
            row.values[spec.name] = parse_value(spec, raw, region=options.region, max_length=_max_length(spec))
        except BadValue as exc:
            row.problems.append(RowProblem(line, header[index], str(exc)))
    key = KEY_FIELD[options.kind]
    if key not in row.values and not any(p.column == _header_of(key, header, columns) for p in row.problems):
        row.problems.append(RowProblem(line, _header_of(key, header, columns), f"{key} is required and empty."))
    return row


def _header_of(name: str, header: list[str], columns: dict[int, FieldSpec]) -> str | None:
    return next((header[index] for index, spec in columns.items() if spec.name == name), None)


def _check_owner(session: Session, row: _Row, header_of_owner: str | None) -> None:
    """company.owner must be the email of an active user (routing gives the owner's meetings to them)."""
    owner = row.values.get("company.owner")
    if owner is None:
        return
    user = session.scalar(select(User).where(func.lower(User.email) == owner))
    if user is None:
        row.problems.append(RowProblem(row.line, header_of_owner, f"No user has the email {owner}."))
    elif not user.is_active:
        row.problems.append(RowProblem(row.line, header_of_owner, f"The user {owner} is deactivated."))


def company_by_domain(session: Session, domain: str) -> Company | None:
    return session.scalar(
        select(Company)
        .join(CompanyDomain, CompanyDomain.company_id == Company.id)
        .where(CompanyDomain.domain == domain)
    )


def _new_company(session: Session, domain: str | None, now: datetime) -> Company:
    company = Company(domain=domain, fields={}, created_at=now, updated_at=now)
    session.add(company)
    session.flush()
    if domain:
        session.add(CompanyDomain(domain=domain, company_id=company.id))
    return company


def _write_company(session: Session, company: Company, values: dict[str, Any], now: datetime) -> None:
    for name, value in values.items():
        # A company found by one of its other domains keeps its main domain.
        if name != "company.domain" or company.domain is None:
            set_company_field(company, name, value, now)


def _company_for_person(session: Session, person: Person | None, values: dict[str, Any]) -> Company | str | None:
    """The existing company a person's row names (by domain, else by name, else the person's own company), None
    when one must be created, or why the row's company fields cannot be placed."""
    if "company.domain" in values:
        return company_by_domain(session, values["company.domain"])
    if "company.name" in values:
        return session.scalar(
            select(Company).where(func.lower(Company.name) == values["company.name"].lower()).order_by(Company.id)
        )
    if person is not None and person.company_id is not None:
        return session.get(Company, person.company_id)
    return "Company fields need company.domain or company.name to know which company they belong to."


def _import_person(session: Session, row: _Row, now: datetime) -> bool:
    """Writes one checked person row; True when the person is new."""
    email = row.values["person.email"]
    person = session.scalar(select(Person).where(Person.email == email))
    company_values = {name: value for name, value in row.values.items() if name.startswith("company.")}
    company = _company_for_person(session, person, company_values) if company_values else None
    if isinstance(company, str):
        row.problems.append(RowProblem(row.line, None, company))
        return False
    created = person is None
    if person is None:
        person = Person(email=email, fields={}, source={}, visit={}, created_at=now, last_seen_at=now)
        session.add(person)
    for name, value in row.values.items():
        if name.startswith("person.") and name != "person.email":
            set_field(session, person, name, value, now)
    if company_values:
        if company is None:
            company = _new_company(session, company_values.get("company.domain"), now)
        _write_company(session, company, company_values, now)
        person.company_id = company.id
    # As when a visitor gives their email: a person without a company joins their email domain's one.
    session.flush()
    link_company(session, person, now)
    return created


def _import_company(session: Session, row: _Row, now: datetime) -> bool:
    """Writes one checked company row; True when the company is new."""
    company = company_by_domain(session, row.values["company.domain"])
    created = company is None
    if company is None:
        company = _new_company(session, row.values["company.domain"], now)
    _write_company(session, company, row.values, now)
    return created


def import_rows(
    session: Session, table: CsvTable, options: ImportOptions, now: datetime, progress: Progress | None = None
) -> ImportReport:
    """Imports the rows of `table` in the caller's transaction; see the module's docstring for the rules.

    Raises InvalidInput (before any row is read) when a column cannot be imported. Bad rows are reported in the
    result, each problem with its line; they never raise.
    """
    columns, ignored = map_columns(table.header, field_schema(session), options)
    report = ImportReport(
        options.kind,
        {table.header[index]: spec.name for index, spec in columns.items()},
        ignored,
        rows=len(table.rows),
        dry_run=options.dry_run,
    )
    write = _import_person if options.kind == "person" else _import_company
    owner_header = _header_of("company.owner", table.header, columns)
    everything = session.begin_nested()
    for done, (line, cells) in enumerate(table.rows, start=1):
        row = _check_row(line, cells, table.header, columns, options)
        if not row.problems:
            _check_owner(session, row, owner_header)
        if not row.problems:
            one = session.begin_nested()
            try:
                created = write(session, row, now)
                session.flush()
            except DBAPIError as exc:
                one.rollback()
                row.problems.append(RowProblem(line, None, f"The database refused the row: {exc.orig}"))
            else:
                if row.problems:
                    one.rollback()
                else:
                    one.commit()
                    report.created += created
                    report.updated += not created
        report.problems.extend(row.problems)
        if progress is not None:
            progress(done, len(table.rows))
    if options.dry_run or (options.all_or_nothing and report.problems):
        everything.rollback()
    else:
        everything.commit()
        report.written = True
    return report


def import_csv(
    session: Session, source: bytes | str, options: ImportOptions, now: datetime, progress: Progress | None = None
) -> ImportReport:
    """Reads a CSV file's content and imports it (see `read_csv` and `import_rows`)."""
    return import_rows(session, read_csv(source), options, now, progress)
