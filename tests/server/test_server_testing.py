"""``dsc_engine.testing`` as a user meets it: the fixtures and the ``serve`` context manager."""

from __future__ import annotations

import pytest
from alibabacloud_sddp20190103.client import Client
from alibabacloud_sddp20190103.models import DescribeAuditLogsRequest, DescribeDataMaskingRunHistoryRequest
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import UnretryableException

from dsc_engine.models.records import Record
from dsc_engine.sample import generate
from dsc_engine.testing import TestServer, dsc_config, dsc_server, serve  # noqa: F401  (fixtures)


@pytest.fixture
def dsc_records() -> list[Record]:
    return generate("masking", 12, seed=1)


def test_three_line_usage(dsc_config: Config) -> None:
    body = Client(dsc_config).describe_data_masking_run_history(DescribeDataMaskingRunHistoryRequest()).body
    assert body.total_count == 12


def test_config_is_ready_and_fails_fast(dsc_config: Config) -> None:
    assert dsc_config.protocol == "http" and dsc_config.endpoint.startswith("127.0.0.1:")
    assert 0 < dsc_config.connect_timeout <= 10_000 and 0 < dsc_config.read_timeout <= 30_000


def test_server_object_gives_fresh_configs(dsc_server: TestServer) -> None:
    first, second = dsc_server.sdk_config(), dsc_server.sdk_config(signature_algorithm="v2")
    assert first is not second and second.signature_algorithm == "v2"
    assert Client(second).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 0


def test_serve_context_manager_stops_the_server() -> None:
    with serve(generate("audit", 4, seed=2), signature_algorithm="v2") as config:
        assert Client(config).describe_audit_logs(DescribeAuditLogsRequest()).body.total_count == 4
    with pytest.raises(UnretryableException, match="Failed to establish a new connection"):
        Client(config).describe_audit_logs(DescribeAuditLogsRequest())


def test_config_fixture_shares_the_server_fixture(dsc_config: Config, dsc_server: TestServer) -> None:
    assert dsc_config.endpoint == dsc_server.endpoint
    assert dsc_config.access_key_id == dsc_server.access_key.id
