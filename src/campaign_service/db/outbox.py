"""SQL fragments that write campaign events to the outbox in the statement that makes the
change they report (set-based: one INSERT ... SELECT per statement, whatever the batch size).

Only campaigns that list the event in `serverMessages` and have a `server.url` get a row. The
payload is the inner `message` of what is POSTed (`{"message": payload}`); README.md documents
every type. Each row's `event_id` (a random UUID given at insert) is the delivery's stable id.
"""

from __future__ import annotations

from campaign_service.calls.status import CallStatus, SkipReason

NOW_MS = "(extract(epoch FROM CAST(:now AS timestamptz)) * 1000)::bigint"

SUBSCRIBED = """
    cc.extra_config -> 'serverMessages' @> jsonb_build_array(ev.type)
    AND cc.extra_config -> 'server' ->> 'url' IS NOT NULL"""

# The contact's event type for a call that was just ended or placed; `x` has status,
# started_at, ended_reason and skip_reason. Ended calls are told apart as the v2 contact
# statuses are (readmodel/contacts.py), so an event and the contact's status always agree.
CONTACT_EVENT_TYPE = f"""
    CASE
      WHEN x.status <> '{CallStatus.ENDED.value}' THEN 'contact.dispatched'
      WHEN x.skip_reason = '{SkipReason.PREDIAL_FAILED.value}' THEN 'contact.predial-failed'
      WHEN x.skip_reason IS NOT NULL THEN 'contact.skipped'
      WHEN x.started_at IS NOT NULL THEN 'contact.completed'
      WHEN x.ended_reason = ANY(CAST(:unplaced_reasons AS text[])) THEN 'contact.skipped'
      ELSE 'contact.failed'
    END"""


def contact_events(name: str, source: str, order: str = "") -> str:
    """A CTE `name` that writes the contact events of the calls in CTE `source`, which must
    return id, campaign_id, org_id, customer, attempt_number, contact_id, status, started_at,
    ended_reason, skip_reason. Needs :now and :unplaced_reasons. `order` (columns of `x`, the
    source's rows) is the order the events are written in, hence delivered in."""
    order_by = f"ORDER BY {order}" if order else ""
    return f"""{name} AS (
        INSERT INTO event_outbox (campaign_id, org_id, type, payload, created_at,
                                  next_attempt_at)
        SELECT x.campaign_id, x.org_id, ev.type,
               jsonb_build_object(
                 'type', ev.type, 'timestamp', {NOW_MS}, 'campaignId', x.campaign_id,
                 'contact', jsonb_strip_nulls(jsonb_build_object(
                     'id', COALESCE(x.contact_id, x.id), 'attempt', x.attempt_number,
                     'number', x.customer -> 'number', 'sipUri', x.customer -> 'sipUri',
                     'name', x.customer -> 'name', 'externalId', x.customer -> 'externalId')),
                 'customer', x.customer,
                 'call', jsonb_strip_nulls(jsonb_build_object(
                     'id', x.id, 'status', x.status, 'endedReason', x.ended_reason,
                     'skipReason', x.skip_reason))),
               :now, :now
        FROM {source} x JOIN campaigns cc ON cc.id = x.campaign_id
        CROSS JOIN LATERAL (SELECT {CONTACT_EVENT_TYPE} AS type) ev
        WHERE {SUBSCRIBED}
        {order_by}
    )"""


# Counters of a campaign's calls as the campaign events carry them (`m` is the campaign).
COUNTERS = f"""(SELECT jsonb_build_object(
        'calls', count(*),
        'callsEnded', count(*) FILTER (WHERE k.status = '{CallStatus.ENDED.value}'),
        'placed', count(*) FILTER (WHERE k.provider_call_id IS NOT NULL),
        'skipped', count(*) FILTER (WHERE k.skip_reason IS NOT NULL
                                    AND k.skip_reason <> '{SkipReason.PREDIAL_FAILED.value}'),
        'predialFailed', count(*) FILTER (
            WHERE k.skip_reason = '{SkipReason.PREDIAL_FAILED.value}'))
    FROM calls k WHERE k.campaign_id = m.id)"""


def campaign_events(name: str, source: str) -> str:
    """A CTE `name` that writes the event :event for each campaign in CTE `source` (id,
    org_id, and the new status and ended_reason). Needs :now and :event."""
    return f"""{name} AS (
        INSERT INTO event_outbox (campaign_id, org_id, type, payload, created_at,
                                  next_attempt_at)
        SELECT m.id, m.org_id, ev.type,
               jsonb_strip_nulls(jsonb_build_object(
                 'type', ev.type, 'timestamp', {NOW_MS}, 'campaignId', m.id,
                 'name', cc.name, 'status', m.status, 'endedReason', m.ended_reason,
                 'counters', {COUNTERS})),
               :now, :now
        FROM {source} m JOIN campaigns cc ON cc.id = m.id
        CROSS JOIN LATERAL (SELECT CAST(:event AS text) AS type) ev
        WHERE ev.type IS NOT NULL AND {SUBSCRIBED}
    )"""
