"""Integrations with other systems (Marketo, webhooks and later ones): none exists yet; this states their shape.

They follow the calendar providers' (calendars/registry.py), itself healthchecks' `TRANSPORTS`:

- one module (or package: `integrations/marketo/`) per integration, each with the same entry points: its `NAME`
  (the key stored with its rows; never changed), its `LABEL` for people, its setup help for the operator (what
  to register, which settings to set), a check of an account over the network that returns what to store (settings
  that may be shown, a secret kept encrypted), and opening a client from what is stored;
- one `integrations/registry.py` with `INTEGRATIONS: dict[str, IntegrationModule]` keyed by that name, built
  from one line per module, and a `Protocol` that mypy checks every module against;
- nothing else names an integration: the admin pages, the API, the jobs that deliver and the domain go through
  the registry. Adding an integration is its module and its registry line.

Work that leaves the process is a row first, written in the transaction of the change that causes it, and
delivered by a job through the outbound client (`http.py`) and its bounds; tests run it against a local fake of the
remote service under tests/fakes/.
"""
