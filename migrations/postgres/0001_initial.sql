-- Sessions (tower-sessions records). `subject` names the signed-in principal, so that
-- "sign out everywhere" can end all of one person's sessions.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    subject TEXT
);
CREATE INDEX sessions_subject ON sessions (subject);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- One sign-in request: the link token and the code, stored only as keyed hashes.
CREATE TABLE sign_in_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    code_attempts INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX sign_in_attempts_expires_at ON sign_in_attempts (expires_at);

-- Who did what, when, from where.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    customer_id TEXT,
    subject TEXT,
    ip TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_customer ON audit_events (customer_id, at);

-- Small settings Folio keeps for itself (the generated session secret in demo mode).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
