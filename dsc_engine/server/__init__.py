"""Server mode: the three APIs over HTTP, signed and authorized as the cloud does it.

* :func:`make_app` (``app.py``): the WSGI application, hostable by any WSGI server;
* :class:`RunningServer` (``host.py``): the application on the standard library's threaded server;
* ``config.py``: access keys, RAM-style policies (``policy.py``), throttling (``throttle.py``),
  limits; ``auth.py`` verifies ACS3-HMAC-SHA256 (or -SM3) and HMAC-SHA1 signatures (``signing.py``);
* ``cli.py``: the ``dsc-engine serve`` subcommand.

``dsc_engine.testing`` starts a server for tests and hands out a ready SDK ``Config``;
``dsc_engine.mock`` hands the SDK's requests to the same :class:`Application` in-process
(``inprocess.py`` turns an SDK request into a WSGI environ).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dsc_engine.server.app import Application, make_app
    from dsc_engine.server.config import AccessKey, ServerConfig, load_config
    from dsc_engine.server.host import RunningServer
    from dsc_engine.server.policy import Policy

#: Where each name of ``__all__`` is defined. They are imported on first use, so that importing
#: a light module of the package (``config``, for the CLI's options) does not import the WSGI
#: application, the HTTP server and the standard library's http, email and ssl modules.
_DEFINED_IN = {
    "AccessKey": "config",
    "Application": "app",
    "Policy": "policy",
    "RunningServer": "host",
    "ServerConfig": "config",
    "load_config": "config",
    "make_app": "app",
}


def __getattr__(name: str) -> Any:
    module = _DEFINED_IN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "AccessKey",
    "Application",
    "Policy",
    "RunningServer",
    "ServerConfig",
    "load_config",
    "make_app",
]
