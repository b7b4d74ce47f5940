-- FlexPortal's answers, kept for every instance (see base::server::answer_store).
CREATE TABLE answers (
    key TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    fetched_ms BIGINT NOT NULL,
    fresh_until_ms BIGINT NOT NULL,
    owner TEXT,
    hint TEXT,
    used_ms BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    -- When the answer was last marked for refresh (a webhook): an answer asked for before
    -- then is kept as past its freshness.
    marked_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX answers_owner ON answers (owner);
CREATE INDEX answers_used ON answers (used_ms);

-- One refresh per answer at a time, across instances.
CREATE TABLE answer_leases (
    key TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);

-- The tenant's request budget: one row per request of a window; a grant takes a row whose
-- last grant is older than the window.
CREATE TABLE upstream_budget (
    slot BIGINT PRIMARY KEY,
    granted_ms BIGINT NOT NULL,
    priority TEXT NOT NULL
);

-- Set when FlexPortal answers 429: no instance sends before until_ms.
CREATE TABLE upstream_pause (
    id BIGINT PRIMARY KEY,
    until_ms BIGINT NOT NULL
);
INSERT INTO upstream_pause (id, until_ms) VALUES (1, 0);

-- Sign-in limits, counted for every instance.
CREATE TABLE rate_counts (
    bucket TEXT NOT NULL,
    window_no BIGINT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_no)
);
