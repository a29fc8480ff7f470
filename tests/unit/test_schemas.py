"""Request models and the error translator, without HTTP or a database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from campaign_service.api.errors import validation_messages
from campaign_service.campaigns.schemas import (
    CampaignListQuery,
    CreateCampaignDTO,
    UpdateCampaignDTO,
)
from campaign_service.schema_types import PaginationMeta


def messages(model: type, data: object) -> list[str]:
    with pytest.raises(ValidationError) as raised:
        model.model_validate(data)
    return validation_messages(raised.value.errors())


def test_customer_count_spans_dial_plan_entries():
    dto = CreateCampaignDTO.model_validate(
        {
            "name": "n",
            "assistantId": "a",
            "dialPlan": [
                {"phoneNumberId": "p1", "customers": [{"number": "+14155550100"}] * 2},
                {"phoneNumberId": "p2", "customers": [{"number": "+14155550101"}] * 3},
            ],
        }
    )
    assert dto.customer_count() == 5


def test_default_max_concurrency_is_not_marked_as_sent():
    dto = CreateCampaignDTO.model_validate(
        {
            "name": "n",
            "assistantId": "a",
            "phoneNumberId": "p",
            "customers": [{"number": "+14155550100"}],
            "maxConcurrency": None,
        }
    )
    assert dto.maxConcurrency == 10
    assert "maxConcurrency" not in dto.model_fields_set


def test_update_config_fields_exclude_name_and_status():
    dto = UpdateCampaignDTO.model_validate(
        {"name": "n", "status": "ended", "squadId": "s", "assistantId": None}
    )
    assert dto.config_fields() == {"squadId"}
    assert UpdateCampaignDTO.model_validate({}).config_fields() == set()


def test_messages_name_the_json_path():
    found = messages(
        CreateCampaignDTO,
        {
            "name": "n",
            "assistantId": "a",
            "phoneNumberId": "p",
            "extra": 1,
            "customers": [{"number": "+14155550100"}, {"number": "x"}],
        },
    )
    assert "property extra should not exist" in found
    assert any(m.startswith("customers.1.number must have at least 3 characters") for m in found)


def test_rule_messages_are_listed_separately():
    found = messages(CreateCampaignDTO, {"name": "n", "workflowId": "w", "squadId": "s"})
    assert found == [
        "only one of assistantId, workflowId or squadId can be used (got workflowId, squadId)",
        "phoneNumberId is required when dialPlan is not provided",
        "customers is required when dialPlan is not provided",
    ]


def test_list_query_accepts_integral_floats_and_ignores_unknown_keys():
    query = CampaignListQuery.model_validate({"page": "2.0", "limit": "10.0", "cursor": "x"})
    assert (query.page, query.limit) == (2, 10)


@pytest.mark.parametrize(
    ("total", "page", "limit", "pages", "has_next"),
    [
        (0, 1, 100, 0, False),
        (5, 1, 2, 3, True),
        (5, 3, 2, 3, False),
        (4, 2, 2, 2, False),
        (4, 9, 2, 2, False),
        (7, 1, 0, 0, False),
        (1000, 1, 1000, 1, False),
        (1001, 1, 1000, 2, True),
    ],
)
def test_pagination_meta(total, page, limit, pages, has_next):
    meta = PaginationMeta.for_page(total=total, page=page, limit=limit, sort_order="ASC")
    assert meta.totalPages == pages
    assert meta.hasNextPage is has_next
    assert (meta.itemsPerPage, meta.totalItems, meta.currentPage) == (limit, total, page)
    assert meta.sortOrder == "ASC"
