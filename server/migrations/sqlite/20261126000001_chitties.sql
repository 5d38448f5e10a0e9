-- Chitties: photographed shopping lists, read by OCR and confirmed by staff into orders.

CREATE TABLE chitties (
    id          INTEGER PRIMARY KEY,
    shop_id     INTEGER NOT NULL REFERENCES shops (id),
    customer_id INTEGER NOT NULL REFERENCES users (id),
    status      TEXT    NOT NULL CHECK (status IN ('processing', 'read', 'failed', 'ordered', 'rejected')),
    note        TEXT,
    reason      TEXT,
    -- The lines as read (JSON array of app::api::ChittyLine): one document, written at once.
    lines       TEXT    NOT NULL DEFAULT '[]',
    order_id    INTEGER REFERENCES orders (id),
    version     INTEGER NOT NULL DEFAULT 1,
    -- The reading job: how often it was started, and until when the node that took it last
    -- holds it (it renews this while it works; a crashed node's job is taken over after).
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until TEXT,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX chitties_shop ON chitties (shop_id, id);
CREATE INDEX chitties_customer ON chitties (customer_id, created_at);
CREATE INDEX chitties_processing ON chitties (id) WHERE status = 'processing';

-- The photo as uploaded, apart from the row so that lists never load it.
CREATE TABLE chitty_images (
    chitty_id    INTEGER PRIMARY KEY REFERENCES chitties (id),
    content_type TEXT    NOT NULL,
    bytes        BLOB    NOT NULL
);

-- What a shop's staff taught: a line reading like `alias` (normalised) means this product.
CREATE TABLE product_aliases (
    shop_id    INTEGER NOT NULL REFERENCES shops (id),
    alias      TEXT    NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products (id),
    uses       INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (shop_id, alias)
);
