"""OpenAPI additions: the API's one error shape, documented on every operation.

drf-spectacular documents only the success responses of a view. Every operation can also
answer with the error shape of `portal.api.errors`; this hook adds those responses, so that
clients (and the schemathesis run in the tests) know every status code the API may send.
"""

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of this API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "status": {"type": "integer", "description": "The HTTP status code."},
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable code, e.g. `stale_version`.",
                },
                "message": {
                    "type": "string",
                    "description": "For people, in the request's language (Dutch by default).",
                },
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "Per field, what is wrong with it (400 only).",
                },
            },
            "required": ["status", "code", "message"],
        }
    },
    "required": ["error"],
}

# Status code -> description; 409 only where a change can be refused.
ERRORS = {
    "400": "Invalid input: see `fields`.",
    "401": "Not authenticated, or an unknown or revoked token.",
    "403": "Not allowed for your role, or a session request without a CSRF token.",
    "404": "Not found, or outside your scope (the two are indistinguishable).",
    "409": "Refused by the workflow, or `version` is stale: reload and try again.",
    "429": "Too many requests: wait and try again.",
}


def error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS entry: add the error shape and its responses to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                if code in responses:
                    # Declared by the view (e.g. a download refused with 409): same shape.
                    responses[code].setdefault("content", content)
                    continue
                if code == "409" and method != "post":
                    continue
                responses[code] = {"content": content, "description": description}
    return result
