-- Archives made in the background (see documents::server::background), kept for a day so
-- that any instance can serve them. Times are Unix milliseconds.
CREATE TABLE archives (
    id TEXT PRIMARY KEY,
    -- The principal's subject (`customer:<id>`, `link:<id>`); a link session's archive is also
    -- that session's alone.
    owner TEXT NOT NULL,
    session_id TEXT,
    customer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- running, ready or failed
    state TEXT NOT NULL,
    files_total BIGINT NOT NULL,
    files_done BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    -- Written while the job runs: a running archive whose job stopped writing was interrupted.
    heartbeat_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    -- What it holds (a ready archive) or why it failed.
    detail TEXT
);
CREATE INDEX archives_owner ON archives (owner);
CREATE INDEX archives_expires ON archives (expires_ms);

-- The archive's bytes, in order. BYTEA is PostgreSQL's type for bytes; SQLite, which knows
-- no such type, stores the bytes as they come (a blob keeps its storage class whatever the
-- column's affinity).
CREATE TABLE archive_chunks (
    archive_id TEXT NOT NULL REFERENCES archives (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (archive_id, seq)
);
