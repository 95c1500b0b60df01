"""The user's Alibaba Cloud credentials, for ``dsc-engine pull`` and the recording proxy.

Where they come from, first found wins:

1. given outright (:class:`Credentials`; the library and the tests do this);
2. the environment: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` and ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (with
   ``ALIBABA_CLOUD_SECURITY_TOKEN`` for an STS token), read when the pull or proxy starts;
3. the official credentials package's default chain (``alibabacloud_credentials``: its
   configuration file, an ECS instance role, OIDC ...), asked again for every call so that
   temporary credentials are refreshed.

The secrets never appear in a ``repr``, a log line, a checkpoint or a capture.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from dsc_engine.errors import PullError

ENV_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
#: What to install for the parts of dsc-engine that talk to the real cloud.
INSTALL_HINT = "pip install 'dsc-engine[pull]'"


@attrs.frozen
class Credentials:
    """An access key pair, and the security token of an STS key."""

    access_key_id: str
    access_key_secret: str = attrs.field(repr=False)
    security_token: str | None = attrs.field(default=None, repr=False)


class CredentialSource(Protocol):
    """Where the credentials of each call come from."""

    def current(self) -> Credentials: ...


@attrs.frozen
class Fixed:
    """The same credentials for every call."""

    credentials: Credentials

    def current(self) -> Credentials:
        return self.credentials


class DefaultChain:
    """The official credentials package's default chain, asked at every call."""

    def __init__(self) -> None:
        client = import_sdk("alibabacloud_credentials.client", "the default credential chain")
        self._errors = import_sdk("alibabacloud_credentials.exceptions", "the default credential chain")
        self.client: Any = client.Client()

    def current(self) -> Credentials:
        try:
            found = self.client.get_credential()
        except self._errors.CredentialException as exc:
            raise no_credentials(str(getattr(exc, "message", exc))) from None
        if not found.access_key_id or not found.access_key_secret:
            raise no_credentials("the default chain gave no access key")
        return Credentials(found.access_key_id, found.access_key_secret, found.security_token or None)


def no_credentials(reason: str) -> PullError:
    return PullError(
        f"no Alibaba Cloud credentials: set {ENV_KEY_ID} and {ENV_KEY_SECRET}, or configure the "
        f"SDK's default credential chain ({reason})"
    )


def from_environment(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """The credentials the environment names, ``None`` when it names none; a key id without its
    secret (or the reverse) is a :class:`PullError` rather than a silent fall-through."""
    environ = os.environ if environ is None else environ
    key_id, secret = environ.get(ENV_KEY_ID, ""), environ.get(ENV_KEY_SECRET, "")
    if not key_id and not secret:
        return None
    if not key_id or not secret:
        missing = ENV_KEY_ID if not key_id else ENV_KEY_SECRET
        raise PullError(f"{missing} is not set, but the other half of the key pair is")
    return Credentials(key_id, secret, environ.get(ENV_TOKEN) or None)


def source(credentials: Credentials | CredentialSource | None = None) -> CredentialSource:
    """The source of the credentials to use: those given, else the environment's, else the
    default chain (see the module docstring)."""
    if isinstance(credentials, Credentials):
        return Fixed(credentials)
    if credentials is not None:
        return credentials
    found = from_environment()
    return Fixed(found) if found is not None else DefaultChain()


def import_sdk(module: str, needed_for: str) -> Any:
    """Import a module of the official SDK, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise PullError(
            f"{needed_for} needs the official Alibaba Cloud SDK (module {exc.name} is missing): "
            f"{INSTALL_HINT}"
        ) from None
