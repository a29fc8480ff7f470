"""The console's CSV reader (static/js/csv.js), run in Chromium as the page runs it: Vapi's
dashboard rules, with every problem reported against its row."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from tests.console.conftest import RequestLog
from tests.ops.conftest import LiveServer

READ = "(text) => import('/console/static/js/csv.js').then((csv) => csv.readAudience(text))"


@pytest.fixture
async def page(browser: tuple[BrowserContext, RequestLog], running_server: LiveServer) -> Page:
    context, _ = browser
    page = context.pages[0] if context.pages else await context.new_page()
    await page.goto(f"{running_server.base_url}/console")
    return page


async def read(page: Page, text: str) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(READ, text)
    return result


async def bom_semicolons_crlf_and_quotes(page: Page) -> None:
    text = '\ufeffnumber;name;note\r\n+14155550101;"Lovelace; Ada";"said ""hi"""\r\n'
    audience = await read(page, text)
    assert audience["errors"] == []
    assert audience["customers"] == [
        {
            "number": "+14155550101",
            "name": "Lovelace; Ada",
            "assistantOverrides": {"variableValues": {"note": 'said "hi"'}},
        }
    ]


async def customer_fields_blank_cells_and_blank_lines(page: Page) -> None:
    text = (
        "number,name,email,externalId,numberE164CheckEnabled,city\n"
        "\n"
        "4155550101,,ada@example.com,crm-1,false,\n"
        "+14155550102,Alan,,,,Wilmslow\n"
    )
    audience = await read(page, text)
    assert audience["errors"] == []
    assert [(r["row"], r["errors"]) for r in audience["rows"]] == [(3, []), (4, [])]
    assert audience["customers"] == [
        {
            "number": "4155550101",
            "email": "ada@example.com",
            "externalId": "crm-1",
            "numberE164CheckEnabled": False,
        },
        {
            "number": "+14155550102",
            "name": "Alan",
            "assistantOverrides": {"variableValues": {"city": "Wilmslow"}},
        },
    ]


async def every_row_problem_is_reported_with_its_row(page: Page) -> None:
    text = (
        "number,name,numberE164CheckEnabled\n"
        "+14155550101,Fine,\n"
        ",No number,\n"
        "(415) 555-0102,National,\n"
        f"+14155550103,{'x' * 41},\n"
        "+14155550104,Extra,true,surplus\n"
        "+14155550105,Unsure,maybe\n"
    )
    audience = await read(page, text)
    assert audience["errors"] == []
    assert {r["row"]: r["errors"] for r in audience["rows"]} == {
        2: [],
        3: ["number is empty"],
        4: ["number must be in E.164 format, like +14155550123"],
        5: ["name is longer than 40 characters"],
        6: ["4 cells for 3 columns"],
        7: ["numberE164CheckEnabled must be true or false"],
    }


FILE_PROBLEMS = [
    ("", ["the audience is empty"]),
    ("number,name\n", ["there is a header but no contacts"]),
    ("phone,name\n+14155550101,Ada\n", ['the header has no "number" column']),
    (
        "number,name,name,1st,\n+14155550101,Ada,Ada,x,y\n",
        [
            'column "name" appears twice',
            'column "1st" must start with a letter and hold only letters, digits and _',
            "column 5 has no name",
        ],
    ),
    (
        "number\n" + "+14155550101\n" * 10_001,
        ["10001 contacts; at most 10000 per campaign"],
    ),
]


async def file_problems(page: Page) -> None:
    for text, errors in FILE_PROBLEMS:
        audience = await read(page, text)
        assert audience["errors"] == errors
        assert audience["customers"] == []


async def test_csv_rules(page: Page, subtests: Any) -> None:
    """One browser for every case (starting one per case would cost seconds each)."""
    for case in (
        bom_semicolons_crlf_and_quotes,
        customer_fields_blank_cells_and_blank_lines,
        every_row_problem_is_reported_with_its_row,
        file_problems,
    ):
        with subtests.test(case.__name__):
            await case(page)
