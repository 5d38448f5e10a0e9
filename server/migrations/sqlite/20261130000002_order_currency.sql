-- The currency an order was placed in, kept with it as its prices are: a shop that changes its
-- currency later must not relabel what it has already sold (€5.50 becoming £5.50). Orders placed
-- before this column read their shop's currency, which is what they were placed in until now.
ALTER TABLE orders ADD COLUMN currency TEXT;
UPDATE orders SET currency = (SELECT currency FROM shops WHERE shops.id = orders.shop_id);
