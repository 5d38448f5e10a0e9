-- Ordercast's schema. Plain SQL that PostgreSQL also accepts, apart from the marked
-- SQLite-specific column types (INTEGER PRIMARY KEY AUTOINCREMENT, booleans as INTEGER).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('customer', 'shopkeeper', 'admin')),
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL
);

CREATE TABLE shops (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    is_open    INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT    NOT NULL
);

-- Which shopkeepers work in which shops.
CREATE TABLE shop_staff (
    shop_id INTEGER NOT NULL REFERENCES shops (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (shop_id, user_id)
);
CREATE INDEX shop_staff_user ON shop_staff (user_id);

CREATE TABLE products (
    id                  INTEGER PRIMARY KEY,
    shop_id             INTEGER NOT NULL REFERENCES shops (id),
    name                TEXT    NOT NULL,
    price_minor         INTEGER NOT NULL CHECK (price_minor >= 0),
    stock               INTEGER NOT NULL CHECK (stock >= 0),
    low_stock_threshold INTEGER NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
    available           INTEGER NOT NULL DEFAULT 1,
    updated_at          TEXT    NOT NULL
);
CREATE INDEX products_shop ON products (shop_id, id);

CREATE TABLE orders (
    id             INTEGER PRIMARY KEY,
    shop_id        INTEGER NOT NULL REFERENCES shops (id),
    customer_id    INTEGER NOT NULL REFERENCES users (id),
    total_minor    INTEGER NOT NULL CHECK (total_minor >= 0),
    status         TEXT    NOT NULL,
    payment_status TEXT    NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, id);
CREATE INDEX orders_shop ON orders (shop_id, id);

-- Lines of an order, with the product's name and price captured when it was placed.
CREATE TABLE order_items (
    order_id         INTEGER NOT NULL REFERENCES orders (id),
    position         INTEGER NOT NULL,
    product_id       INTEGER NOT NULL REFERENCES products (id),
    name             TEXT    NOT NULL,
    unit_price_minor INTEGER NOT NULL,
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, position)
);

CREATE TABLE order_history (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    status     TEXT    NOT NULL,
    change     TEXT    NOT NULL,
    by_user_id INTEGER NOT NULL REFERENCES users (id),
    note       TEXT,
    at         TEXT    NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id, id);

-- Sessions: only a hash of the token is stored.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The outbox: every change writes one or more rows here in its own transaction.
-- AUTOINCREMENT keeps seq strictly increasing and never reused, even after pruning.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type TEXT    NOT NULL,
    topics     TEXT    NOT NULL, -- JSON array of topic names, e.g. ["user:3","shop:1","admin"]
    payload    TEXT    NOT NULL, -- JSON
    created_at TEXT    NOT NULL
);
CREATE INDEX events_created ON events (created_at);
