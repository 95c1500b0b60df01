"""Server mode: the three APIs over HTTP, signed and authorized as the cloud does it.

* :func:`make_app` (``app.py``): the WSGI application, hostable by any WSGI server;
* :class:`RunningServer` (``host.py``): the application on the standard library's threaded server;
* ``config.py``: access keys, RAM-style policies (``policy.py``), throttling (``throttle.py``),
  limits; ``auth.py`` verifies ACS3-HMAC-SHA256 and HMAC-SHA1 signatures (``signing.py``);
* ``cli.py``: the ``dsc-engine serve`` subcommand.

``dsc_engine.testing`` starts a server for tests and hands out a ready SDK ``Config``;
``dsc_engine.mock`` hands the SDK's requests to the same :class:`Application` in-process.
"""

from dsc_engine.server.app import Application, make_app
from dsc_engine.server.config import AccessKey, ServerConfig, load_config
from dsc_engine.server.host import RunningServer
from dsc_engine.server.policy import Policy

__all__ = [
    "AccessKey",
    "Application",
    "Policy",
    "RunningServer",
    "ServerConfig",
    "load_config",
    "make_app",
]
