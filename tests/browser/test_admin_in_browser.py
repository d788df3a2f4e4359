"""The admin in a real browser (Chromium): signing in and out, the Users page, roles, and the Content-Security-Policy.

Each test is what a person would notice. Screenshots go to $OVERTURE_SCREENSHOTS (or the test's tmp_path).
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, Playwright, expect

from pages import area_links, heading, shoot, sign_in
from support import Personas

ALL_AREAS = [
    "Dialogues",
    "Configuration",
    "Calendar",
    "Meetings",
    "Routing",
    "People",
    "Programs",
    "Conversations",
    "Reports",
    "Integrations",
    "Users",
    "Outbox",
]
MARKETER_AREAS = ["Dialogues", "Configuration", "People", "Programs", "Conversations", "Reports"]
AGENT_AREAS = ["Calendar", "Meetings"]
CSP = "Content Security Policy"


def test_an_admin_signs_in_with_the_keyboard_alone_and_sees_every_area(
    page: Page, personas: Personas, screenshots: Path
) -> None:
    alice = personas.alice
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/admin/login\?next=/admin$"))
    email, password = page.get_by_label("Email"), page.get_by_label("Password")
    expect(email).to_be_focused()  # autofocus: typing can start at once

    page.keyboard.type(alice.email)
    page.keyboard.press("Tab")
    expect(password).to_be_focused()
    page.keyboard.type(alice.password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    shoot(page, screenshots, "login.png")
    page.keyboard.press("Shift+Tab")
    expect(password).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(heading(page)).to_have_text("Welcome, Alice")
    expect(page.get_by_text("Signed in as alice@example.com (Admin).")).to_be_visible()
    expect(area_links(page)).to_have_text(ALL_AREAS)
    expect(page.get_by_role("link", name="Alice")).to_have_attribute("href", "/admin/account")
    shoot(page, screenshots, "admin-home.png")

    # The areas can be opened from the keyboard too: Tab from the brand into the navigation, Enter on a link.
    page.get_by_role("link", name="Overture", exact=True).focus()
    page.keyboard.press("Tab")
    expect(area_links(page).first).to_be_focused()
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Dialogues")
    expect(area_links(page).filter(has_text="Dialogues")).to_have_attribute("aria-current", "page")


def test_a_wrong_password_says_so_and_keeps_the_email(page: Page, personas: Personas, screenshots: Path) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(personas.alice.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text("The email or password is not right.")
    expect(page.get_by_label("Email")).to_have_value(personas.alice.email)
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("navigation", name="Areas")).to_have_count(0)
    shoot(page, screenshots, "login-error.png")


def test_an_admin_adds_a_user_and_creates_and_revokes_their_api_token(
    page: Page, personas: Personas, playwright: Playwright, live_server: str, screenshots: Path
) -> None:
    sign_in(page, personas.alice.email, personas.alice.password)
    area_links(page).filter(has_text="Users").click()
    expect(heading(page)).to_have_text("Users")
    expect(area_links(page).filter(has_text="Users")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("row").filter(has_text="carol@example.com")).to_contain_text("Deactivated")
    shoot(page, screenshots, "admin-users.png")

    form = page.locator("form").filter(has=page.get_by_role("button", name="Add and send a password link"))
    form.get_by_label("Email").fill("dana@example.com")
    form.get_by_label("Name").fill("Dana Reyes")
    form.get_by_label("Role").select_option(label="Agent")
    form.get_by_role("button", name="Add and send a password link").click()

    expect(heading(page)).to_have_text("Dana Reyes")
    expect(page.get_by_text("dana@example.com · Agent · Active")).to_be_visible()
    added = page.locator(".flash-success")
    expect(added).to_contain_text("dana@example.com is added as Agent. A link to choose a password was mailed.")
    expect(added.get_by_role("link", name="Read the mail in the Outbox")).to_be_visible()
    shoot(page, screenshots, "admin-user-added.png")
    dana_page = page.url
    page.reload()
    expect(page.locator(".flash")).to_have_count(0)  # a reload shows the page again; it does not add Dana twice

    page.get_by_label("Token name").fill("reporting script")
    page.get_by_role("button", name="Create token").click()
    shown = page.get_by_role("status").filter(has_text="The new API token reporting script")
    expect(shown).to_contain_text("Copy it now: it is not shown again.")
    secret_code = shown.locator("code")
    expect(secret_code).to_have_text(re.compile(r"^ovt_\S{30,}$"))
    secret = secret_code.inner_text()
    row = page.get_by_role("row").filter(has_text="reporting script")
    expect(row).to_contain_text("Active")
    expect(row.locator("code")).to_have_text(secret[:12] + "…")
    shoot(page, screenshots, "admin-user-token.png")

    # The token shown is the real one: it opens the API as Dana until it is revoked.
    api = playwright.request.new_context(base_url=live_server, extra_http_headers={"Authorization": f"Bearer {secret}"})
    try:
        me = api.get("/api/v1/admin/me")
        assert me.status == 200 and me.json()["email"] == "dana@example.com"

        row.get_by_role("button", name="Revoke").click()
        expect(page.locator(".flash-success")).to_have_text("The token reporting script is revoked.")
        expect(page.get_by_text(secret)).to_have_count(0)
        expect(row).to_contain_text("Revoked")
        expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
        shoot(page, screenshots, "admin-user-revoked.png")

        assert api.get("/api/v1/admin/me").status == 401
    finally:
        api.dispose()

    # The invitation waits in the Outbox (no job runs in these tests), with its one-time link.
    assert page.url == dana_page
    area_links(page).filter(has_text="Outbox").click()
    mail = page.get_by_role("row").filter(has_text="dana@example.com")
    expect(mail).to_contain_text("Your Overture account")
    expect(mail).to_contain_text("Password link")
    shoot(page, screenshots, "admin-outbox-invite.png")
    mail.get_by_role("link", name="Your Overture account").click()
    expect(heading(page)).to_have_text("Your Overture account")
    expect(page.locator(".mail-body").first).to_contain_text(re.compile(r"/admin/reset/\S{20,}"))
    shoot(page, screenshots, "admin-outbox-message.png")


def test_a_marketer_sees_no_users_area_and_is_not_allowed_there(
    page: Page, personas: Personas, screenshots: Path
) -> None:
    sign_in(page, personas.mark.email, personas.mark.password)
    expect(area_links(page)).to_have_text(MARKETER_AREAS)
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    shoot(page, screenshots, "marketer-home.png")

    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
    expect(heading(page)).to_have_text("Not allowed")
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^Your role .* does not give access to Users\.$"))
    expect(page.get_by_role("link", name="Back to the start")).to_be_visible()
    shoot(page, screenshots, "marketer-not-allowed.png")


def test_the_sign_out_button_signs_out(page: Page, personas: Personas, screenshots: Path) -> None:
    sign_in(page, personas.bob.email, personas.bob.password)
    expect(area_links(page)).to_have_text(AGENT_AREAS)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/admin/login$"))
    expect(heading(page)).to_have_text("Sign in to Overture")
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    shoot(page, screenshots, "signed-out.png")
    page.goto("/admin/meetings")
    expect(page).to_have_url(re.compile(r"/admin/login\?next=/admin/meetings$"))


def test_the_admin_pages_send_a_strict_csp_and_break_none_of_it(
    page: Page, personas: Personas, console_errors: list[str], screenshots: Path
) -> None:
    def visit(path: str, shot: str) -> None:
        response = page.goto(path)
        assert response is not None and response.ok, path
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "style-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        expect(page.locator("main h1")).to_be_visible()
        # The stylesheet applied (a blocked one would leave the browser's default white page).
        expect(page.locator("html")).to_have_css("background-color", "rgb(246, 247, 250)")
        shoot(page, screenshots, shot)

    visit("/admin/login", "login-page.png")
    sign_in(page, personas.alice.email, personas.alice.password)
    visit("/admin", "admin-home-csp.png")
    visit("/admin/users", "admin-users-csp.png")
    visit(f"/admin/users/{personas.bob.id}", "admin-user-bob.png")
    visit("/admin/account", "admin-account.png")
    visit("/admin/outbox", "admin-outbox.png")
    for area in ("dialogues", "configuration", "calendar", "meetings", "routing", "people", "reports", "integrations"):
        visit(f"/admin/{area}", f"admin-{area}.png")

    assert console_errors == []


def test_a_csp_violation_would_be_noticed(page: Page, console_errors: list[str]) -> None:
    """Checks the check above: an inline script and an inline style are refused, and the refusal is reported."""
    page.goto("/admin/login")
    with page.expect_console_message(lambda message: CSP in message.text):
        page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.ran = true';"
            " document.body.append(s); }"
        )
    with page.expect_console_message(lambda message: CSP in message.text):
        page.evaluate("() => document.body.setAttribute('style', 'background: red')")

    assert page.evaluate("() => window.ran") is None
    expect(page.locator("body")).not_to_have_css("background-color", "rgb(255, 0, 0)")
    violations = [error for error in console_errors if CSP in error]
    assert len(violations) == 2, console_errors
    assert [error for error in console_errors if error not in violations] == []


def test_the_users_pages_on_a_phone(page: Page, personas: Personas, screenshots: Path) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, personas.alice.email, personas.alice.password)
    expect(area_links(page)).to_have_count(len(ALL_AREAS))
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    shoot(page, screenshots, "phone-admin-home.png")
    page.goto("/admin/users")
    expect(page.get_by_role("button", name="Add and send a password link")).to_be_visible()
    shoot(page, screenshots, "phone-admin-users.png")
    page.goto(f"/admin/users/{personas.bob.id}")
    expect(page.get_by_role("button", name="Create token")).to_be_visible()
    shoot(page, screenshots, "phone-admin-user.png")


def test_the_invitation_preview_on_a_sites_page_looks_as_the_mail_does(
    page: Page, personas: Personas, console_errors: list[str]
) -> None:
    sign_in(page, personas.alice.email, personas.alice.password)
    page.goto("/admin/configuration/sites/default")

    mail = page.frame_locator("#invitation-preview iframe")
    button = mail.get_by_role("link", name="Pick another time")
    expect(button).to_have_css("background-color", "rgb(31, 95, 191)")
    expect(mail.get_by_role("link", name="Cancel the meeting")).to_have_css("color", "rgb(31, 95, 191)")
    assert [error for error in console_errors if "Content Security Policy" in error] == []
