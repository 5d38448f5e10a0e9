-- Several nodes share what used to live in one process's memory.

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
