"""Every error answer the server gives on its own, before or instead of the engine's.

Refusals are raised as :class:`~dsc_engine.errors.RequestRejected` by the request reader, the
router, the authenticator and the gate, and by the HTTP host for what ``http.server`` refuses
itself (``host.py`` HTTP_LAYER_CODES); :func:`to_api_error` turns one into the service's error
shape. :data:`ERRORS` is the one catalogue of these codes, and ``docs/server.md`` lists each with
its status (a test holds the three together). The codes the service's gateway answers carry its
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
                                                     header, Format not JSON,
                                                     Content-Length not 1-19 ASCII digits or
                                                     given twice, a malformed request line
MissingAction                                  400   neither x-acs-action nor Action given
InvalidApi.NotFound                            404   a path other than ``/``
UnsupportedHTTPMethod                          405   a method other than GET or POST
RequestTimeout                                 408   the body did not arrive within
                                                     ``limits.request_timeout``, or stalled
LengthRequired                                 411   a chunked body (send Content-Length)
RequestEntityTooLarge                          413   body above ``limits.max_body_bytes``
RequestURITooLong                              414   query string above ``limits.max_query_bytes``
                                                     (or a request line above 64 KiB)
UnsupportedMediaType                           415   a body that is not form-encoded
RequestHeaderFieldsTooLarge                    431   more than 100 headers, or one above 64 KiB
InternalError                                  500   anything unexpected (logged, never shown)
Throttling                                     503   ``limits.max_nonces`` nonces remembered,
                                                     none expired yet: retry later
ServiceUnavailable                             503   the record proxy's upstream did not answer
HTTPVersionNotSupported                        505   HTTP/2.0 or later in the request line
=============================================  ====  =========================================
"""

from __future__ import annotations

from collections.abc import Mapping

from dsc_engine.api.errors import ApiError
from dsc_engine.errors import RequestRejected

#: code -> (HTTP status, fixed message or None when the refusal's own reason is the message).
ERRORS: Mapping[str, tuple[int, str | None]] = {
    "IncompleteSignature": (
        400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (
        400, "Specified signature is not matched with our calculation."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidSecurityToken.MismatchWithAccessKey": (
        400, "Specified SecurityToken mismatch with the AccessKey."),
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, "
        "or this API doesn't support RAM.",
    ),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "InvalidApi.NotFound": (
        404, "Specified api is not found, please check your url and method."),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
    "InvalidParameter": (400, None),
    "MissingAction": (400, None),
    "UnsupportedHTTPMethod": (405, None),
    "RequestTimeout": (408, None),
    "LengthRequired": (411, None),
    "RequestEntityTooLarge": (413, None),
    "RequestURITooLong": (414, None),
    "UnsupportedMediaType": (415, None),
    "RequestHeaderFieldsTooLarge": (431, None),
    "Throttling": (503, None),
    "ServiceUnavailable": (503, None),
    "HTTPVersionNotSupported": (505, None),
}


def invalid_parameter(name: str, reason: str) -> RequestRejected:
    """An ``InvalidParameter`` refusal worded as the service words it."""
    return RequestRejected("InvalidParameter", f'The specified parameter "{name}" is not valid. {reason}')


def to_api_error(rejection: RequestRejected, *, product: str, request_id: str, host: str) -> ApiError:
    status, message = ERRORS[rejection.code]
    return ApiError(
        rejection.code,
        message if message is not None else rejection.reason,
        status,
        product=product,
        request_id=request_id,
        host=host,
    )


def internal_error(*, product: str, request_id: str, host: str) -> ApiError:
    return to_api_error(
        RequestRejected("InternalError", "unexpected failure"),
        product=product, request_id=request_id, host=host,
    )
