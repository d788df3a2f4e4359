"""Who may call a route, declared once: for each admin area (users/roles.py) a page guard and an API guard, plus any
signed-in user. A route names its area in its parameter's type (`user: RoutingPageUser`), so the same word means
the same area everywhere; tests/web/test_route_access.py proves every admin route carries one, and that no module
under web/ declares a guard of its own.

Pages sign in with the session cookie (a missing sign-in goes to the sign-in page); the API with a bearer token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from overture.users.models import User
from overture.users.roles import Area
from overture.web.deps import AnyUserGuard, AreaGuard

# Any signed-in user: the home page, their own account.
SignedInPageUser = Annotated[User, Depends(AnyUserGuard(api=False))]
SignedInApiUser = Annotated[User, Depends(AnyUserGuard(api=True))]

DialoguesPageUser = Annotated[User, Depends(AreaGuard(Area.dialogues, api=False))]
DialoguesApiUser = Annotated[User, Depends(AreaGuard(Area.dialogues, api=True))]
ConfigurationPageUser = Annotated[User, Depends(AreaGuard(Area.configuration, api=False))]
ConfigurationApiUser = Annotated[User, Depends(AreaGuard(Area.configuration, api=True))]
CalendarPageUser = Annotated[User, Depends(AreaGuard(Area.calendar, api=False))]
CalendarApiUser = Annotated[User, Depends(AreaGuard(Area.calendar, api=True))]
MeetingsPageUser = Annotated[User, Depends(AreaGuard(Area.meetings, api=False))]
MeetingsApiUser = Annotated[User, Depends(AreaGuard(Area.meetings, api=True))]
RoutingPageUser = Annotated[User, Depends(AreaGuard(Area.routing, api=False))]
RoutingApiUser = Annotated[User, Depends(AreaGuard(Area.routing, api=True))]
PeoplePageUser = Annotated[User, Depends(AreaGuard(Area.people, api=False))]
PeopleApiUser = Annotated[User, Depends(AreaGuard(Area.people, api=True))]
ProgramsPageUser = Annotated[User, Depends(AreaGuard(Area.programs, api=False))]
ProgramsApiUser = Annotated[User, Depends(AreaGuard(Area.programs, api=True))]
ConversationsPageUser = Annotated[User, Depends(AreaGuard(Area.conversations, api=False))]
ConversationsApiUser = Annotated[User, Depends(AreaGuard(Area.conversations, api=True))]
ReportsPageUser = Annotated[User, Depends(AreaGuard(Area.reports, api=False))]
ReportsApiUser = Annotated[User, Depends(AreaGuard(Area.reports, api=True))]
IntegrationsPageUser = Annotated[User, Depends(AreaGuard(Area.integrations, api=False))]
IntegrationsApiUser = Annotated[User, Depends(AreaGuard(Area.integrations, api=True))]
UsersPageUser = Annotated[User, Depends(AreaGuard(Area.users, api=False))]
UsersApiUser = Annotated[User, Depends(AreaGuard(Area.users, api=True))]
OutboxPageUser = Annotated[User, Depends(AreaGuard(Area.outbox, api=False))]
OutboxApiUser = Annotated[User, Depends(AreaGuard(Area.outbox, api=True))]

# Each area's page guard by its Area, for routes made in a loop (the areas whose pages are placeholders).
PAGE_USERS: dict[Area, Any] = {
    Area.dialogues: DialoguesPageUser,
    Area.configuration: ConfigurationPageUser,
    Area.calendar: CalendarPageUser,
    Area.meetings: MeetingsPageUser,
    Area.routing: RoutingPageUser,
    Area.people: PeoplePageUser,
    Area.programs: ProgramsPageUser,
    Area.conversations: ConversationsPageUser,
    Area.reports: ReportsPageUser,
    Area.integrations: IntegrationsPageUser,
    Area.users: UsersPageUser,
    Area.outbox: OutboxPageUser,
}
