"""The parameters an RPC request carries besides its operation's own (``docs/server.md``): the
common ones every request may name and, for a v2-signed request, the signature's. The service's
gateway consumes them; an operation never sees them. The server strips them before the engine
answers, and a replayed capture that kept them is read without them (``docs/formats.md``)."""

from __future__ import annotations

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
