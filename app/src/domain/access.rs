//! Authorization rules: who may see and act on which order, shop and product.
//!
//! Every REST handler and every socket push asks these functions, so the rules live in one
//! place and are tested here rather than rediscovered in each handler.

use super::event::Topic;
use super::order::Party;
use super::user::Role;

/// The authenticated principal behind a request: the user, their role, and the shops they staff.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// Whether this actor may hear about events on `topic`. `order_owner` is the
    /// (customer, shop) of the order an `order:` topic names; without it nobody may follow one.
    ///
    /// Asked when subscribing and again for every event at delivery, so a subscription never
    /// outlives the right to it.
    pub fn may_receive(&self, topic: Topic, order_owner: Option<(i64, i64)>) -> bool {
        match topic {
            Topic::User(id) => self.user_id == id,
            Topic::Shop(id) => self.can_manage_shop(id),
            Topic::Order(_) => order_owner.is_some_and(|(customer, shop)| self.can_view_order(customer, shop)),
            Topic::Admin => self.is_admin(),
            Topic::Catalog(_) | Topic::Broadcast => true,
        }
    }

    /// The topics a connection of this actor joins without asking: their own (every device of
    /// theirs), their shops' (staff), everything (admins), and broadcasts.
    pub fn automatic_topics(&self) -> Vec<Topic> {
        let mut topics = vec![Topic::User(self.user_id), Topic::Broadcast];
        match self.role {
            Role::Admin => topics.push(Topic::Admin),
            Role::Shopkeeper => topics.extend(self.shop_ids.iter().map(|&id| Topic::Shop(id))),
            Role::Customer => {}
        }
        topics
    }

    /// Whether a connection of this actor follows `topic` without asking (one of
    /// [`automatic_topics`](Self::automatic_topics)); those do not count against the
    /// subscription limit.
    pub fn is_automatic(&self, topic: Topic) -> bool {
        match topic {
            Topic::User(id) => id == self.user_id,
            Topic::Broadcast => true,
            Topic::Admin => self.role == Role::Admin,
            Topic::Shop(id) => self.role == Role::Shopkeeper && self.shop_ids.contains(&id),
            Topic::Order(_) | Topic::Catalog(_) => false,
        }
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
    fn events_reach_only_those_allowed_on_each_topic() {
        let alice = actor(10, Role::Customer, &[]);
        let bob = actor(11, Role::Customer, &[]);
        let baker = actor(20, Role::Shopkeeper, &[1]);
        let grocer = actor(21, Role::Shopkeeper, &[2]);
        let root = actor(1, Role::Admin, &[]);
        let alices_order = Some((10, 1));

        assert!(alice.may_receive(Topic::User(10), None));
        assert!(!bob.may_receive(Topic::User(10), None));
        assert!(alice.may_receive(Topic::Order(5), alices_order));
        assert!(!bob.may_receive(Topic::Order(5), alices_order));
        assert!(baker.may_receive(Topic::Order(5), alices_order));
        assert!(!grocer.may_receive(Topic::Order(5), alices_order));
        assert!(root.may_receive(Topic::Order(5), alices_order));
        assert!(!root.may_receive(Topic::Order(5), None), "an order topic without its owner is refused");
        assert!(baker.may_receive(Topic::Shop(1), None));
        assert!(!grocer.may_receive(Topic::Shop(1), None));
        assert!(!alice.may_receive(Topic::Shop(1), None));
        assert!(root.may_receive(Topic::Admin, None));
        assert!(!baker.may_receive(Topic::Admin, None));
        for who in [&alice, &baker, &root] {
            assert!(who.may_receive(Topic::Catalog(1), None));
            assert!(who.may_receive(Topic::Broadcast, None));
        }
    }

    #[test]
    fn connections_join_their_own_topics_automatically() {
        assert_eq!(actor(10, Role::Customer, &[]).automatic_topics(), vec![Topic::User(10), Topic::Broadcast]);
        assert_eq!(
            actor(20, Role::Shopkeeper, &[1, 3]).automatic_topics(),
            vec![Topic::User(20), Topic::Broadcast, Topic::Shop(1), Topic::Shop(3)]
        );
        assert_eq!(actor(1, Role::Admin, &[]).automatic_topics(), vec![Topic::User(1), Topic::Broadcast, Topic::Admin]);
        for a in [actor(10, Role::Customer, &[]), actor(20, Role::Shopkeeper, &[1, 3]), actor(1, Role::Admin, &[])] {
            assert!(a.automatic_topics().iter().all(|t| a.may_receive(*t, None)));
        }
    }

    #[test]
    fn admins_see_everything() {
        let root = actor(1, Role::Admin, &[]);
        assert_eq!(root.party_to_order(10, 7), Some(Party::Admin));
        assert!(root.can_manage_shop(7));
    }

    #[test]
    fn the_automatic_topics_are_exactly_those_is_automatic_names() {
        let candidates = [
            Topic::User(1), Topic::User(2), Topic::Broadcast, Topic::Admin,
            Topic::Shop(10), Topic::Shop(11), Topic::Order(1), Topic::Catalog(10),
        ];
        for a in [actor(1, Role::Customer, &[]), actor(1, Role::Shopkeeper, &[10]), actor(1, Role::Admin, &[])] {
            for t in candidates {
                assert_eq!(a.is_automatic(t), a.automatic_topics().contains(&t), "{a:?} {t}");
            }
        }
    }
}
