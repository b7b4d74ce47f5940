-- Account managers. Added and removed with `folio staff add|remove`; the address is kept in
-- lower case, so that sign-in matches it whatever its spelling.
CREATE TABLE staff (
    email TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Sign-in attempts serve customers and staff alike: `account_id` is the customer's id or the
-- staff member's address, `audience` says which.
ALTER TABLE sign_in_attempts RENAME COLUMN customer_id TO account_id;
ALTER TABLE sign_in_attempts ADD COLUMN audience TEXT NOT NULL DEFAULT 'customer';

-- Portal links. The token is stored only as its SHA-256; the scope is fixed at creation.
-- `doc_types` is a comma-separated list, NULL for every type.
CREATE TABLE share_links (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    order_id TEXT,
    doc_types TEXT,
    label TEXT NOT NULL,
    recipient TEXT,
    locale TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_opens BIGINT,
    opens BIGINT NOT NULL DEFAULT 0,
    last_opened_at BIGINT,
    revoked_at BIGINT,
    revoked_by TEXT
);
CREATE INDEX share_links_customer ON share_links (customer_id, created_at);
CREATE INDEX share_links_created ON share_links (created_at);

-- Audit events about a link name it.
ALTER TABLE audit_events ADD COLUMN link_id TEXT;
CREATE INDEX audit_events_link ON audit_events (link_id, at);
CREATE INDEX audit_events_actor ON audit_events (actor, at);
