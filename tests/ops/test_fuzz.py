"""Property-based requests from the OpenAPI document (schemathesis) against the real server.

Whatever the generator sends, the service must never answer 5xx, must refuse what the schema
forbids, and must answer with bodies, status codes and headers its own document promises.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import OrgKey
from tests.ops.conftest import LiveServer

CHECKS = ",".join(
    (
        "not_a_server_error",
        "negative_data_rejection",
        "unsupported_method",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)


def test_generated_requests_never_break_the_service(
    live_server: LiveServer, org: OrgKey, tmp_path: Path
) -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{live_server.base_url}/openapi.json",
            "--header",
            f"Authorization: Bearer {org.api_key}",
            "--checks",
            CHECKS,
            "--max-examples",
            "40",
            "--seed",
            "20261128",
            "--workers",
            "2",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert "passed" in result.stdout
