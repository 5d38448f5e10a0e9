-- What a customer needs to reach a shop and what its prices are in, and when the shop's board
-- shows an order as getting late (amber) and late (red), in minutes in its current status.
ALTER TABLE shops ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN opening_hours TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR';
ALTER TABLE shops ADD COLUMN warn_after_mins BIGINT NOT NULL DEFAULT 5;
ALTER TABLE shops ADD COLUMN late_after_mins BIGINT NOT NULL DEFAULT 10;
