//! Authorization rules: who may see and act on which order, shop and product.
//!
//! Every REST handler and every socket push asks these functions, so the rules live in one
//! place and are tested here rather than rediscovered in each handler.

use super::order::Party;
use super::user::Role;

/// The authenticated principal behind a request: the user, their role, and the shops they staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    /// Shops this user works in. Empty for customers and admins.
    pub shop_ids: Vec<i64>,
}

impl Actor {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Staff of this shop, or an admin: may manage the shop, its products and its orders.
    pub fn can_manage_shop(&self, shop_id: i64) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Shopkeeper => self.shop_ids.contains(&shop_id),
            Role::Customer => false,
        }
    }

    /// How this actor stands to an order, or `None` if they may not see it at all.
    pub fn party_to_order(&self, customer_id: i64, shop_id: i64) -> Option<Party> {
        match self.role {
            Role::Admin => Some(Party::Admin),
            Role::Shopkeeper if self.shop_ids.contains(&shop_id) => Some(Party::Staff),
            Role::Customer if self.user_id == customer_id => Some(Party::Customer),
            _ => None,
        }
    }

    pub fn can_view_order(&self, customer_id: i64, shop_id: i64) -> bool {
        self.party_to_order(customer_id, shop_id).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(user_id: i64, role: Role, shop_ids: &[i64]) -> Actor {
        Actor { user_id, role, shop_ids: shop_ids.to_vec() }
    }

    #[test]
    fn customers_see_only_their_own_orders() {
        let alice = actor(10, Role::Customer, &[]);
        assert_eq!(alice.party_to_order(10, 1), Some(Party::Customer));
        assert_eq!(alice.party_to_order(11, 1), None);
        assert!(!alice.can_manage_shop(1));
    }

    #[test]
    fn shopkeepers_see_only_their_shops_orders() {
        let bob = actor(20, Role::Shopkeeper, &[1]);
        assert_eq!(bob.party_to_order(10, 1), Some(Party::Staff));
        assert_eq!(bob.party_to_order(10, 2), None);
        assert!(bob.can_manage_shop(1));
        assert!(!bob.can_manage_shop(2));
    }

    #[test]
    fn a_shopkeeper_who_also_ordered_elsewhere_is_not_staff_there() {
        // Shopkeepers do not place orders as customers: their own id on another shop's order
        // gives them nothing.
        let bob = actor(20, Role::Shopkeeper, &[1]);
        assert_eq!(bob.party_to_order(20, 2), None);
    }

    #[test]
    fn admins_see_everything() {
        let root = actor(1, Role::Admin, &[]);
        assert_eq!(root.party_to_order(10, 7), Some(Party::Admin));
        assert!(root.can_manage_shop(7));
    }
}
