"""The intake and action HTTP API: FastAPI over the same models, validation and Temporal client
as `starter.py` and `appealctl.py` (README: "The HTTP API").

    app.py      the app factory: routers, middleware, errors, the OpenAPI document
    keys.py     API keys: their form, stored hashed in PostgreSQL, scopes
    auth.py     the caller of a request: its key, its scope, its rate
    services.py what the routes share: the Temporal client, the pool, the keys, the buckets
    limits.py   the body size cap and the token bucket per key
    access.py   the access log, free of personal data
    appeals.py  POST /appeals (one or a batch), GET /appeals/{id}
    actions.py  POST /appeals/{id}/actions/{action}: the Updates
    filters.py  GET /appeals: the ready filters, with paging
    health.py   GET /healthz
    views.py    response models and local times
    server.py   serving it with uvicorn, alone (api_server.py) or inside `dev.py up`
"""
