"""The parameters an RPC request carries besides its operation's own (``docs/server.md``): the
common ones every request may name and, for a v2-signed request, the signature's. The service's
gateway consumes them; an operation never sees them. The server strips them before the engine
answers, and a replayed capture that kept them is read without them (``docs/formats.md``)."""

from __future__ import annotations

import re
from typing import Final

from dsc_engine.api.spec import DMS, SDDP

#: ``Action``, ``Version``, ``Format`` (JSON only) and ``RegionId`` (accepted; the engine has no regions).
COMMON_PARAMS = frozenset({"Action", "Version", "Format", "RegionId"})
#: Parameters of the v2 scheme (a request with a ``Signature`` parameter).
V2_SIGNATURE_PARAMS = frozenset(
    {
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "SecurityToken",
    }
)


#: Hosts of Sddp and DMS endpoints: ``<product>[-<network>...][.<region>].aliyuncs.com``, by product.
_PRODUCT_HOSTS: Final = {
    product: re.compile(rf"{prefix}(?:-[a-z0-9]+)*(?:\.[a-z0-9-]+)?\.aliyuncs\.com")
    for product, prefix in ((SDDP, "sddp"), (DMS, "dms-enterprise"))
}


def hostname(host: str) -> str:
    """``host[:port]`` (perhaps with a scheme, as an SDK endpoint may be) -> the lower-case name,
    without the trailing dot of a fully qualified one (``sddp.aliyuncs.com.`` is the same host)."""
    name = host.strip().lower().split("://", 1)[-1].split("/", 1)[0]
    if name.startswith("["):
        return name[1:].split("]", 1)[0]
    return (name.rsplit(":", 1)[0] if name.count(":") == 1 else name).removesuffix(".")


def endpoint_product(host: str) -> str | None:
    """The product whose endpoint ``host`` is (``Sddp``, ``dms-enterprise``), or ``None``: at such
    an endpoint only that product's actions exist, as in the cloud."""
    name = hostname(host)
    return next((product for product, pattern in _PRODUCT_HOSTS.items() if pattern.fullmatch(name)), None)
