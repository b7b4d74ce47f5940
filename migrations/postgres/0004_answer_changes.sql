-- What changed, for the other instances to follow.
CREATE TABLE answer_changes (
    seq BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    version BIGINT NOT NULL,
    fresh_until_ms BIGINT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX answer_changes_at ON answer_changes (at_ms);
