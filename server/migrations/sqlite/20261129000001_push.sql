-- Web Push: the server's VAPID key, each user's devices, and the durable job that sends.

-- One row: the key pair this server signs pushes with (raw P-256, base64url), made on first start.
CREATE TABLE push_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    private_key TEXT    NOT NULL,
    public_key  TEXT    NOT NULL
);

-- A device that asked to be notified: the push service's endpoint and the keys that encrypt
-- for it. One endpoint is one device; subscribing it again moves it to whoever subscribed.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    device     TEXT    NOT NULL DEFAULT '',
    created_at TEXT    NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- One row: the last outbox `seq` the planner has turned into pushes.
CREATE TABLE push_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
);

-- Pushes to send: one per event and device, retried with backoff until the push service takes
-- it, says the device is gone, or the attempts run out. A row being sent is held by moving
-- `next_attempt_at` ahead (a lease): a node that dies mid-send leaves it for the next.
CREATE TABLE push_outbox (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    urgency         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    UNIQUE (subscription_id, seq)
);
CREATE INDEX push_outbox_due ON push_outbox (next_attempt_at);
