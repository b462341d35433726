"""Every endpoint of the OpenAPI document fuzzed with schemathesis: whatever comes in, never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from loyalty_chain.gateway import Gateway, create_app, create_key

EXAMPLES = 25
"""Per operation; bounded so the whole module stays within a minute on a loaded machine."""


@pytest.fixture
def api_schema(gateway: Gateway) -> schemathesis.BaseSchema:  # type: ignore[name-defined]
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(gateway, background=False))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_input_makes_a_5xx(case: schemathesis.Case, gateway: Gateway) -> None:
    key = create_key(gateway.store, "fuzz")
    response = case.call(headers={"Authorization": f"Bearer {key}"})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text)
    if response.status_code >= 400 and response.status_code != 404:
        assert "field" in response.json()["error"], response.text
