"""Every error answer the server gives on its own, before or instead of the engine's.

Refusals are raised as :class:`~dsc_engine.errors.RequestRejected` by the request reader, the
router, the authenticator and the gate, and by the HTTP host for what ``http.server`` refuses
itself (``head.py`` HTTP_LAYER_CODES); :func:`to_api_error` turns one into the service's error
shape. The one catalogue of codes, statuses and messages is ``dsc_engine/api/catalogue.py``;
``docs/server.md`` lists each code with its status (a test holds the two together). The codes the service's gateway answers carry its
fixed message; the others (HTTP-level limits, which the gateway words differently) carry a
message that says what was wrong or what limit was hit. The engine's own errors
(``Missing<Name>``, ``InvalidParameter`` about a parameter, ``InvalidApi.NotFound``) are
``docs/api.md``'s.

=============================================  ====  =========================================
code                                           HTTP  when
=============================================  ====  =========================================
IncompleteSignature                            400   signature parts missing or malformed
SignatureDoesNotMatch                          400   signature (or content hash) does not verify
InvalidAccessKeyId.NotFound                    404   access key id not configured
InvalidTimeStamp.Expired                       400   signed time more than 15 minutes off
SignatureNonceUsed                             400   nonce used by this key for a request that
                                                     is still valid (15 minutes past the later
                                                     of its signed time and its first use)
InvalidSecurityToken.MismatchWithAccessKey     400   token given but not configured for the key,
                                                     or missing for a key configured with tokens
Forbidden.RAM                                  403   the key's policy does not allow the action
Throttling.User                                400   more than the rate per key and operation
InvalidParameter                               400   invalid UTF-8, repeated parameter,
                                                     conflicting Action/Version, a v2 request
                                                     routed by an unsigned x-acs-action/-version
                                                     header, an x-acs-* header not read,
                                                     Format not JSON,
                                                     Content-Length not 1-19 ASCII digits or
                                                     given twice, a malformed request line
                                                     or an HTTP/0.9 one, a header line that
                                                     is not ``Name: value``, a header value
                                                     folded over lines or holding a NUL
MissingAction                                  400   neither x-acs-action nor Action given
InvalidApi.NotFound                            404   a path other than ``/``
UnsupportedHTTPMethod                          405   a method other than GET or POST
RequestTimeout                                 408   the body did not arrive within
                                                     ``limits.request_timeout``, or stalled
LengthRequired                                 411   a Transfer-Encoding body, or (built-in
                                                     host) a POST without Content-Length
RequestEntityTooLarge                          413   body above ``limits.max_body_bytes``
RequestURITooLong                              414   query string above ``limits.max_query_bytes``
                                                     (or a request line above 64 KiB)
UnsupportedMediaType                           415   a body that is not form-encoded
RequestHeaderFieldsTooLarge                    431   more than 99 header fields, or one above 64 KiB
InternalError                                  500   anything unexpected (logged, never shown)
Throttling                                     503   ``limits.max_nonces`` nonces remembered,
                                                     none expired yet: retry later
ServiceUnavailable                             503   the record proxy's upstream did not answer
HTTPVersionNotSupported                        505   HTTP/2.0 or later in the request line
=============================================  ====  =========================================
"""

from __future__ import annotations

from dsc_engine.api.catalogue import api_error
from dsc_engine.api.errors import ApiError
from dsc_engine.errors import RequestRejected
from dsc_engine.models.enums import Lang


def invalid_parameter(name: str, reason: str) -> RequestRejected:
    """An ``InvalidParameter`` refusal of parameter (or header) ``name``."""
    return RequestRejected("InvalidParameter", reason, name)


def to_api_error(rejection: RequestRejected, *, product: str, request_id: str, host: str) -> ApiError:
    """The error body of a refusal, from the catalogue (the server answers in English)."""
    return api_error(
        rejection.code, Lang.EN_US, product=product, request_id=request_id, host=host,
        name=rejection.name, reason=rejection.reason,
    )


def internal_error(*, product: str, request_id: str, host: str) -> ApiError:
    return api_error("InternalError", Lang.EN_US, product=product, request_id=request_id, host=host)
