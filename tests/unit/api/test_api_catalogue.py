"""The catalogue of service errors: one code, one status, one message per language."""

from __future__ import annotations

import uuid

from dsc_engine.api.catalogue import CATALOGUE, MISSING, api_error
from dsc_engine.api.errors import new_request_id
from dsc_engine.errors import Reason
from dsc_engine.models import Lang

REASON = Reason("it must be an integer from 1 to 50, got 51", "它必须是 1 到 50 之间的整数，实际为 51")


def test_a_reason_is_given_whole_in_the_request_language() -> None:
    common = {"product": "Sddp", "request_id": "R", "host": "h", "name": "PageSize", "reason": REASON}
    english = api_error("InvalidParameter", Lang.EN_US, **common)
    chinese = api_error("InvalidParameter", Lang.ZH_CN, **common)
    assert english.message == 'The specified parameter "PageSize" is not valid. It must be an integer from 1 to 50, got 51.'
    assert chinese.message == '指定的参数 "PageSize" 无效。它必须是 1 到 50 之间的整数，实际为 51。'
    assert (english.http_status, english.code) == (400, "InvalidParameter")


def test_missing_parameters_fixed_messages_and_refusals_worded_by_their_reason() -> None:
    missing = api_error(MISSING.code, Lang.ZH_CN, product="dms-enterprise", request_id="R", host="h", name="StartTime")
    assert (missing.code, missing.message) == ("MissingStartTime", "StartTime 是该操作的必填参数。")
    fixed = api_error("Forbidden.RAM", Lang.EN_US, product="Sddp", request_id="R", host="h", reason="ignored")
    assert (fixed.http_status, fixed.message) == (403, CATALOGUE["Forbidden.RAM"].en)
    worded = api_error("MissingAction", Lang.ZH_CN, product="Sddp", request_id="R", host="h",
                       reason="Action is mandatory for this action.")
    assert (worded.http_status, worded.message) == (400, "Action is mandatory for this action.")
    assert all(entry.zh for entry in CATALOGUE.values() if entry.en is not None)
    # a parameter without a name (``{"": "x"}``) is refused in its reason's words, a Chinese
    # sentence ending in a Chinese full stop (it ended in ".")
    unnamed = api_error("InvalidParameter", Lang.ZH_CN, product="Sddp", request_id="R", host="h", name="",
                        reason=Reason("DescribeAuditLogs has no parameter named ''", "DescribeAuditLogs 没有名为 '' 的参数"))
    assert unnamed.message == "DescribeAuditLogs 没有名为 '' 的参数。"


def test_a_request_id_is_a_fresh_upper_case_version_4_uuid() -> None:
    """Spelled from random bytes without ``uuid.UUID``: it must still read back as one."""
    ids = [new_request_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert text == str(parsed).upper()
