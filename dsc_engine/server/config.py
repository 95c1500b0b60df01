"""Server configuration: access keys, their policies and tokens, throttling and request limits.

A configuration file is JSON (``.json``) or TOML (any other name, read with ``tomllib``)::

    host = "127.0.0.1"          # optional; --host wins
    port = 8080                 # optional; --port wins

    [throttle]
    enabled = true              # default true
    rate = 10                   # calls per second per access key and operation (default 10)

    [limits]
    max_query_bytes = 16384     # longest accepted query string (default 16 KiB)
    max_body_bytes = 1048576    # largest accepted body (default 1 MiB)
    max_nonces = 500000         # signature nonces remembered at once (default 500,000)
    max_connections = 64        # requests served at once, one thread each (default 64)
    request_timeout = 30        # seconds to deliver a whole request (default 30)

    [[access_keys]]
    id = "LTAI5tExampleKey"
    secret = "ExampleSecret"
    security_tokens = ["tok"]   # optional: STS-style tokens; when given, one is required
    policy = { Statement = [ { Effect = "Allow", Action = ["yundun-sddp:*"] } ] }

Every key is checked; an unknown key is a :class:`ServerConfigError` naming it, never ignored. A
file that cannot be read or decoded (not UTF-8, bad syntax, nesting too deep for the decoder) is a
:class:`ServerConfigError` naming the file.
"""

from __future__ import annotations

import json
import secrets
import string
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dsc_engine.errors import ServerConfigError
from dsc_engine.server.policy import Policy
from dsc_engine.server.throttle import rate_problem

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_RATE = 10.0
DEFAULT_MAX_QUERY_BYTES = 16 * 1024
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
#: Signature nonces remembered at once (about 90 bytes each: some 45 MB when full).
DEFAULT_MAX_NONCES = 500_000
#: Connections served at once, each by its own thread; further ones wait in the listen backlog.
DEFAULT_MAX_CONNECTIONS = 64
#: Seconds a connection has to deliver its whole request (request line, headers and body).
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Requests signed more than this far from the server's clock are expired; a nonce is kept this
#: long past the later of its request's signed time and its first use.
TIME_WINDOW_SECONDS = 15 * 60


@attrs.frozen(kw_only=True)
class AccessKey:
    """An access key pair, the STS-style tokens it accepts, and what it may call."""

    id: str
    secret: str = attrs.field(repr=False)
    security_tokens: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    policy: Policy = attrs.field(factory=Policy.allow_all)


@attrs.frozen(kw_only=True)
class Limits:
    """What one request, and the server as a whole, may take (``docs/server.md``, "Limits");
    each in its range (:data:`COUNT_LIMITS`, :data:`SECONDS_LIMITS`), built in code as in a
    configuration file."""

    max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_nonces: int = DEFAULT_MAX_NONCES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    def __attrs_post_init__(self) -> None:
        # out of range, a limit failed later and silently: no slot ever free, every connection dropped
        for name, (low, high) in COUNT_LIMITS.items():
            _int(getattr(self, name), "Limits", name, low, high)
        for name, (least, most) in SECONDS_LIMITS.items():
            _seconds(getattr(self, name), "Limits", name, least, most)


#: The range of each limit, a configuration file's or a :class:`Limits` built in code.
COUNT_LIMITS: dict[str, tuple[int, int]] = {
    "max_query_bytes": (256, 60_000),
    "max_body_bytes": (0, 64 * 1024 * 1024),
    "max_nonces": (1, 50_000_000),
    "max_connections": (1, 10_000),
}
SECONDS_LIMITS: dict[str, tuple[float, float]] = {"request_timeout": (0.1, 3600.0)}


@attrs.frozen(kw_only=True)
class ThrottleConfig:
    """Flow control: ``rate`` calls per second per access key and operation (a finite number above
    0, built in code as in a configuration file), when ``enabled``."""

    enabled: bool = True
    rate: float = DEFAULT_RATE

    def __attrs_post_init__(self) -> None:
        # refused only when a server or mock was made from it, a rate of 0 given to a stopped
        # mock's reset made every later start fail
        problem = rate_problem(self.rate)
        if problem is not None:
            raise ServerConfigError("ThrottleConfig", "rate", problem)


def _keys_by_id(keys: object) -> Mapping[str, AccessKey]:
    """``ServerConfig.access_keys``: a ``{id: AccessKey}`` mapping, or a list of :class:`AccessKey`
    (as ``dsc_engine.mock`` takes them), keyed by id; anything else is a :class:`ServerConfigError`.
    A key filed under another id than its own, or one id twice with different keys, is refused."""
    source = "ServerConfig"
    if isinstance(keys, Mapping):
        for ident, key in keys.items():
            checked_key(key, source, f"access_keys[{ident!r}]")
            if key.id != ident:
                raise ServerConfigError(source, f"access_keys[{ident!r}]", f"holds the key of id {key.id!r}")
        return dict(keys)
    return _merged_keys({}, keys, source)


def _merged_keys(known: Mapping[str, AccessKey], keys: object, source: str) -> dict[str, AccessKey]:
    """``known`` plus ``keys`` (a list of :class:`AccessKey`), by id; anything that is not such
    a list, or one id twice with different keys, is a :class:`ServerConfigError`."""
    if isinstance(keys, AccessKey | str | bytes) or not isinstance(keys, Iterable):
        given = "one AccessKey" if isinstance(keys, AccessKey) else type(keys).__name__
        raise ServerConfigError(source, "access_keys", f"expected a list of AccessKeys, not {given}")
    merged = dict(known)
    for index, key in enumerate(keys):
        checked_key(key, source, f"access_keys[{index}]")
        found = merged.get(key.id)
        if found is not None and found != key:
            raise ServerConfigError(source, key.id, "access key id configured twice, differently")
        merged[key.id] = key
    return merged


@attrs.frozen(kw_only=True)
class ServerConfig:
    """Everything the WSGI application needs besides the engine. ``access_keys`` may be given as
    a list of :class:`AccessKey` too; it is kept as a ``{id: AccessKey}`` mapping."""

    access_keys: Mapping[str, AccessKey] = attrs.field(factory=dict, converter=_keys_by_id)
    throttle: ThrottleConfig = attrs.field(factory=ThrottleConfig)
    limits: Limits = attrs.field(factory=Limits)
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def with_keys(self, keys: Iterable[AccessKey], source: str) -> ServerConfig:
        """This configuration plus ``keys``; the same id twice with different secrets is an error,
        and so is anything that is not a list of :class:`AccessKey` (named ``access_keys``)."""
        return attrs.evolve(self, access_keys=_merged_keys(self.access_keys, keys, source))


def checked_key(key: object, source: str, name: str) -> AccessKey:
    """``key`` when it is an :class:`AccessKey`, else a :class:`ServerConfigError` on ``name``."""
    if not isinstance(key, AccessKey):
        raise ServerConfigError(source, name, f"expected an AccessKey, not {type(key).__name__}")
    return key


def checked_config(config: object, source: str) -> ServerConfig:
    """``config`` when it is a :class:`ServerConfig`, else a :class:`ServerConfigError` on ``config``."""
    if not isinstance(config, ServerConfig):
        raise ServerConfigError(source, "config", f"expected a ServerConfig, not {type(config).__name__}")
    return config


def generate_access_key() -> AccessKey:
    """A fresh random key pair in the service's shape (``LTAI…`` id, 30-character secret)."""
    alphabet = string.ascii_letters + string.digits
    ident = "LTAI" + "".join(secrets.choice(alphabet) for _ in range(20))
    secret = "".join(secrets.choice(alphabet) for _ in range(30))
    return AccessKey(id=ident, secret=secret)


def parse_access_key_flag(text: str, source: str = "--access-key") -> AccessKey:
    """``ID:SECRET`` (the secret may itself contain ``:``) -> an allow-all :class:`AccessKey`."""
    ident, sep, secret = text.partition(":")
    if not sep or not ident or not secret:
        raise ServerConfigError(source, text.partition(":")[0], "expected ID:SECRET")
    return AccessKey(id=ident, secret=secret)


def load_config(path: str | Path) -> ServerConfig:
    """Read a JSON or TOML configuration file (see the module docstring for its keys)."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ServerConfigError(source, "", f"cannot read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # the mark an editor on Windows writes
        doc = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ServerConfigError(source, "", f"not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ServerConfigError(source, "", f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ServerConfigError(source, "", f"invalid TOML: {exc}") from exc
    except RecursionError as exc:  # both decoders recurse once per level of arrays or tables
        raise ServerConfigError(source, "", "arrays or tables nested too deeply to read") from exc
    return config_from_mapping(doc, source)


def config_from_mapping(doc: object, source: str) -> ServerConfig:
    """Build a :class:`ServerConfig` from an already-decoded document."""
    table = _table(doc, source, "")
    _known(table, {"host", "port", "throttle", "limits", "access_keys"}, source, "")
    config = ServerConfig()
    if "host" in table:
        config = attrs.evolve(config, host=_string(table["host"], source, "host"))
    if "port" in table:
        config = attrs.evolve(config, port=_int(table["port"], source, "port", 0, 65535))
    if "throttle" in table:
        config = attrs.evolve(config, throttle=_throttle(table["throttle"], source))
    if "limits" in table:
        config = attrs.evolve(config, limits=_limits(table["limits"], source))
    keys = table.get("access_keys", [])
    if not isinstance(keys, list):
        raise ServerConfigError(source, "access_keys", "must be a list of tables")
    return config.with_keys(
        (_access_key(item, source, f"access_keys[{i}]") for i, item in enumerate(keys)), source
    )


def _table(value: object, source: str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ServerConfigError(source, key, "must be a table/object")
    return value


def _known(table: Mapping[str, Any], known: set[str], source: str, key: str) -> None:
    for name in table:
        if name not in known:
            where = f"{key}.{name}" if key else name
            raise ServerConfigError(source, where, f"unknown setting (known: {', '.join(sorted(known))})")


def _string(value: object, source: str, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ServerConfigError(source, key, "must be a non-empty string")
    return value


def _int(value: object, source: str, key: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServerConfigError(source, key, f"must be an integer in {low}..{high}")
    return value


def _throttle(value: object, source: str) -> ThrottleConfig:
    table = _table(value, source, "throttle")
    _known(table, {"enabled", "rate"}, source, "throttle")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ServerConfigError(source, "throttle.enabled", "must be true or false")
    rate = table.get("rate", DEFAULT_RATE)
    problem = rate_problem(rate)
    if problem is not None:
        raise ServerConfigError(source, "throttle.rate", problem)
    return ThrottleConfig(enabled=enabled, rate=float(rate))


def _limits(value: object, source: str) -> Limits:
    table = _table(value, source, "limits")
    _known(table, {field.name for field in attrs.fields(Limits)}, source, "limits")
    defaults = Limits()

    def integer(name: str) -> int:
        return _int(table.get(name, getattr(defaults, name)), source, f"limits.{name}", *COUNT_LIMITS[name])

    def seconds(name: str) -> float:
        return _seconds(table.get(name, getattr(defaults, name)), source, f"limits.{name}", *SECONDS_LIMITS[name])

    return Limits(
        max_query_bytes=integer("max_query_bytes"),
        max_body_bytes=integer("max_body_bytes"),
        max_nonces=integer("max_nonces"),
        max_connections=integer("max_connections"),
        request_timeout=seconds("request_timeout"),
    )


def _seconds(value: object, source: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ServerConfigError(source, key, f"must be a number of seconds in {low:g}..{high:g}")
    return float(value)


def _access_key(value: object, source: str, key: str) -> AccessKey:
    table = _table(value, source, key)
    _known(table, {"id", "secret", "security_tokens", "policy"}, source, key)
    ident = _string(table.get("id"), source, f"{key}.id")
    secret = _string(table.get("secret"), source, f"{key}.secret")
    tokens = table.get("security_tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
        raise ServerConfigError(source, f"{key}.security_tokens", "must be a list of non-empty strings")
    policy = (
        Policy.from_document(table["policy"], source, f"{key}.policy")
        if "policy" in table
        else Policy.allow_all()
    )
    return AccessKey(id=ident, secret=secret, security_tokens=frozenset(tokens), policy=policy)
