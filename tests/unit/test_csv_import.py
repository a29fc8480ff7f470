"""The audience CSV parser on real files: every problem with its exact row, column and words."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from campaign_service.audiences.csv_import import Audience, parse_audience
from campaign_service.audiences.csv_table import RowError

FIXTURES = Path(__file__).resolve().parents[1] / "audiences" / "fixtures"
SAVE_AS_UTF8 = "save the file as UTF-8 (in Excel: CSV UTF-8)"


def parse(data: bytes | str, region: str | None = None, dedupe: bool = False) -> Audience:
    raw = data.encode() if isinstance(data, str) else data
    return parse_audience(raw, default_region=region, dedupe=dedupe)


def fixture(name: str, region: str | None = None) -> Audience:
    return parse((FIXTURES / name).read_bytes(), region)


def customers(audience: Audience) -> list[dict[str, Any]]:
    return [
        c.customer.model_dump(exclude_none=True, exclude={"numberE164CheckEnabled"})
        for c in audience.contacts
    ]


def errors(audience: Audience) -> list[tuple[int, str | None, str]]:
    return [(e.row, e.column, e.message) for e in audience.file_errors + audience.row_errors]


def with_plan(number: str, name: str, plan: str) -> dict[str, Any]:
    return {
        "number": number,
        "name": name,
        "assistantOverrides": {"variableValues": {"plan": plan}},
    }


def test_a_byte_order_mark_is_not_part_of_the_first_column_name() -> None:
    audience = fixture("bom.csv")
    assert (FIXTURES / "bom.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert errors(audience) == []
    assert audience.columns == ["number", "name", "plan"]
    assert customers(audience) == [
        with_plan("+14155550100", "Ada", "gold"),
        with_plan("+14155550101", "Alan", "silver"),
    ]


def test_crlf_line_ends_leave_no_carriage_return_in_cells() -> None:
    audience = fixture("crlf.csv")
    assert b"\r\n" in (FIXTURES / "crlf.csv").read_bytes()
    assert errors(audience) == []
    assert customers(audience) == [
        with_plan("+14155550100", "Ada", "gold"),
        with_plan("+14155550101", "Alan", "silver"),
    ]


def test_semicolons_are_sniffed_and_quoted_semicolons_stay_in_the_cell() -> None:
    audience = fixture("semicolons.csv")
    assert audience.delimiter == ";"
    assert errors(audience) == []
    assert customers(audience) == [
        {
            "number": "+49301234567",
            "name": "J\u00fcrgen",
            "assistantOverrides": {"variableValues": {"city": "Berlin"}},
        },
        {
            "number": "+33123456789",
            "name": "Dupont; Marie",
            "assistantOverrides": {"variableValues": {"city": "Paris"}},
        },
    ]


def test_quoted_commas_quotes_and_line_breaks_stay_inside_their_cell() -> None:
    audience = fixture("quoted_commas.csv")
    assert audience.delimiter == ","
    assert errors(audience) == []
    notes = [c["assistantOverrides"]["variableValues"]["note"] for c in customers(audience)]
    assert [c["name"] for c in customers(audience)] == ["Lovelace, Ada", "Turing, Alan"]
    assert notes == ['said "call me later", twice', "line one\nline two"]
    assert [c.row for c in audience.contacts] == [2, 3]  # rows as the spreadsheet counts them


def test_national_numbers_with_a_default_region() -> None:
    audience = fixture("national.csv", region="US")
    assert [c["number"] for c in customers(audience)] == [
        "+14155550100",
        "+14155550101",
        "+442079460958",
        "+14155550102",
    ]
    assert errors(audience) == [
        (6, "number", "'555-0103' is a local number only; add its area code"),
        (7, "number", "'12' is too short to be a phone number"),
    ]


def test_national_numbers_without_a_region_say_how_to_fix_them() -> None:
    audience = fixture("national.csv")
    hint = "has no country code: write it as +<country code><number> or pass defaultRegion"
    expected = [
        (row, "number", f"{number!r} {hint} (for example US)")
        for row, number in (
            (2, "(415) 555-0100"),
            (3, "415.555.0101"),
            (5, "1 415 555 0102"),
            (6, "555-0103"),
            (7, "12"),
        )
    ]
    assert errors(audience) == expected
    assert customers(audience) == [{"number": "+442079460958", "name": "Grace"}]


def test_blank_cells_are_left_out_and_blank_rows_ignored() -> None:
    audience = fixture("blank_cells.csv")
    assert customers(audience) == [
        {"number": "+14155550100", "assistantOverrides": {"variableValues": {"plan": "gold"}}},
        {"number": "+14155550101", "name": "Alan"},
        {
            "number": "+14155550102",
            "name": "Grace",  # stray spaces around cells are trimmed
            "email": "grace@example.com",
            "assistantOverrides": {"variableValues": {"city": "Arlington"}},
        },
    ]
    assert errors(audience) == [
        (4, "number", "is empty; every contact needs a number (or a sipUri)")
    ]
    assert (audience.rows_read, audience.blank_rows) == (4, 1)


def test_header_rules_are_all_reported_at_once() -> None:
    audience = fixture("duplicate_headers.csv")
    assert errors(audience) == [
        (1, "name", "column name 'name' is used twice (columns 2 and 4)"),
        (1, "2nd", "column name '2nd' must start with a letter"),
        (
            1,
            "first name",
            "column name 'first name' must not contain spaces (for example 'first_name')",
        ),
        (1, "#7", "column 7 has no name but holds data (row 2); name it in the first row"),
    ]
    assert audience.contacts == []


def test_bytes_that_are_not_utf8_are_reported_with_row_column_and_offset() -> None:
    data = (FIXTURES / "latin1.csv").read_bytes()
    assert (data.index(b"\xfc"), data.index(b"\xe9")) == (35, 57)
    audience = parse(data)
    assert errors(audience) == [
        (2, "city", f"byte 0xFC at byte offset 35 of the file is not UTF-8; {SAVE_AS_UTF8}"),
        (3, "name", f"byte 0xE9 at byte offset 57 of the file is not UTF-8; {SAVE_AS_UTF8}"),
    ]
    assert [c.row for c in audience.contacts] == [4]


def test_offsets_count_the_byte_order_mark_and_multibyte_characters() -> None:
    # 3 (BOM) + 12 (header line) + 14 ("+14155550100,J") + 2 ("\u00fc") + 2 ("rg") = 33
    data = codecs.BOM_UTF8 + b"number,name\n+14155550100,J" + "\u00fcrg".encode() + b"\xe9n\n"
    assert data.index(b"\xe9") == 33
    assert errors(parse(data)) == [
        (2, "name", f"byte 0xE9 at byte offset 33 of the file is not UTF-8; {SAVE_AS_UTF8}")
    ]


def test_a_bad_byte_in_the_header_makes_the_file_unusable() -> None:
    audience = parse(b"number,n\xe4me\n+14155550100,Ada\n")
    assert errors(audience) == [
        (1, "#2", f"byte 0xE4 at byte offset 8 of the file is not UTF-8; {SAVE_AS_UTF8}")
    ]


def test_ten_thousand_rows_pass_and_the_next_one_is_refused(tmp_path: Path) -> None:
    lines = ["number,name"] + [f"+1415{i:07d},Customer {i}" for i in range(10_001)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert errors(parse(path.read_bytes())) == []
    assert len(parse(path.read_bytes()).contacts) == 10_000

    path.write_text("\n".join(lines) + "\n")
    audience = parse(path.read_bytes())
    assert errors(audience) == [
        (10_002, None, "is row 10001 of contacts; a file can hold at most 10000")
    ]


def test_blank_rows_do_not_count_against_the_limit() -> None:
    data = "number\n" + "\n".join(f"+1415{i:07d}\n," for i in range(3)) + "\n"
    audience = parse_audience(data.encode(), default_region=None, dedupe=False, max_rows=3)
    assert errors(audience) == []
    assert (len(audience.contacts), audience.blank_rows) == (3, 3)


def test_duplicates_are_reported_and_dedupe_keeps_the_first() -> None:
    data = "number,name\n+14155550100,Ada\n(415) 555-0100,Ada again\n+14155550101,Alan\n"
    kept = parse(data, region="US")
    assert [(d.row, d.number, d.first_row) for d in kept.duplicates] == [(3, "+14155550100", 2)]
    assert [c.row for c in kept.contacts] == [2, 3, 4]
    deduped = parse(data, region="US", dedupe=True)
    assert [(d.row, d.first_row) for d in deduped.duplicates] == [(3, 2)]
    assert [c["name"] for c in customers(deduped)] == ["Ada", "Alan"]


def test_customer_fields_map_and_every_other_column_is_a_variable() -> None:
    data = (
        "number,name,email,externalId,extension,sipUri,numberE164CheckEnabled,Plan,city\n"
        "+14155550100,Ada,ada@example.com,crm-1,12,,true,gold,London\n"
        "4155550101,Alan,,,,,false,,\n"
        ",Grace,,,,sip:grace@example.com,,,\n"
        "+1 415-555-0102 ext. 7,Edsger,,,,,,,\n"
    )
    audience = parse(data)
    assert errors(audience) == []
    assert audience.variables == ["Plan", "city"]  # names are kept exactly (case too)
    assert [c.customer.model_dump(exclude_none=True) for c in audience.contacts] == [
        {
            "numberE164CheckEnabled": True,
            "extension": "12",
            "assistantOverrides": {"variableValues": {"Plan": "gold", "city": "London"}},
            "number": "+14155550100",
            "name": "Ada",
            "email": "ada@example.com",
            "externalId": "crm-1",
        },
        {"numberE164CheckEnabled": False, "number": "4155550101", "name": "Alan"},
        {"numberE164CheckEnabled": True, "sipUri": "sip:grace@example.com", "name": "Grace"},
        {
            "numberE164CheckEnabled": True,
            "extension": "7",
            "number": "+14155550102",
            "name": "Edsger",
        },
    ]


def test_every_problem_of_a_row_is_reported() -> None:
    long_name = "N" * 41
    data = (
        "number,name,extension,numberE164CheckEnabled\n"
        f"+999 12,{long_name},12345678901,maybe\n"
        "abc-def!,Ada,,false\n"
    )
    assert errors(parse(data)) == [
        (2, "numberE164CheckEnabled", "is 'maybe'; write true or false"),
        (2, "number", "'+999 12' has an unknown country code"),
        (2, "extension", "must have at most 10 characters (has 11)"),
        (2, "name", "must have at most 40 characters (has 41)"),
        (3, "number", "may contain only letters and digits, after an optional +"),
    ]


def test_a_row_with_more_cells_than_columns_is_refused() -> None:
    audience = parse("number,name\n+14155550100,Smith, John\n+14155550101,Ada\n")
    assert errors(audience) == [
        (
            2,
            None,
            "has 3 cells but the first row names 2 columns; put the whole cell in double "
            'quotes and write a quote inside it as "" if a cell contains the delimiter',
        )
    ]
    assert [c.row for c in audience.contacts] == [3]


def test_a_stray_quote_stops_reading_at_its_row() -> None:
    audience = parse('number,name\n+14155550100,Ada\n+14155550101,"Al"an\n+14155550102,G\n')
    assert errors(audience) == [
        (
            3,
            None,
            "the file cannot be read from this row on (',' expected after '\"'); put the whole "
            'cell in double quotes and write a quote inside it as ""',
        )
    ]


def test_files_that_cannot_be_audiences() -> None:
    header = "the first row must name the columns (number, name, ...)"
    cases: dict[bytes, list[tuple[int, str | None, str]]] = {
        b"": [(1, None, header)],
        b"\n\n": [(1, None, header)],
        codecs.BOM_UTF16_LE + "number\n".encode("utf-16-le"): [
            (1, None, f"the file is UTF-16 text; {SAVE_AS_UTF8}")
        ],
        b"Phone,name\n+14155550100,Ada\n": [
            (1, None, "the required column 'number' is missing (rename 'Phone' to number)")
        ],
        b"Number,name\n+14155550100,Ada\n": [
            (1, None, "the required column 'number' is missing (rename 'Number' to number)")
        ],
    }
    for data, expected in cases.items():
        assert errors(parse(data)) == expected, data


def test_row_errors_are_plain_sentences_too() -> None:
    assert RowError(3, "number", "is empty").sentence() == "row 3, column number: is empty"
    assert RowError(1, None, "is bad").sentence() == "row 1: is bad"


def test_progress_is_reported_while_rows_are_checked() -> None:
    data = "number\n" + "".join(f"+1415{i:07d}\n" for i in range(1200))
    seen: list[tuple[int, int]] = []
    parse_audience(
        data.encode(), default_region=None, dedupe=False, progress=lambda *a: seen.append(a)
    )
    assert seen == [(500, 1200), (1000, 1200), (1200, 1200)]
