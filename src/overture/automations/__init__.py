"""Automations (docs/automations.md): "when ACTIVITY (filtered on its attributes and on the person's and company's
fields) then ACTIONS". `actions.py` holds the registry of what an automation can do (integrations add theirs),
`matching.py` decides whether an activity triggers an automation, `service.py` keeps automations and previews one
against a recent activity, `runner.py` runs them as the activity feed's consumer, once per (automation, activity).
"""
