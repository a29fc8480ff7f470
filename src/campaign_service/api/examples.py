"""Request examples shown in the OpenAPI docs."""

from __future__ import annotations

from typing import Any

from fastapi.openapi.models import Example

CREATE_EXAMPLES: dict[str, Example] = {
    "single-number": {
        "summary": "One caller number, start now",
        "value": {
            "name": "Q2 Sales Campaign",
            "assistantId": "asst_sales_q2",
            "phoneNumberId": "pn_main_line",
            "maxConcurrency": 5,
            "customers": [
                {"number": "+14155550101", "name": "Ada Lovelace"},
                {
                    "number": "+14155550102",
                    "name": "Alan Turing",
                    "assistantOverrides": {"variableValues": {"plan": "gold"}},
                },
            ],
        },
    },
    "dial-plan-scheduled": {
        "summary": "Dial plan with a schedule window",
        "value": {
            "name": "Renewal reminders",
            "squadId": "squad_renewals",
            "dialPlan": [
                {"phoneNumberId": "pn_us_east", "customers": [{"number": "+12125550123"}]},
                {"phoneNumberId": "pn_us_west", "customers": [{"number": "+14155550199"}]},
            ],
            "schedulePlan": {
                "earliestAt": "2030-01-15T15:00:00Z",
                "latestAt": "2030-01-15T23:00:00Z",
            },
        },
    },
}

UPDATE_EXAMPLES: dict[str, Example] = {
    "end": {"summary": "End the campaign", "value": {"status": "ended"}},
    "reschedule": {
        "summary": "Reschedule (only while scheduled)",
        "value": {"schedulePlan": {"earliestAt": "2030-02-01T15:00:00Z"}, "maxConcurrency": 3},
    },
    "rename": {"summary": "Rename", "value": {"name": "Q2 Sales Campaign (wave 2)"}},
}

__all__: list[Any] = ["CREATE_EXAMPLES", "UPDATE_EXAMPLES"]
