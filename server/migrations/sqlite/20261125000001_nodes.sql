-- Several nodes share what used to live in one process's memory.

-- The outbox's sequence: each committing transaction takes its numbers from here as its last
-- statement, so seq is gapless and in commit order (see db::Tx::commit). It continues from the
-- highest number ever given.
CREATE TABLE event_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO event_counter (id, last)
SELECT 1, MAX(
    COALESCE((SELECT MAX(seq) FROM events), 0),
    (SELECT pruned_through FROM event_horizon WHERE id = 1),
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)
);

-- Staff presence: one row per node and user with open sockets, kept alive by the node's
-- heartbeat; rows of a node that stopped expire. users.online is the state last announced.
CREATE TABLE presence (
    node_id     TEXT    NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    connections INTEGER NOT NULL,
    expires_at  TEXT    NOT NULL,
    PRIMARY KEY (node_id, user_id)
);
CREATE INDEX presence_user ON presence (user_id);
ALTER TABLE users ADD COLUMN online INTEGER NOT NULL DEFAULT 0;

-- Failed sign-ins per key (an email or a client address) in the current window.
CREATE TABLE login_failures (
    key          TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start TEXT    NOT NULL
);
