"""Account routing's table: accounts (a company by name and domain) and the agent who owns each. A visitor of a
listed account books with its owner before any card's routing (booking.py asks `owner_for`).

Domains are stored lower-case without "www." (a pasted web address gives its domain); a visitor's domain matches an
account of the same domain or of a parent domain ("eu.acme.com" is Acme's).

CSV upload: columns company name (optional: the domain names the company when missing), domain and owner email,
recognised by any usual header ("Company", "Account name", "Website", "Owner", "Agent email"...); other columns are
listed as ignored. BOM and ';' delimiters are read (people/importing.py's reader). Each bad row is reported by the
file's physical line with its reason (unknown agent, bad domain, a domain given twice) and the good rows are kept,
or nothing at all is written when the upload asks for all-or-nothing. A domain already in the table takes the
row's company name and owner: the file is the newer list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from overture.errors import Conflict, InvalidInput, NotFound, Problem
from overture.people.email_domains import company_name as name_of_domain
from overture.people.import_values import BadValue, parse_domain
from overture.people.importing import RowProblem, read_csv
from overture.scheduling.models import AccountOwner, Agent
from overture.scheduling.teams import agent_for_email, check_text, collect

MAX_ROWS = 50_000
MAX_BYTES = 5 * 1024 * 1024
# Header words (compared without case, spaces, _ or -) that name each column.
HEADERS: dict[str, frozenset[str]] = {
    "company_name": frozenset(
        {"company", "company name", "companyname", "company.name", "account", "account name", "name", "organization"}
    ),
    "domain": frozenset(
        {"domain", "company domain", "company.domain", "website", "web site", "url", "site", "account domain"}
    ),
    "owner": frozenset(
        {
            "owner",
            "owner email",
            "owner e mail",
            "account owner",
            "agent",
            "agent email",
            "email",
            "company.owner",
            "sales rep",
            "rep",
        }
    ),
}
LABELS = {"company_name": "company name", "domain": "domain", "owner": "owner email"}


@dataclass
class AccountImport:
    """What an upload did. `problems` name the file's physical lines (the header is line 1)."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # header -> what it was read as
    ignored: list[str] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    all_or_nothing: bool = False
    # False when all-or-nothing met a bad row: nothing was changed.
    written: bool = False

    @property
    def bad_lines(self) -> list[int]:
        return sorted({problem.line for problem in self.problems})

    def summary(self) -> str:
        if not self.written:
            return f"Nothing was imported: {len(self.bad_lines)} bad rows of {self.rows}."
        return f"Added {self.added}, updated {self.updated}, bad {len(self.bad_lines)} of {self.rows} rows."


# --- one account ----------------------------------------------------------------------------------------------


def normalize_domain(text: str, path: str = "domain") -> str:
    """The domain as stored: lower case, no "www.", no scheme or path. Raises InvalidInput."""
    try:
        return parse_domain(text)
    except BadValue as exc:
        raise InvalidInput(f"'{text}' is not a domain.", [Problem(path, str(exc))]) from None


def _company_name(text: str, *, required: bool = False) -> str:
    """The name on one line (a name pasted across lines is joined with spaces). Raises InvalidInput."""
    return check_text(" ".join(text.split()), "company_name", 200, required=required)


def _owner(session: Session, email: str, path: str = "owner") -> Agent:
    agent = agent_for_email(session, email)
    if agent is None:
        raise InvalidInput(
            f"{email} is not an agent.", [Problem(path, f"No agent has the email {email}: pick an agent.")]
        )
    if not agent.user.is_active:
        raise InvalidInput(f"{email} is deactivated.", [Problem(path, f"The agent {email} is deactivated.")])
    return agent


def list_accounts(session: Session) -> list[AccountOwner]:
    return list(session.scalars(select(AccountOwner).order_by(func.lower(AccountOwner.company_name), AccountOwner.id)))


def get(session: Session, account_id: int) -> AccountOwner:
    account = session.get(AccountOwner, account_id)
    if account is None:
        raise NotFound(f"There is no account {account_id}.")
    return account


def by_domain(session: Session, domain: str) -> AccountOwner | None:
    return session.scalar(select(AccountOwner).where(AccountOwner.domain == domain))


def add(session: Session, company_name: str, domain: str, owner_email: str) -> AccountOwner:
    """Adds an account. Raises InvalidInput listing every bad value, Conflict when the domain is listed already."""
    checked: dict[str, object] = {}
    problems = collect(
        lambda: checked.update(name=_company_name(company_name)),
        lambda: checked.update(domain=normalize_domain(domain)),
        lambda: checked.update(owner=_owner(session, owner_email)),
    )
    if problems:
        raise InvalidInput("The account cannot be added.", problems)
    stored_domain = str(checked["domain"])
    existing = by_domain(session, stored_domain)
    if existing is not None:
        raise Conflict(
            f"{stored_domain} is already listed, as {existing.company_name}.",
            [Problem("domain", "This domain is already listed: change that account instead.")],
        )
    owner = checked["owner"]
    assert isinstance(owner, Agent)
    account = AccountOwner(
        company_name=str(checked["name"]) or name_of_domain(stored_domain), domain=stored_domain, agent_id=owner.id
    )
    session.add(account)
    session.flush()
    return account


def update(
    session: Session,
    account: AccountOwner,
    *,
    company_name: str | None = None,
    domain: str | None = None,
    owner_email: str | None = None,
) -> AccountOwner:
    """Changes what is given (None: unchanged). Raises InvalidInput listing every bad value, Conflict when the new
    domain belongs to another account."""
    checked: dict[str, object] = {}
    problems = collect(
        lambda: company_name is None or checked.update(name=_company_name(company_name, required=True)),
        lambda: domain is None or checked.update(domain=normalize_domain(domain)),
        lambda: owner_email is None or checked.update(owner=_owner(session, owner_email)),
    )
    if problems:
        raise InvalidInput("The account cannot be changed.", problems)
    if "domain" in checked:
        other = by_domain(session, str(checked["domain"]))
        if other is not None and other.id != account.id:
            raise Conflict(
                f"{checked['domain']} is already listed, as {other.company_name}.",
                [Problem("domain", "Another account has this domain.")],
            )
        account.domain = str(checked["domain"])
    if "name" in checked:
        account.company_name = str(checked["name"])
    owner = checked.get("owner")
    if isinstance(owner, Agent):
        account.agent_id = owner.id
    session.flush()
    return account


def remove(session: Session, account: AccountOwner) -> None:
    session.delete(account)
    session.flush()


def owner_for(session: Session, domains: Sequence[str]) -> AccountOwner | None:
    """The account of the first of `domains` (e.g. the visitor's company domain, then their email domain) that is
    listed, itself or through a parent domain (the closest one wins). Blank or malformed domains are passed over."""
    for text in domains:
        try:
            domain = parse_domain(text or "")
        except BadValue:
            continue
        labels = domain.split(".")
        # acme.com, then its parents down to two labels: "eu.acme.com" -> ["eu.acme.com", "acme.com"].
        candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
        found = {a.domain: a for a in session.scalars(select(AccountOwner).where(AccountOwner.domain.in_(candidates)))}
        for candidate in candidates:
            if candidate in found:
                return found[candidate]
    return None


# --- CSV ------------------------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Which column holds what, and the headers ignored. Raises InvalidInput when the domain or owner column is
    missing or a column is given twice."""
    found: dict[str, int] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for index, name in enumerate(header):
        role = next((role for role, words in HEADERS.items() if _plain(name) in words), None)
        if role is None:
            ignored.append(name or f"(column {index + 1})")
        elif role in found:
            problems.append(Problem(name, f"Two columns give the {LABELS[role]}: '{header[found[role]]}' and this."))
        else:
            found[role] = index
    for role in ("domain", "owner"):
        if role not in found:
            problems.append(
                Problem(
                    LABELS[role], f"The file needs a column for the {LABELS[role]} (e.g. '{LABELS[role].title()}')."
                )
            )
    if problems:
        raise InvalidInput("The columns of the file cannot be read; nothing was imported.", problems)
    return found, ignored


def _existing(session: Session, domains: list[str]) -> dict[str, AccountOwner]:
    """The accounts of `domains`, read in chunks (databases limit the parameters of one query)."""
    found: dict[str, AccountOwner] = {}
    for start in range(0, len(domains), 1000):
        chunk = domains[start : start + 1000]
        found.update((a.domain, a) for a in session.scalars(select(AccountOwner).where(AccountOwner.domain.in_(chunk))))
    return found


def import_csv(session: Session, source: bytes | str, *, all_or_nothing: bool = False) -> AccountImport:
    """Reads the CSV file and adds or updates its accounts in the caller's transaction (see the module's docstring).
    Raises InvalidInput (before any row) when the file is not CSV or its columns cannot be read; bad rows are in
    the report, never raised."""
    if len(source) > MAX_BYTES:
        raise InvalidInput(f"The file is too large: upload at most {MAX_BYTES // (1024 * 1024)} MB at a time.")
    table = read_csv(source)
    if len(table.rows) > MAX_ROWS:
        raise InvalidInput(f"The file has {len(table.rows)} rows: upload at most {MAX_ROWS:,} at a time.")
    columns, ignored = _columns(table.header)
    report = AccountImport(
        rows=len(table.rows),
        columns={table.header[index]: LABELS[role] for role, index in columns.items()},
        ignored=ignored,
        all_or_nothing=all_or_nothing,
    )
    seen: dict[str, int] = {}  # domain -> the line that gave it
    owners: dict[str, Agent | None] = {}
    good: list[tuple[str, str, Agent]] = []
    for line, cells in table.rows:

        def cell(role: str, cells: list[str] = cells) -> str:
            index = columns.get(role)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        def bad(role: str | None, message: str, line: int = line) -> None:
            column = table.header[columns[role]] if role in columns else None
            report.problems.append(RowProblem(line, column, message))

        before = len(report.problems)
        if len(cells) > len(table.header):
            bad(None, f"The row has {len(cells)} cells but the header names {len(table.header)} columns.")
            continue
        raw_domain, email, name = cell("domain"), cell("owner"), cell("company_name")
        domain, owner = "", None
        if not raw_domain:
            bad("domain", "The domain is empty.")
        else:
            try:
                domain = parse_domain(raw_domain)
            except BadValue as exc:
                bad("domain", f"Bad domain: {exc}")
        if domain and domain in seen:
            bad("domain", f"Duplicate: {domain} is already given on line {seen[domain]}.")
        if not email:
            bad("owner", "The owner email is empty.")
        else:
            if email.lower() not in owners:
                owners[email.lower()] = agent_for_email(session, email)
            owner = owners[email.lower()]
            if owner is None:
                bad("owner", f"Unknown agent: no agent has the email {email}.")
            elif not owner.user.is_active:
                bad("owner", f"The agent {email} is deactivated.")
        try:
            name = _company_name(name)
        except InvalidInput as exc:
            bad("company_name", exc.message)
        if domain and domain not in seen:
            seen[domain] = line
        if len(report.problems) == before and owner is not None:
            good.append((name or name_of_domain(domain), domain, owner))
    if all_or_nothing and report.problems:
        return report
    existing = _existing(session, [domain for _, domain, _ in good])
    for name, domain, owner in good:
        account = existing.get(domain)
        if account is None:
            session.add(AccountOwner(company_name=name, domain=domain, agent_id=owner.id))
            report.added += 1
        else:
            account.company_name, account.agent_id = name, owner.id
            report.updated += 1
    session.flush()
    report.written = True
    return report
