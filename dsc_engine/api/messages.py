"""Mapping engine errors to service errors (CONTRACT.md section 5), in English or Chinese.

This is the only place that knows Alibaba error codes and HTTP statuses of request errors. The
language follows the request's ``Lang`` (Sddp operations; ``zh_cn`` by default); the DMS
operation has no ``Lang`` and answers in English.
"""

from __future__ import annotations

from dsc_engine.api.errors import ApiError
from dsc_engine.errors import (
    MissingParameterError,
    RequestError,
    UnknownActionError,
)
from dsc_engine.models import Lang

_NOT_FOUND = {
    Lang.EN_US: "Specified api is not found, please check your url and method.",
    Lang.ZH_CN: "找不到指定的 API，请检查您的 URL 和请求方法。",
}
_INTERNAL = {
    Lang.EN_US: (
        "The request processing has failed due to some unknown error, exception or failure."
    ),
    Lang.ZH_CN: "由于未知错误、异常或故障，请求处理失败。",
}


def missing_message(name: str, lang: Lang) -> str:
    if lang is Lang.ZH_CN:
        return f"{name} 是该操作的必填参数。"
    return f"{name} is mandatory for this action."


def invalid_message(name: str, reason: str, lang: Lang) -> str:
    """``The specified parameter "<Name>" is not valid.`` and the reason as a sentence."""
    if lang is Lang.ZH_CN:
        zh = getattr(reason, "zh", None)
        detail = zh if zh is not None else reason  # a reason with no Chinese form stays English
        return f'指定的参数 "{name}" 无效。{_sentence(detail, "。")}'
    return f'The specified parameter "{name}" is not valid. {_sentence(reason, ".")}'


def _sentence(text: str, stop: str) -> str:
    text = str(text).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".。!?！？" else text + stop


def request_error(
    exc: RequestError, *, lang: Lang, product: str, request_id: str, host: str
) -> ApiError:
    """The service error for a refused request."""
    if isinstance(exc, MissingParameterError):
        code, status, message = f"Missing{exc.name}", 400, missing_message(exc.name, lang)
    elif isinstance(exc, UnknownActionError):
        code, status, message = "InvalidApi.NotFound", 404, _NOT_FOUND[lang]
    else:  # InvalidParameterError, and any request error without a code of its own
        code, status = "InvalidParameter", 400
        message = invalid_message(exc.name, exc.reason, lang)
    return ApiError(code, message, status, product=product, request_id=request_id, host=host)


def internal_error(*, lang: Lang, product: str, request_id: str, host: str) -> ApiError:
    """The service error for an unexpected failure (HTTP 500)."""
    return ApiError(
        "InternalError", _INTERNAL[lang], 500, product=product, request_id=request_id, host=host
    )
