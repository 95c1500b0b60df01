"""Configuration files and flags, RAM policies, token buckets and the nonce cache."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from dsc_engine.errors import RequestRejected, ServerConfigError
from dsc_engine.server.app import retry_after_ms
from dsc_engine.server.auth import NonceCache
from dsc_engine.server.config import (
    AccessKey,
    Limits,
    ServerConfig,
    config_from_mapping,
    generate_access_key,
    load_config,
    parse_access_key_flag,
)
from dsc_engine.server.policy import Policy
from dsc_engine.server.throttle import Throttle

TOML = """
host = "0.0.0.0"
port = 9000

[throttle]
rate = 2.5

[limits]
max_query_bytes = 4096
max_nonces = 1000
max_connections = 8
request_timeout = 2.5

[[access_keys]]
id = "LTAIone"
secret = "one-secret"
security_tokens = ["tok"]

[[access_keys]]
id = "LTAItwo"
secret = "two-secret"
[access_keys.policy]
Version = "1"
[[access_keys.policy.Statement]]
Effect = "Allow"
Action = "dms:*"
Resource = "*"
"""


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text(TOML, encoding="utf-8")
    config = load_config(path)
    assert (config.host, config.port) == ("0.0.0.0", 9000)
    assert (config.throttle.enabled, config.throttle.rate) == (True, 2.5)
    assert config.limits.max_query_bytes == 4096
    assert (config.limits.max_nonces, config.limits.max_connections) == (1000, 8)
    assert config.limits.request_timeout == 2.5
    assert config.limits.max_body_bytes == 1024 * 1024  # unset: the default
    one, two = config.access_keys["LTAIone"], config.access_keys["LTAItwo"]
    assert one.security_tokens == frozenset({"tok"}) and one.policy.allows("yundun-sddp:DescribeAuditLogs")
    assert two.policy.allows("dms:ListSensitiveDataAuditLog")
    assert not two.policy.allows("yundun-sddp:DescribeAuditLogs")


@pytest.mark.parametrize("name", ["server.toml", "server.json"])
def test_a_file_saved_with_a_byte_order_mark_and_windows_line_ends_reads(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = 'port = 9000\n[throttle]\nenabled = false\n' if name.endswith(".toml") else (
        '{"port": 9000,\n "throttle": {"enabled": false}}\n')
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    config = load_config(path)
    assert config.port == 9000 and not config.throttle.enabled


def test_json_file_is_the_same_shape(tmp_path: Path) -> None:
    doc = {"throttle": {"enabled": False}, "access_keys": [{"id": "LTAIj", "secret": "s"}]}
    path = tmp_path / "server.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    config = load_config(path)
    assert not config.throttle.enabled
    assert config.access_keys["LTAIj"].secret == "s"


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"hots": "x"}, "hots"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"throttle": {"rate": 0}}, "throttle.rate"),
        ({"throttle": {"rate": float("inf")}}, "throttle.rate"),  # worked as "no limit" by float quirks
        ({"throttle": {"burst": 3}}, "throttle.burst"),
        ({"limits": {"max_query_bytes": 10}}, "limits.max_query_bytes"),
        ({"limits": {"max_nonces": 0}}, "limits.max_nonces"),
        ({"limits": {"max_connections": 0}}, "limits.max_connections"),
        ({"limits": {"max_connections": 2.5}}, "limits.max_connections"),
        ({"limits": {"request_timeout": 0}}, "limits.request_timeout"),
        ({"limits": {"request_timeout": True}}, "limits.request_timeout"),
        ({"limits": {"request_timeout": "30s"}}, "limits.request_timeout"),
        ({"limits": {"max_threads": 4}}, "limits.max_threads"),
        ({"access_keys": {"id": "x"}}, "access_keys"),
        ({"access_keys": [{"id": "x"}]}, "access_keys[0].secret"),
        ({"access_keys": [{"id": "x", "secret": "s", "tokens": []}]}, "access_keys[0].tokens"),
        ({"access_keys": [{"id": "x", "secret": "s", "policy": {"Statement": []}}]},
         "access_keys[0].policy.Statement"),
        ({"access_keys": [{"id": "x", "secret": "s", "policy": {"Statement": [{"Effect": "Maybe", "Action": "*"}]}}]},
         "access_keys[0].policy.Statement[0].Effect"),
        ({"access_keys": [{"id": "x", "secret": "s", "policy": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "acs:rds:*"}]}}]},
         "access_keys[0].policy.Statement[0].Resource"),
        ({"access_keys": [{"id": "x", "secret": "s", "policy": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Condition": {}}]}}]},
         "access_keys[0].policy.Statement[0].Condition"),
        ({"access_keys": [{"id": "x", "secret": "a"}, {"id": "x", "secret": "b"}]}, "x"),
        # no service: it matched no RAM action, so this Deny never fired and the key called it
        ({"access_keys": [{"id": "x", "secret": "s", "policy": {"Statement": [
            {"Effect": "Allow", "Action": "*"}, {"Effect": "Deny", "Action": ["DescribeAuditLogs"]}]}}]},
         "access_keys[0].policy.Statement[1].Action"),
        ({"access_keys": [{"id": "x", "secret": "s", "policy": {"Statement": [
            {"Effect": "Allow", "Action": "*"}, {"Effect": "Deny", "Action": "sddp:DescribeAuditLogs"}]}}]},
         "access_keys[0].policy.Statement[1].Action"),
    ],
)
def test_bad_settings_are_named(doc: object, key: str) -> None:
    with pytest.raises(ServerConfigError) as caught:
        config_from_mapping(doc, "cfg")
    assert caught.value.key == key
    assert str(caught.value).startswith(f"cfg: {key}: ")


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ServerConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("host = ", encoding="utf-8")
    with pytest.raises(ServerConfigError, match="invalid TOML"):
        load_config(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{", encoding="utf-8")
    with pytest.raises(ServerConfigError, match="invalid JSON at line 1"):
        load_config(bad_json)


def test_access_key_flag() -> None:
    key = parse_access_key_flag("LTAIx:se:cret")
    assert (key.id, key.secret) == ("LTAIx", "se:cret")
    for text in ("nocolon", ":secret", "id:"):
        with pytest.raises(ServerConfigError, match="expected ID:SECRET"):
            parse_access_key_flag(text)


def test_generated_keys_differ_and_look_like_the_service() -> None:
    first, second = generate_access_key(), generate_access_key()
    assert first.id != second.id and first.secret != second.secret
    assert first.id.startswith("LTAI") and len(first.secret) == 30
    assert first.secret not in repr(first)


def test_same_key_twice_identically_is_fine() -> None:
    key = AccessKey(id="a", secret="b")
    assert ServerConfig().with_keys([key, key], "x").access_keys == {"a": key}


def policy(*statements: tuple[str, list[str]]) -> Policy:
    return Policy.from_document(
        {"Statement": [{"Effect": e, "Action": a} for e, a in statements]}, "t", "p"
    )


def test_policy_wildcards_case_and_deny_override() -> None:
    p = policy(("Allow", ["yundun-sddp:Describe*", "dms:List?ensitiveDataAuditLog"]),
               ("Deny", ["*:describedatamasking*"]))
    assert p.allows("yundun-sddp:DescribeAuditLogs")
    assert p.allows("YUNDUN-SDDP:describeauditlogs")
    assert p.allows("dms:ListSensitiveDataAuditLog")
    assert not p.allows("yundun-sddp:DescribeDataMaskingRunHistory")
    assert not p.allows("yundun-sddp:ModifyRule")
    assert not policy(("Deny", ["*"])).allows("dms:ListSensitiveDataAuditLog")
    assert Policy.allow_all().allows("anything:AtAll")
    assert not policy(("Allow", ["dms:List"])).allows("dms:ListSensitiveDataAuditLog")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_refill_and_separate_keys() -> None:
    clock = Clock()
    throttle = Throttle(8, clock)  # a token every 0.125 s: sums of these steps are exact in binary
    assert all(throttle.take("k", "A") == 0.0 for _ in range(8))
    assert throttle.take("k", "A") == 0.125  # refused: the wait until the next token
    assert throttle.take("k", "B") == 0.0 and throttle.take("other", "A") == 0.0
    clock.now += 0.03125
    assert throttle.take("k", "A") == 0.09375
    clock.now += 0.09375
    assert throttle.take("k", "A") == 0.0 and throttle.take("k", "A") == 0.125
    clock.now += 60
    assert sum(throttle.take("k", "A") == 0.0 for _ in range(20)) == 8


def test_a_wait_is_answered_in_whole_milliseconds_rounded_up() -> None:
    # (1 - 0.41) / 10, a wait the bucket works out, is 0.05900000000000001 s: 59 ms, not 60
    assert [retry_after_ms(s) for s in ((1.0 - 0.41) / 10, 0.1, 0.0071, 0.0000001, 2.0)] == ["59", "100", "8", "1", "2000"]


def test_slow_rates_still_admit_one_call() -> None:
    clock = Clock()
    throttle = Throttle(0.5, clock)
    assert throttle.take("k", "A") == 0.0 and throttle.take("k", "A") == pytest.approx(2.0)
    clock.now += 2
    assert throttle.take("k", "A") == 0.0
    with pytest.raises(ServerConfigError):
        Throttle(0, clock)


def test_nonces_expire_after_the_window() -> None:
    clock = Clock()
    cache = NonceCache(900, clock)
    signed = clock.now
    assert cache.use("k", "n", signed) and not cache.use("k", "n", signed) and cache.use("k2", "n", signed)
    clock.now += 900  # the request is still accepted at exactly 15 minutes off
    assert not cache.use("k", "n", signed)
    clock.now += 1
    assert cache.use("k", "n", clock.now)
    assert len(cache) == 1  # the expired entries were pruned


@pytest.mark.parametrize("ahead", [1, 60, 14 * 60, 15 * 60])
def test_nonce_of_a_future_signed_request_is_kept_until_signed_time_plus_window(ahead: int) -> None:
    clock = Clock()
    cache = NonceCache(900, clock)
    signed = clock.now + ahead
    assert cache.use("k", "n", signed)
    clock.now = signed + 900  # the last moment the request itself is accepted
    assert not cache.use("k", "n", signed)
    clock.now += 1
    assert cache.use("k", "n", signed)


def test_nonce_of_a_past_signed_request_is_kept_until_first_use_plus_window() -> None:
    clock = Clock()
    cache = NonceCache(900, clock)
    assert cache.use("k", "n", clock.now - 600)
    clock.now += 900
    assert not cache.use("k", "n", clock.now - 600)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.toml", "host = " + "[" * 100_000 + "]" * 100_000 + "\n"),
        ("deep-tables.toml", "host = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n"),
        ("deep.json", '{"host": ' + "[" * 100_000 + "]" * 100_000 + "}"),
    ],
)
def test_deeply_nested_config_is_a_config_error_naming_the_file(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ServerConfigError, match="nested too deeply") as caught:
        load_config(path)
    assert caught.value.source == str(path)


def test_nonce_cache_refuses_new_nonces_when_full_rather_than_forgetting_any() -> None:
    clock = Clock()
    cache = NonceCache(900, clock, capacity=3)
    assert all(cache.use("k", f"n{i}", clock.now) for i in range(3))
    with pytest.raises(RequestRejected) as caught:
        cache.use("k", "n3", clock.now)
    assert caught.value.code == "Throttling" and "3 signature nonces" in caught.value.reason
    assert not cache.use("k", "n0", clock.now)  # a replay is still a replay, not a throttle
    assert len(cache) == 3
    clock.now += 901  # the remembered ones expire, and make room
    assert cache.use("k", "n3", clock.now) and len(cache) == 1


def test_memory_per_remembered_nonce_does_not_grow_with_the_nonce() -> None:
    clock = Clock()
    cache = NonceCache(900, clock, capacity=100_000)
    count = 20_000
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(count):  # 4 KiB nonces, signed up to 15 minutes ahead (one expiry bucket a second)
            assert cache.use("LTAIsomeaccesskeyid", f"{i:08d}" + "x" * 4096, clock.now + (i % 900))
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert used / count < 256, f"{used / count:.0f} bytes a nonce"


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_connections", 0), ("request_timeout", -1), ("max_body_bytes", -5), ("max_query_bytes", 10),
     ("max_nonces", 0), ("max_connections", True)],
)
def test_limits_built_in_code_are_held_to_the_ranges_of_the_file(field: str, value: object) -> None:
    # Limits(max_connections=0) made a server that never answered; request_timeout=-1 one that
    # dropped every connection
    with pytest.raises(ServerConfigError) as caught:
        Limits(**{field: value})
    assert caught.value.key == field


def test_access_keys_built_in_code_may_be_a_list_as_the_mock_takes_them() -> None:
    # ServerConfig(access_keys=[AccessKey(...)]), the shape dsc_engine.mock(access_keys=...) takes,
    # was kept as given and failed much later, in the mock or a TestServer, with a bare TypeError
    one, two = AccessKey(id="one", secret="s1"), AccessKey(id="two", secret="s2")
    listed = ServerConfig(access_keys=[one, two])
    assert listed == ServerConfig(access_keys={"one": one, "two": two})
    assert listed.with_keys([AccessKey(id="three", secret="s3")], "x").access_keys.keys() == {"one", "two", "three"}


@pytest.mark.parametrize(
    ("keys", "key"),
    [(AccessKey(id="a", secret="b"), "access_keys"), ("a:b", "access_keys"), (5, "access_keys"),
     ([AccessKey(id="a", secret="b"), "c"], "access_keys[1]"), ({"a": "b"}, "access_keys['a']"),
     ({"other": AccessKey(id="a", secret="b")}, "access_keys['other']"),
     ([AccessKey(id="a", secret="b"), AccessKey(id="a", secret="c")], "a")],
)
def test_access_keys_built_in_code_that_are_not_keys_are_named(keys: object, key: str) -> None:
    with pytest.raises(ServerConfigError) as caught:
        ServerConfig(access_keys=keys)
    assert caught.value.key == key
