"""Admin routes to change the bureau's data (sandbox only, no auth).

``POST /__admin/records/<resource>`` with ``{"upsert": [records], "delete":
[ids], "updated_at": ISO 8601 (optional, default: the sandbox clock)}``:
upserted fields are merged over the record's current version; a deleted
record comes back once as a tombstone. ``<resource>`` is the path after
``/v2/`` (``road-events``, ``bridges``, ``hazmat/carriers``, ``hazmat/waybills``).
``GET /__admin/records/<resource>?id=<id>`` shows a record as the API would now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from standins.common.http import ADMIN_PREFIX, json_error, read_json_object
from standins.common.timefmt import iso_cst, parse_iso_with_offset

if TYPE_CHECKING:
    from standins.transport.app import TransportService


def admin_record_routes(service: TransportService) -> list[Route]:
    async def change(request: Request) -> Response:
        resource = request.path_params["resource"]
        try:
            body = await read_json_object(request)
            at = parse_iso_with_offset(body["updated_at"], "updated_at") if body.get("updated_at") else None
            upsert = _list_of(body, "upsert", dict)
            delete = _list_of(body, "delete", str)
            upserted = service.upsert(resource, upsert, at) if upsert else []
            deleted = service.delete(resource, delete, at) if delete else []
        except KeyError as exc:
            return json_error(404, str(exc.args[0]))
        except ValueError as exc:
            return json_error(400, str(exc))
        stamp = iso_cst(at) if at else iso_cst(service.now())
        return JSONResponse({"resource": resource, "upserted": upserted, "deleted": deleted, "updated_at": stamp})

    async def show(request: Request) -> Response:
        resource = request.path_params["resource"]
        key = request.query_params.get("id")
        if not key:
            return json_error(400, "query parameter id is required")
        try:
            record = service.record(resource, key)
        except KeyError as exc:
            return json_error(404, str(exc.args[0]))
        return JSONResponse({"resource": resource, "record": record})

    return [
        Route(f"{ADMIN_PREFIX}/records/{{resource:path}}", change, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/records/{{resource:path}}", show, methods=["GET"]),
    ]


def _list_of(body: dict[str, Any], name: str, kind: type) -> list[Any]:
    value = body.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise ValueError(f"{name} must be a list of {'objects' if kind is dict else 'strings'}")
    return value
