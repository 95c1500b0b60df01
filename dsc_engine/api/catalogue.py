"""The one catalogue of service errors: every code the engine or its server answers with, its
HTTP status and its message in English and Chinese (``docs/semantics.md`` §7).

A message is fixed (the service's own wording), a template of the parameter ``{name}`` and a
:class:`~dsc_engine.errors.Reason` (``{reason}``, one sentence in the request's language), or, for
refusals of the HTTP layer that the service's gateway words itself, the refusal's own English
reason (``zh`` is ``None``: the server answers those in English). :func:`api_error` turns a code
into the :class:`ApiError` the library raises and the server sends; nothing else maps codes to
statuses or messages. ``docs/server.md`` lists every code (a test holds the two together).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from dsc_engine.api.errors import ApiError
from dsc_engine.errors import Reason
from dsc_engine.models.enums import Lang


@attrs.frozen
class ServiceError:
    """One code: its HTTP status and its message in each language (see the module docstring)."""

    code: str
    status: int
    en: str | None
    zh: str | None = None

    def message(self, lang: Lang, *, name: str = "", reason: Reason | str | None = None) -> str:
        """The message in ``lang`` (English where the catalogue has no Chinese wording)."""
        template = self.zh if lang is Lang.ZH_CN and self.zh is not None else self.en
        chinese = template is self.zh and self.zh is not None
        if isinstance(reason, Reason):
            text = reason.zh if chinese else reason.en
        else:
            text = reason or ""
        stop = "。" if chinese else "."
        if template is None or ("{name}" in template and not name):
            return _sentence(text, stop)  # the refusal's own reason is the message
        return template.format(name=name, reason=_sentence(text, stop))


def _sentence(text: str, stop: str) -> str:
    """``text`` as a sentence: capitalised, ending in a full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".。!?！？" else text + stop


def _entries(*errors: ServiceError) -> Mapping[str, ServiceError]:
    return {error.code: error for error in errors}


#: ``Missing<Name>``: the code of a missing required parameter is made from its name.
MISSING = ServiceError("Missing", 400, "{name} is mandatory for this action.", "{name} 是该操作的必填参数。")

CATALOGUE: Mapping[str, ServiceError] = _entries(
    # -- the API's own answers (the engine) -----------------------------------------------------
    ServiceError(
        "InvalidParameter", 400,
        'The specified parameter "{name}" is not valid. {reason}', '指定的参数 "{name}" 无效。{reason}',
    ),
    ServiceError(
        "InvalidApi.NotFound", 404,
        "Specified api is not found, please check your url and method.",
        "找不到指定的 API，请检查您的 URL 和请求方法。",
    ),
    ServiceError(
        "InternalError", 500,
        "The request processing has failed due to some unknown error, exception or failure.",
        "由于未知错误、异常或故障，请求处理失败。",
    ),
    # -- the gateway's answers (the server: signatures, policies, flow control) ------------------
    ServiceError(
        "IncompleteSignature", 400,
        "The request signature does not conform to Aliyun standards.", "请求签名不符合阿里云标准。",
    ),
    ServiceError(
        "SignatureDoesNotMatch", 400,
        "Specified signature is not matched with our calculation.", "指定的签名与我们的计算不匹配。",
    ),
    ServiceError("InvalidAccessKeyId.NotFound", 404, "Specified access key is not found.", "找不到指定的 AccessKey。"),
    ServiceError(
        "InvalidTimeStamp.Expired", 400,
        "Specified time stamp or date value is expired.", "指定的时间戳或日期值已过期。",
    ),
    ServiceError(
        "SignatureNonceUsed", 400, "Specified signature nonce was used already.", "指定的签名随机数已被使用。",
    ),
    ServiceError(
        "InvalidSecurityToken.MismatchWithAccessKey", 400,
        "Specified SecurityToken mismatch with the AccessKey.", "指定的 SecurityToken 与 AccessKey 不匹配。",
    ),
    ServiceError(
        "Forbidden.RAM", 403,
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        "用户无权操作指定的资源，或此 API 不支持 RAM。",
    ),
    ServiceError("Throttling.User", 400, "Request was denied due to user flow control.", "由于用户流控，请求被拒绝。"),
    # -- the HTTP layer's answers (worded by the refusal itself, in English) ---------------------
    ServiceError("MissingAction", 400, None),
    ServiceError("UnsupportedHTTPMethod", 405, None),
    ServiceError("RequestTimeout", 408, None),
    ServiceError("LengthRequired", 411, None),
    ServiceError("RequestEntityTooLarge", 413, None),
    ServiceError("RequestURITooLong", 414, None),
    ServiceError("UnsupportedMediaType", 415, None),
    ServiceError("RequestHeaderFieldsTooLarge", 431, None),
    ServiceError("Throttling", 503, None),
    ServiceError("ServiceUnavailable", 503, None),
    ServiceError("HTTPVersionNotSupported", 505, None),
)


def api_error(
    code: str,
    lang: Lang,
    *,
    product: str,
    request_id: str,
    host: str,
    name: str = "",
    reason: Reason | str | None = None,
) -> ApiError:
    """The error the service answers with ``code`` (``Missing<Name>`` for ``MISSING``)."""
    if code == MISSING.code:
        entry, code = MISSING, f"Missing{name}"
    else:
        entry = CATALOGUE[code]
    message = entry.message(lang, name=name, reason=reason)
    return ApiError(code, message, entry.status, product=product, request_id=request_id, host=host)
