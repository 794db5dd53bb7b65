"""Function URL configurations in the record store (pure records access, no request context).

Records (``shared.records``):

- kind ``function-url``, in the function's account and region, id = the url-id (32 lowercase
  letters and digits, the first label of the URL's host); doc = the ``GetFunctionUrlConfig``
  output shape (``FunctionUrl``, ``FunctionArn``, ``AuthType``, ``Cors`` when set,
  ``CreationTime``, ``LastModifiedTime``, ``InvokeMode``) plus ``FunctionName`` and
  ``Qualifier`` (an alias name, or None for the unqualified function).
- kind ``function-url-by-function``, same account and region, id ``f"{name}:{qualifier or ''}"``,
  doc ``{"UrlId": ...}``: how the control plane finds a function's URL.
- kind ``function-url-id``, account ``*`` and region ``*``, id = url-id, doc
  ``{"Account": ..., "Region": ...}``: how a request to ``<url-id>.lambda-url.<region>...`` finds
  its configuration knowing only the host.

The URL is ``<scheme>://<url-id>.lambda-url.<region>.localhost.localstack.cloud[:<port>]/``, with
the scheme and port of the fleet's external URL (``FLOTILLA_EXTERNAL_URL``), so it resolves to
127.0.0.1 like LocalStack's and reaches the gateway.
"""

from __future__ import annotations

import secrets
import string
from typing import Any
from urllib.parse import urlsplit

from shared.records import GLOBAL, RecordStore

URL = "function-url"
URL_BY_FUNCTION = "function-url-by-function"
URL_ID = "function-url-id"

_ALPHABET = string.ascii_lowercase + string.digits
HOST_SUFFIX = "localhost.localstack.cloud"


def _records(store: Any) -> RecordStore:
    """The record store of a LambdaStore (or a RecordStore itself)."""
    return store if isinstance(store, RecordStore) else store.records


def new_url_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


def function_url(external_url: str, url_id: str, region: str) -> str:
    parts = urlsplit(external_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme or 'http'}://{url_id}.lambda-url.{region}.{HOST_SUFFIX}{port}/"


def function_key(name: str, qualifier: str | None) -> str:
    return f"{name}:{qualifier or ''}"


def url_config(store: Any, account: str, region: str, url_id: str) -> dict[str, Any] | None:
    """The configuration of the URL ``url_id`` in that account and region, or None."""
    return _records(store).get(account, region, URL, url_id)


def locate(store: Any, url_id: str) -> tuple[str, str] | None:
    """``(account, region)`` of the URL ``url_id``, or None when no function has it."""
    where = _records(store).get(GLOBAL, GLOBAL, URL_ID, url_id)
    return (where["Account"], where["Region"]) if where else None


def find_url(store: Any, url_id: str) -> dict[str, Any] | None:
    """The configuration of the URL ``url_id`` knowing only the id (what a URL request has)."""
    where = locate(store, url_id)
    return url_config(store, *where, url_id) if where else None


def for_function(
    store: Any, account: str, region: str, name: str, qualifier: str | None
) -> dict[str, Any] | None:
    index = _records(store).get(account, region, URL_BY_FUNCTION, function_key(name, qualifier))
    return url_config(store, account, region, index["UrlId"]) if index else None


def of_function(store: Any, account: str, region: str, name: str) -> list[dict[str, Any]]:
    """Every URL configuration of the function (unqualified and aliases), in creation order."""
    return [doc for _, doc in _records(store).list(account, region, URL) if doc["FunctionName"] == name]


def save(store: Any, account: str, region: str, url_id: str, doc: dict[str, Any]) -> None:
    records = _records(store)
    records.put(account, region, URL, url_id, doc)
    key = function_key(doc["FunctionName"], doc.get("Qualifier"))
    records.put(account, region, URL_BY_FUNCTION, key, {"UrlId": url_id})
    records.put(GLOBAL, GLOBAL, URL_ID, url_id, {"Account": account, "Region": region})


def url_id_of(doc: dict[str, Any]) -> str:
    return urlsplit(doc["FunctionUrl"]).hostname.split(".", 1)[0]  # type: ignore[union-attr]


def delete(store: Any, account: str, region: str, doc: dict[str, Any]) -> None:
    records = _records(store)
    url_id = url_id_of(doc)
    records.delete(account, region, URL_BY_FUNCTION, function_key(doc["FunctionName"], doc.get("Qualifier")))
    records.delete(account, region, URL, url_id)
    records.delete(GLOBAL, GLOBAL, URL_ID, url_id)
