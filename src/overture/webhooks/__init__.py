"""Webhooks: endpoints subscribe to event types (every activity type, person created and updated), and each event
is a delivery row written before it is sent (the outbox pattern), signed by the Standard Webhooks specification,
retried for about a day, logged attempt by attempt (docs/webhooks.md)."""
