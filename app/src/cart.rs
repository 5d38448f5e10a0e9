//! A customer's cart for one shop: which products, how many, what it costs, and whether it
//! can be ordered as it stands. Pure, so the rules are tested here; the shop page holds it
//! in a signal and the server checks everything again when the order is placed.

use crate::api::{NewOrder, NewOrderItem, Product};
use crate::domain::validation::{MAX_ITEMS_PER_ORDER, MAX_QUANTITY};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cart {
    /// (product id, quantity), in the order they were added.
    pub lines: Vec<(i64, i64)>,
}

impl Cart {
    pub fn quantity(&self, product_id: i64) -> i64 {
        self.lines.iter().find(|(id, _)| *id == product_id).map_or(0, |(_, q)| *q)
    }

    /// Adds one of a product, up to what is in stock. Returns whether the cart changed.
    pub fn add(&mut self, product: &Product) -> bool {
        if !product.available || self.quantity(product.id) >= product.stock.min(MAX_QUANTITY) {
            return false;
        }
        let full = self.lines.len() >= MAX_ITEMS_PER_ORDER;
        match self.lines.iter_mut().find(|(id, _)| *id == product.id) {
            Some((_, q)) => *q += 1,
            None if full => return false,
            None => self.lines.push((product.id, 1)),
        }
        true
    }

    /// Takes one away; the line goes when it reaches zero.
    pub fn remove(&mut self, product_id: i64) {
        if let Some((_, q)) = self.lines.iter_mut().find(|(id, _)| *id == product_id) {
            *q -= 1;
        }
        self.lines.retain(|(_, q)| *q > 0);
    }

    /// The cart as kept in the browser's storage between visits: `id:quantity` pairs.
    pub fn to_storage(&self) -> String {
        self.lines.iter().map(|(id, q)| format!("{id}:{q}")).collect::<Vec<_>>().join(",")
    }

    /// A cart read back from storage. Anything malformed, repeated or out of range is left
    /// out (storage is the user's to edit); the shop page then checks it against the live
    /// products like any cart.
    pub fn from_storage(s: &str) -> Cart {
        let mut cart = Cart::default();
        for pair in s.split(',').take(MAX_ITEMS_PER_ORDER) {
            let Some((id, q)) = pair.split_once(':') else { continue };
            let (Ok(id), Ok(q)) = (id.trim().parse::<i64>(), q.trim().parse::<i64>()) else { continue };
            if id > 0 && (1..=MAX_QUANTITY).contains(&q) && cart.quantity(id) == 0 {
                cart.lines.push((id, q));
            }
        }
        cart
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn count(&self) -> i64 {
        self.lines.iter().map(|(_, q)| q).sum()
    }

    /// The total in minor units at the products' current prices (products no longer listed
    /// count as nothing; [`Cart::problems`] names them).
    pub fn total_minor(&self, products: &[Product]) -> i64 {
        self.lines
            .iter()
            .filter_map(|(id, q)| products.iter().find(|p| p.id == *id).map(|p| p.price_minor.saturating_mul(*q)))
            .fold(0i64, i64::saturating_add)
    }

    /// Why the cart cannot be ordered as it stands, one message per problem: the shop closed,
    /// a product went unavailable or ran short while it sat in the cart.
    pub fn problems(&self, products: &[Product], shop_open: bool) -> Vec<String> {
        let mut problems = Vec::new();
        if !shop_open {
            problems.push("The shop is closed right now.".to_string());
        }
        for &(id, quantity) in &self.lines {
            match products.iter().find(|p| p.id == id) {
                None => problems.push("A product in the cart is no longer sold.".to_string()),
                Some(p) if !p.available => problems.push(format!("{} is not available right now.", p.name)),
                Some(p) if p.stock < quantity => problems.push(format!("Only {} of {} left.", p.stock, p.name)),
                Some(_) => {}
            }
        }
        problems
    }

    pub fn to_order(&self, shop_id: i64) -> NewOrder {
        NewOrder {
            shop_id,
            items: self.lines.iter().map(|&(product_id, quantity)| NewOrderItem { product_id, quantity }).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cart_survives_storage_and_junk_in_storage_is_dropped() {
        let cart = Cart { lines: vec![(3, 2), (1, 1)] };
        assert_eq!(Cart::from_storage(&cart.to_storage()), cart);
        assert_eq!(Cart::from_storage(""), Cart::default());
        let junk = Cart::from_storage("3:2,x:1,4:0,5:-1,6:1001,3:5,7,8:1");
        assert_eq!(junk.lines, vec![(3, 2), (8, 1)]);
    }
    use chrono::DateTime;

    fn product(id: i64, price_minor: i64, stock: i64, available: bool) -> Product {
        Product {
            id,
            shop_id: 1,
            name: format!("P{id}"),
            price_minor,
            stock,
            low_stock_threshold: 0,
            available,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn adding_respects_availability_and_stock() {
        let mut cart = Cart::default();
        let loaf = product(1, 350, 2, true);
        assert!(cart.add(&loaf));
        assert!(cart.add(&loaf));
        assert!(!cart.add(&loaf), "only two in stock");
        assert!(!cart.add(&product(2, 100, 5, false)), "unavailable products cannot be added");
        assert_eq!(cart.quantity(1), 2);
        cart.remove(1);
        cart.remove(1);
        assert!(cart.is_empty());
    }

    #[test]
    fn totals_are_integer_minor_units() {
        let products = [product(1, 350, 9, true), product(2, 125, 9, true)];
        let mut cart = Cart::default();
        cart.add(&products[0]);
        cart.add(&products[1]);
        cart.add(&products[1]);
        assert_eq!(cart.total_minor(&products), 600);
        assert_eq!(cart.count(), 3);
        let order = cart.to_order(1);
        assert_eq!(order.items.iter().map(|i| (i.product_id, i.quantity)).collect::<Vec<_>>(), [(1, 1), (2, 2)]);
    }

    #[test]
    fn problems_name_what_changed_since_it_was_added() {
        let mut products = vec![product(1, 350, 3, true), product(2, 125, 9, true)];
        let mut cart = Cart::default();
        cart.add(&products[0]);
        cart.add(&products[0]);
        cart.add(&products[1]);
        assert!(cart.problems(&products, true).is_empty());
        products[0].stock = 1;
        products[1].available = false;
        let problems = cart.problems(&products, false);
        assert_eq!(problems, ["The shop is closed right now.", "Only 1 of P1 left.", "P2 is not available right now."]);
        assert_eq!(cart.problems(&products[..0], true), ["A product in the cart is no longer sold.", "A product in the cart is no longer sold."]);
    }
}
