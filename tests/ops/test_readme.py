"""The README's configuration table names every setting, with its real default."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from campaign_service.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def configuration_rows() -> dict[str, str]:
    text = README.read_text()
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    return dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE))


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"CAMPAIGN_SERVICE_{field.upper()}"


def test_every_setting_is_in_the_configuration_table() -> None:
    rows = configuration_rows()
    missing = [env_name(f) for f in Settings.model_fields if env_name(f) not in rows]
    assert missing == []
    unknown = set(rows) - {env_name(f) for f in Settings.model_fields}
    assert unknown == set()


def test_documented_defaults_match_the_code() -> None:
    rows = configuration_rows()
    for field, info in Settings.model_fields.items():
        documented = rows[env_name(field)].strip()
        if info.default_factory is not None:
            continue  # computed per machine (the data directory)
        if info.default is None:
            assert documented == "unset", field
        else:
            assert documented == f"`{info.default}`", field
