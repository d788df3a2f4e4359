"""The fake Marketo's generated data set and its catalogues: lead and company fields, standard activity types.

A generated record is derived from its id and the seed each time it is read (nothing is kept per record), so a fake
of a million leads starts at once and holds no more memory than one of ten. Its shape follows Marketo:

- leads 1..N were created in id order over the two years before the anchor (the fake's clock when it was built):
  `createdAt` grows with the id, which lets a `createdAt` window map to an id range without a scan;
- companies 1..M likewise, each with a unique name, domain and `externalCompanyId` (`ACCT-000001`); a lead links to
  one through `externalCompanyId` and takes its email domain and company fields from it;
- activities 1..A (A = N x activities_per_lead) of the standard types fall evenly over the 90 days before the anchor,
  ids growing with time, each by a lead that existed then; about 2% of ids are holes (deleted activities), as in a
  real instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

MASK = (1 << 64) - 1
LEAD_SPAN = timedelta(days=730)
ACTIVITY_SPAN = timedelta(days=90)

# (name, displayName, dataType, length, updateable, numeric id); ids are stable, as Marketo's are per instance.
LEAD_FIELDS: tuple[tuple[str, str, str, int | None, bool, int], ...] = (
    ("id", "Id", "integer", None, False, 1),
    ("email", "Email Address", "email", 255, True, 48),
    ("firstName", "First Name", "string", 255, True, 31),
    ("lastName", "Last Name", "string", 255, True, 29),
    ("title", "Job Title", "string", 255, True, 32),
    ("phone", "Phone Number", "phone", 255, True, 44),
    ("company", "Company Name", "string", 255, True, 53),
    ("website", "Website", "url", 255, True, 58),
    ("industry", "Industry", "string", 255, True, 63),
    ("numberOfEmployees", "Num Employees", "integer", None, True, 61),
    ("annualRevenue", "Annual Revenue", "currency", None, True, 62),
    ("city", "City", "string", 255, True, 38),
    ("state", "State", "string", 255, True, 39),
    ("country", "Country", "string", 255, True, 41),
    ("postalCode", "Postal Code", "string", 255, True, 40),
    ("leadSource", "Lead Source", "string", 255, True, 46),
    ("leadStatus", "Lead Status", "string", 255, True, 55),
    ("leadScore", "Lead Score", "integer", None, True, 49),
    ("unsubscribed", "Unsubscribed", "boolean", None, True, 79),
    ("externalCompanyId", "External Company Id", "string", 100, True, 87),
    ("cookies", "Cookies", "string", 255, False, 80),
    ("sfdcLeadId", "SFDC Lead Id", "string", 18, False, 81),
    ("sfdcContactId", "SFDC Contact Id", "string", 18, False, 82),
    ("sfdcAccountId", "SFDC Account Id", "string", 18, False, 83),
    ("leadPartitionId", "Lead Partition Id", "integer", None, True, 84),
    ("productInterest", "Product Interest", "string", 255, True, 1101),  # custom field
    ("webinarAttendee", "Webinar Attendee", "boolean", None, True, 1102),  # custom field
    ("createdAt", "Created At", "datetime", None, False, 27),
    ("updatedAt", "Updated At", "datetime", None, False, 28),
)
LEAD_FIELD_NAMES = tuple(field[0] for field in LEAD_FIELDS)
LEAD_FIELD_TYPES = {field[0]: field[2] for field in LEAD_FIELDS}
LEAD_FIELD_IDS = {field[0]: field[5] for field in LEAD_FIELDS}
LEAD_FIELD_LABELS = {field[0]: field[1] for field in LEAD_FIELDS}
UPDATEABLE_LEAD_FIELDS = frozenset(field[0] for field in LEAD_FIELDS if field[4])
DEFAULT_LEAD_FIELDS = ("id", "email", "firstName", "lastName", "createdAt", "updatedAt")
# The legal filterType values (describe2's searchableFields); other standard fields answer 1011.
LEAD_SEARCHABLE = ("email", "id", "cookies", "sfdcLeadId", "sfdcContactId", "sfdcAccountId", "leadPartitionId",
                   "productInterest")  # fmt: skip
# A linked company's record wins over these lead fields (Marketo: a lead's company fields are the company's).
COMPANY_OWNED_LEAD_FIELDS = {"company": "company", "website": "website", "industry": "industry",
                             "numberOfEmployees": "numberOfEmployees", "annualRevenue": "annualRevenue"}  # fmt: skip

COMPANY_FIELDS: tuple[tuple[str, str, str, int | None, bool], ...] = (
    ("id", "Id", "integer", None, False),
    ("externalCompanyId", "External Company Id", "string", 100, False),
    ("company", "Company Name", "string", 255, True),
    ("website", "Website", "url", 255, True),
    ("mainPhone", "Main Phone", "phone", 255, True),
    ("industry", "Industry", "string", 255, True),
    ("numberOfEmployees", "Num Employees", "integer", None, True),
    ("annualRevenue", "Annual Revenue", "currency", None, True),
    ("billingCity", "Billing City", "string", 255, True),
    ("billingState", "Billing State", "string", 255, True),
    ("billingCountry", "Billing Country", "string", 255, True),
    ("billingPostalCode", "Billing Postal Code", "string", 255, True),
    ("createdAt", "Created At", "datetime", None, False),
    ("updatedAt", "Updated At", "datetime", None, False),
)
COMPANY_FIELD_NAMES = tuple(field[0] for field in COMPANY_FIELDS)
COMPANY_FIELD_TYPES = {field[0]: field[2] for field in COMPANY_FIELDS}
DEFAULT_COMPANY_FIELDS = ("id", "externalCompanyId", "company", "createdAt", "updatedAt")
COMPANY_SEARCHABLE = ("externalCompanyId", "id", "company")

# Standard activity types with Marketo's ids: id -> (name, primary attribute (name, type) or None, attributes).
ACTIVITY_TYPES: dict[int, tuple[str, tuple[str, str] | None, tuple[tuple[str, str], ...]]] = {
    1: ("Visit Webpage", ("Webpage ID", "integer"),
        (("Client IP Address", "string"), ("Query Parameters", "string"), ("Referrer URL", "string"),
         ("User Agent", "string"), ("Webpage URL", "string"))),
    2: ("Fill Out Form", ("Webform ID", "integer"),
        (("Client IP Address", "string"), ("Form Fields", "text"), ("Query Parameters", "string"),
         ("Referrer URL", "string"), ("User Agent", "string"), ("Webpage ID", "integer"))),
    3: ("Click Link", ("Link ID", "integer"),
        (("Client IP Address", "string"), ("Query Parameters", "string"), ("Referrer URL", "string"),
         ("User Agent", "string"), ("Webpage ID", "integer"))),
    6: ("Send Email", ("Mailing ID", "integer"), (("Campaign Run ID", "integer"), ("Step ID", "integer"))),
    7: ("Email Delivered", ("Mailing ID", "integer"), (("Campaign Run ID", "integer"), ("Step ID", "integer"))),
    8: ("Email Bounced", ("Mailing ID", "integer"), (("Category", "string"), ("Details", "string"),
                                                     ("Email", "email"))),
    9: ("Unsubscribe Email", ("Mailing ID", "integer"), (("Client IP Address", "string"), ("User Agent", "string"))),
    10: ("Open Email", ("Mailing ID", "integer"),
         (("Campaign Run ID", "integer"), ("Device", "string"), ("Is Mobile Device", "boolean"),
          ("Platform", "string"), ("User Agent", "string"))),
    11: ("Click Email", ("Mailing ID", "integer"),
         (("Campaign Run ID", "integer"), ("Device", "string"), ("Is Mobile Device", "boolean"), ("Link", "string"),
          ("Platform", "string"), ("User Agent", "string"))),
    12: ("New Lead", None, (("Created Date", "date"), ("Form Name", "string"), ("Lead Source", "string"),
                            ("Source Type", "string"))),
    13: ("Change Data Value", ("Attribute Name", "integer"),
         (("New Value", "string"), ("Old Value", "string"), ("Reason", "string"), ("Source", "string"))),
    22: ("Change Score", ("Attribute Name", "integer"),
         (("Change Value", "string"), ("New Value", "integer"), ("Old Value", "integer"), ("Reason", "string"))),
    24: ("Add to List", ("List ID", "integer"), (("Source", "string"),)),
    25: ("Remove from List", ("List ID", "integer"), (("Source", "string"),)),
    46: ("Interesting Moment", ("Milestone ID", "integer"), (("Description", "string"), ("Source", "string"),
                                                             ("Type", "string"))),
    104: ("Change Status in Progression", ("Program ID", "integer"),
          (("Acquired By", "boolean"), ("New Status", "string"), ("New Status ID", "integer"),
           ("Old Status", "string"), ("Old Status ID", "integer"), ("Reason", "string"), ("Success", "boolean"))),
}  # fmt: skip
# How often each type is generated (weights); 104 only when the fake has programs.
GENERATED_TYPES = ((1, 40), (10, 18), (6, 10), (11, 8), (3, 8), (2, 6), (22, 4), (104, 4), (46, 2))

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sofia", "Lucas", "Mia", "Ethan", "Amara", "Kenji", "Priya",
    "Arjun", "Chloe", "Diego", "Fatima", "Hiroshi", "Ingrid", "Jamal", "Katarina", "Luis", "Mei", "Nikolai", "Seun",
    "Paula", "Quentin", "Rosa", "Samir", "Tanvi", "Ursula", "Viktor", "Wen", "Ximena", "Yusuf", "Zara", "Aiko", "Bruno",
    "Camila", "Dmitri", "Elena", "Farid", "Grace", "Hana", "Ibrahim", "Julia", "Kwame", "Leila", "Marco", "Nadia",
    "Omar", "Petra", "Rahul", "Sven", "Tomas", "Valentina", "William", "Yara", "Zhang", "Anna",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Garcia", "Nguyen", "Kim", "Patel", "Müller", "Rossi", "Silva", "Tanaka", "Okafor", "Johansson", "Novak",
    "Dubois", "Kowalski", "Haddad", "Fernandez", "Chen", "Singh", "Brown", "Williams", "Jones", "Lopez", "Martin",
    "Wilson", "Anderson", "Taylor", "Moreau", "Schmidt", "Ivanova", "Costa", "Yamamoto", "Mensah", "Larsen", "Horvat",
    "Ali", "Rahman", "Murphy", "O'Brien", "Kelly", "Walsh", "Cohen", "Levi", "Park", "Choi", "Santos", "Pereira",
    "Bianchi", "Ricci", "Weber", "Fischer", "Jensen", "Nielsen", "Hughes", "Evans", "Clarke", "Reyes", "Cruz",
    "Morales", "Ortiz", "Baker",
)  # fmt: skip
COMPANY_PREFIXES = (
    "Blue", "North", "Bright", "Silver", "Red", "Iron", "Green", "Summit", "Clear", "Swift", "Golden", "Quiet", "Bold",
    "Stellar", "Pioneer", "Harbor", "Maple", "Cedar", "Atlas", "Nova", "Polar", "Crimson", "Vertex", "Lumen", "Orbit",
    "Prairie", "Coastal", "Granite", "Willow", "Falcon",
)  # fmt: skip
COMPANY_ROOTS = (
    "Ridge", "Wave", "Point", "Field", "Stone", "Bridge", "Path", "Leaf", "Peak", "Works", "Forge", "Signal", "Grid",
    "Loop", "Spark", "Line", "Gate", "Bay", "Trail", "Cloud", "Craft", "Labs", "Logic", "Mind", "Scale",
)  # fmt: skip
COMPANY_KINDS = ("Inc.", "Ltd", "GmbH", "Systems", "Analytics", "Health", "Software", "Partners", "Group", "Robotics")
TLDS = ("com", "io", "co", "net", "de", "co.uk", "fr", "ai")
INDUSTRIES = ("Software", "Healthcare", "Financial Services", "Manufacturing", "Retail", "Education", "Media",
              "Logistics", "Energy", "Telecommunications")  # fmt: skip
PLACES = (
    ("San Francisco", "CA", "United States", "94105"), ("New York", "NY", "United States", "10001"),
    ("Austin", "TX", "United States", "73301"), ("Chicago", "IL", "United States", "60601"),
    ("Toronto", "ON", "Canada", "M5H 2N2"), ("London", None, "United Kingdom", "EC1A 1BB"),
    ("Berlin", None, "Germany", "10115"), ("Paris", None, "France", "75001"), ("Madrid", None, "Spain", "28001"),
    ("Amsterdam", None, "Netherlands", "1012"), ("Sydney", "NSW", "Australia", "2000"),
    ("Tokyo", None, "Japan", "100-0001"), ("Singapore", None, "Singapore", "018956"),
    ("São Paulo", "SP", "Brazil", "01000-000"), ("Bangalore", "KA", "India", "560001"),
)  # fmt: skip
TITLES = ("Marketing Manager", "VP Marketing", "Head of Demand Generation", "Sales Director", "CTO", "Engineer",
          "Product Manager", "Operations Lead", "CFO", "Growth Marketer", "Account Executive", None)  # fmt: skip
LEAD_SOURCES = ("Website", "Webinar", "Trade Show", "Paid Search", "Referral", "Content Syndication", "Chat")
LEAD_STATUSES = ("New", "Working", "Nurture", "MQL", "SQL", "Disqualified")
PRODUCTS = ("Analytics", "Automation", "Chat", None, None)
PAGES = ("/", "/pricing", "/product", "/product/chat", "/webinars/spring-launch", "/blog/conversational-marketing",
         "/customers", "/contact", "/demo", "/careers")  # fmt: skip
FORMS = ("Contact Us", "Demo Request", "Webinar Registration", "Newsletter Signup")
MAILINGS = ("Spring Webinar Invite.Email 1", "Spring Webinar Invite.Email 2", "Product Newsletter - March",
            "Trial Nurture.Day 3", "Customer Story - Harbor Labs")  # fmt: skip
AGENTS = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Safari/605.1.15",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148")  # fmt: skip
SITE = "www.example.com"
EMAIL_ID = re.compile(r"(\d+)@")


def stamp(moment: datetime) -> str:
    """Marketo's datetime format: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mix(value: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer (the source of every generated value)."""
    value = (value + 0x9E3779B97F4A7C15) & MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("ü", "u").replace("'", ""))


@dataclass(frozen=True)
class Generated:
    """The generated records of one fake: `leads` leads, `companies` companies, their activities; all from `seed`."""

    leads: int
    companies: int
    seed: int
    anchor: datetime
    activities_per_lead: float = 2.0
    program_ids: tuple[int, ...] = ()
    # What a lead copies from its company, by company id: a small tuple each (a bulk export reads every lead).
    _linked: dict[int, tuple[Any, ...]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def activities(self) -> int:
        return round(self.leads * self.activities_per_lead)

    def _hash(self, kind: int, number: int) -> int:
        return mix(mix(self.seed * 1_000_003 + kind) ^ number)

    # -- leads ---------------------------------------------------------------------------------------------------

    def _lead_step(self) -> float:
        return LEAD_SPAN.total_seconds() / max(self.leads, 1)

    def lead_created(self, lead_id: int) -> datetime:
        """Grows with the id: lead i was created at step (i - 1 + a fraction) after the start of the span."""
        fraction = (self._hash(1, lead_id) & 0xFFFF) / 65536
        seconds = int((lead_id - 1 + fraction) * self._lead_step())
        return self.anchor - LEAD_SPAN + timedelta(seconds=seconds)

    def first_lead_from(self, moment: datetime) -> int:
        """The smallest lead id created at or after `moment` (leads + 1 when none is)."""
        offset = (moment - (self.anchor - LEAD_SPAN)).total_seconds()
        guess = min(max(int(offset / self._lead_step()), 1), self.leads + 1)
        while guess > 1 and self.lead_created(guess - 1) >= moment:
            guess -= 1
        while guess <= self.leads and self.lead_created(guess) < moment:
            guess += 1
        return guess

    def lead(self, lead_id: int) -> dict[str, Any] | None:
        """Every field of generated lead `lead_id`, or None when there is no such lead."""
        if not 1 <= lead_id <= self.leads:
            return None
        h = self._hash(2, lead_id)
        first, last = FIRST_NAMES[h % len(FIRST_NAMES)], LAST_NAMES[(h >> 8) % len(LAST_NAMES)]
        created = self.lead_created(lead_id)
        updated = min(created + timedelta(seconds=(h >> 16) % (60 * 86400)), self.anchor)
        city, state, country, postal = PLACES[(h >> 24) % len(PLACES)]
        company = self._linked_company(1 + (h >> 32) % self.companies) if self.companies else None
        domain = company[1].removeprefix("www.") if company else f"example{(h >> 40) % 3 + 1}.com"
        return {
            "id": lead_id,
            "email": f"{_slug(first)}.{_slug(last)}{lead_id}@{domain}",
            "firstName": first,
            "lastName": last,
            "title": TITLES[(h >> 44) % len(TITLES)],
            "phone": f"+1 555 {(h >> 20) % 900 + 100:03d} {(h >> 30) % 10000:04d}",
            "company": company[0] if company else None,
            "website": company[1] if company else None,
            "industry": company[2] if company else None,
            "numberOfEmployees": company[3] if company else None,
            "annualRevenue": company[4] if company else None,
            "city": city,
            "state": state,
            "country": country,
            "postalCode": postal,
            "leadSource": LEAD_SOURCES[(h >> 48) % len(LEAD_SOURCES)],
            "leadStatus": LEAD_STATUSES[(h >> 52) % len(LEAD_STATUSES)],
            "leadScore": (h >> 36) % 101,
            "unsubscribed": (h >> 56) % 20 == 0,
            "externalCompanyId": company[5] if company else None,
            "cookies": None,
            "sfdcLeadId": None,
            "sfdcContactId": None,
            "sfdcAccountId": None,
            "leadPartitionId": 1,
            "productInterest": PRODUCTS[(h >> 58) % len(PRODUCTS)],
            "webinarAttendee": (h >> 60) % 4 == 0,
            "createdAt": stamp(created),
            "updatedAt": stamp(updated),
        }

    def _linked_company(self, company_id: int) -> tuple[Any, ...]:
        found = self._linked.get(company_id)
        if found is None:
            record = self.company(company_id)
            assert record is not None, "a lead links to a generated company"
            found = tuple(record[name] for name in ("company", "website", "industry", "numberOfEmployees",
                                                    "annualRevenue", "externalCompanyId"))  # fmt: skip
            self._linked[company_id] = found
        return found

    def lead_id_of_email(self, email: str) -> int | None:
        """The generated lead whose generated email is `email` (the id is part of it), or None."""
        found = EMAIL_ID.search(email)
        if found is None:
            return None
        lead = self.lead(int(found[1]))
        return lead["id"] if lead is not None and lead["email"] == email.lower() else None

    # -- companies -----------------------------------------------------------------------------------------------

    def company(self, company_id: int) -> dict[str, Any] | None:
        """Every field of generated company `company_id`, or None. Names are unique: the id picks a combination
        through a bijection (multiplying by a number prime to their count), then a number once they run out."""
        if not 1 <= company_id <= self.companies:
            return None
        h = self._hash(3, company_id)
        combos = len(COMPANY_PREFIXES) * len(COMPANY_ROOTS) * len(COMPANY_KINDS)
        index = ((company_id - 1) * 7919 + self.seed) % combos
        prefix = COMPANY_PREFIXES[index % len(COMPANY_PREFIXES)]
        root = COMPANY_ROOTS[(index // len(COMPANY_PREFIXES)) % len(COMPANY_ROOTS)]
        kind = COMPANY_KINDS[index // (len(COMPANY_PREFIXES) * len(COMPANY_ROOTS))]
        lap = (company_id - 1) // combos
        name = f"{prefix}{root.lower()} {kind}" if lap == 0 else f"{prefix}{root.lower()} {lap + 1} {kind}"
        domain = f"{_slug(prefix + root + ('' if lap == 0 else str(lap + 1)) + kind)}.{TLDS[h % len(TLDS)]}"
        city, state, country, postal = PLACES[(h >> 8) % len(PLACES)]
        step = LEAD_SPAN.total_seconds() / self.companies
        created = self.anchor - LEAD_SPAN - timedelta(days=30) + timedelta(seconds=int((company_id - 1) * step))
        employees = (10, 50, 200, 1000, 5000, 20000)[(h >> 16) % 6]
        return {
            "id": company_id,
            "externalCompanyId": f"ACCT-{company_id:06d}",
            "company": name,
            "website": f"www.{domain}",
            "mainPhone": f"+1 555 {(h >> 20) % 900 + 100:03d} {(h >> 32) % 10000:04d}",
            "industry": INDUSTRIES[(h >> 24) % len(INDUSTRIES)],
            "numberOfEmployees": employees,
            "annualRevenue": float(employees * 150_000),
            "billingCity": city,
            "billingState": state,
            "billingCountry": country,
            "billingPostalCode": postal,
            "createdAt": stamp(created),
            "updatedAt": stamp(created + timedelta(days=(h >> 40) % 200)),
        }

    def company_id_of_external(self, external_id: str) -> int | None:
        found = re.fullmatch(r"ACCT-(\d{6,})", external_id)
        if found is None:
            return None
        number = int(found[1])
        return number if 1 <= number <= self.companies and external_id == f"ACCT-{number:06d}" else None

    # -- activities ----------------------------------------------------------------------------------------------

    def _activity_step(self) -> float:
        return ACTIVITY_SPAN.total_seconds() / max(self.activities, 1)

    def activity_date(self, activity_id: int) -> datetime:
        fraction = (self._hash(4, activity_id) & 0xFFFF) / 65536
        seconds = int((activity_id - 1 + fraction) * self._activity_step())
        return self.anchor - ACTIVITY_SPAN + timedelta(seconds=seconds)

    def first_activity_from(self, moment: datetime) -> int:
        """The smallest generated activity id dated at or after `moment` (activities + 1 when none is)."""
        offset = (moment - (self.anchor - ACTIVITY_SPAN)).total_seconds()
        guess = min(max(int(offset / self._activity_step()), 1), self.activities + 1)
        while guess > 1 and self.activity_date(guess - 1) >= moment:
            guess -= 1
        while guess <= self.activities and self.activity_date(guess) < moment:
            guess += 1
        return guess

    def activity_type(self, activity_id: int) -> int | None:
        """The type of generated activity `activity_id`, or None for a hole (cheap: no attributes are built)."""
        h = self._hash(5, activity_id)
        if h % 50 == 0:
            return None
        weights = [(t, w) for t, w in GENERATED_TYPES if t != 104 or self.program_ids]
        pick = (h >> 8) % sum(w for _, w in weights)
        for type_id, weight in weights:
            if pick < weight:
                return type_id
            pick -= weight
        raise AssertionError("unreachable: the weights cover the pick")

    def activity(self, activity_id: int) -> dict[str, Any] | None:
        """Generated activity `activity_id` as the activities endpoint shows it, or None (a hole, or no lead yet)."""
        if not 1 <= activity_id <= self.activities:
            return None
        type_id = self.activity_type(activity_id)
        when = self.activity_date(activity_id)
        existing = min(self.leads, int((when - (self.anchor - LEAD_SPAN)).total_seconds() / self._lead_step()))
        if type_id is None or existing < 1:
            return None
        h = self._hash(6, activity_id)
        lead_id = 1 + h % existing
        value_id, value, attributes = self._attributes(type_id, h, lead_id)
        return {
            "id": activity_id,
            "marketoGUID": str(activity_id),
            "leadId": lead_id,
            "activityDate": stamp(when),
            "activityTypeId": type_id,
            "primaryAttributeValueId": value_id,
            "primaryAttributeValue": value,
            "attributes": [{"name": name, "value": v} for name, v in attributes],
        }

    def _attributes(self, type_id: int, h: int, lead_id: int) -> tuple[int, str, list[tuple[str, Any]]]:
        ip = f"203.0.{(h >> 8) % 256}.{(h >> 16) % 256}"
        agent = AGENTS[(h >> 24) % len(AGENTS)]
        page = (h >> 28) % len(PAGES)
        mailing = (h >> 32) % len(MAILINGS)
        mobile = "iPhone" in agent
        if type_id == 1:
            url = f"{SITE}{PAGES[page]}"
            return 100 + page, url, [("Client IP Address", ip), ("Query Parameters", ""), ("Referrer URL", ""),
                                     ("User Agent", agent), ("Webpage URL", PAGES[page])]  # fmt: skip
        if type_id == 2:
            form = (h >> 36) % len(FORMS)
            return 1000 + form, FORMS[form], [("Client IP Address", ip), ("Form Fields", "email"),
                                              ("Query Parameters", ""), ("Referrer URL", f"https://{SITE}/"),
                                              ("User Agent", agent), ("Webpage ID", 100 + page)]  # fmt: skip
        if type_id == 3:
            return 500 + page, f"https://{SITE}{PAGES[page]}", [
                ("Client IP Address", ip), ("Query Parameters", ""), ("Referrer URL", ""), ("User Agent", agent),
                ("Webpage ID", 100 + page)]  # fmt: skip
        if type_id in (6, 10, 11):
            run = [("Campaign Run ID", 9000 + mailing)]
            if type_id == 6:
                return 2000 + mailing, MAILINGS[mailing], [*run, ("Step ID", 1)]
            seen = [("Device", "iPhone" if mobile else "Desktop"), ("Is Mobile Device", mobile),
                    ("Platform", "iOS" if mobile else "Desktop"), ("User Agent", agent)]  # fmt: skip
            if type_id == 11:
                seen.insert(2, ("Link", f"https://{SITE}{PAGES[page]}"))
            return 2000 + mailing, MAILINGS[mailing], [*run, *seen]
        if type_id == 22:
            change = (h >> 36) % 20 + 1
            return (
                LEAD_FIELD_IDS["leadScore"],
                "Lead Score",
                [
                    ("Change Value", f"+{change}"),
                    ("New Value", 40 + change),
                    ("Old Value", 40),
                    ("Reason", "Web visit"),
                ],
            )
        if type_id == 104:
            program = self.program_ids[(h >> 36) % len(self.program_ids)]
            return program, f"Program {program}", [
                ("Acquired By", False), ("New Status", "Attended"), ("New Status ID", 4), ("Old Status", "Registered"),
                ("Old Status ID", 3), ("Reason", "Attended event"), ("Success", True)]  # fmt: skip
        return 7000 + page, "Visited pricing twice", [("Description", "Visited pricing twice"), ("Source", "Web"),
                                                       ("Type", "Web")]  # fmt: skip
