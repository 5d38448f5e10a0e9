-- The figures read the orders placed in the last 24 hours and the open ones; boards read a
-- shop's open orders. Without these both scan every order ever placed.
CREATE INDEX orders_created ON orders (created_at);
CREATE INDEX orders_status ON orders (status, shop_id);
