-- Keys of the HTTP API (api/keys.py): one per intake service or operator tool. Only the SHA-256
-- of a key is kept; the key id, the public part of `apk_<key_id>_<secret>`, finds the row.
CREATE TABLE api_keys (
    key_id      text        PRIMARY KEY,
    name        text        NOT NULL,
    scope       text        NOT NULL CHECK (scope IN ('intake', 'operator')),
    key_sha256  bytea       NOT NULL CHECK (length(key_sha256) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
CREATE INDEX api_keys_by_name ON api_keys (name);
