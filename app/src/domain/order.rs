//! The order state machine.
//!
//! ```text
//! pending → confirmed → preparing → ready → out_for_delivery → delivered
//!    └──────────┴───────────┴─────────┴────────────┴──→ cancelled
//! ```
//!
//! Staff and admins move an order one step forward at a time and may cancel it from any
//! non-final state; a customer may only cancel, and only while it is pending or confirmed.
//! Verifying payment marks the order paid, and confirms it if it was still pending.
//! [`apply`] is the only place these rules live.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Preparing,
    Ready,
    OutForDelivery,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        OrderStatus::Pending,
        OrderStatus::Confirmed,
        OrderStatus::Preparing,
        OrderStatus::Ready,
        OrderStatus::OutForDelivery,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Confirmed => "confirmed",
            OrderStatus::Preparing => "preparing",
            OrderStatus::Ready => "ready",
            OrderStatus::OutForDelivery => "out_for_delivery",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A human label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Pending => "Pending",
            OrderStatus::Confirmed => "Confirmed",
            OrderStatus::Preparing => "Preparing",
            OrderStatus::Ready => "Ready",
            OrderStatus::OutForDelivery => "Out for delivery",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::Cancelled => "Cancelled",
        }
    }

    /// The one forward step from here, if any.
    pub fn next(self) -> Option<OrderStatus> {
        match self {
            OrderStatus::Pending => Some(OrderStatus::Confirmed),
            OrderStatus::Confirmed => Some(OrderStatus::Preparing),
            OrderStatus::Preparing => Some(OrderStatus::Ready),
            OrderStatus::Ready => Some(OrderStatus::OutForDelivery),
            OrderStatus::OutForDelivery => Some(OrderStatus::Delivered),
            OrderStatus::Delivered | OrderStatus::Cancelled => None,
        }
    }

    /// Delivered and cancelled orders never change status again.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Delivered | OrderStatus::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Unpaid,
    Paid,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Unpaid => "unpaid",
            PaymentStatus::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        match s {
            "unpaid" => Some(PaymentStatus::Unpaid),
            "paid" => Some(PaymentStatus::Paid),
            _ => None,
        }
    }
}

/// How the acting user stands to the order (decided by [`super::Actor::party_to_order`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The customer who placed the order.
    Customer,
    /// Staff of the order's shop.
    Staff,
    Admin,
}

/// What someone asks to do to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderAction {
    /// Move to this status. `Cancelled` is the same as [`OrderAction::Cancel`].
    SetStatus(OrderStatus),
    Cancel,
    VerifyPayment,
}

/// The state an order is in: the part of it the state machine reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderState {
    pub status: OrderStatus,
    pub payment: PaymentStatus,
}

/// What kind of change a successful action made; it names the event and the history entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderChange {
    Created,
    StatusChanged,
    Cancelled,
    PaymentVerified,
}

/// Why an action was refused. Each variant is specific enough to show to the user as it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the order is already {0} and can no longer change")]
    AlreadyFinal(OrderStatus),
    #[error("the order is already {0}")]
    SameStatus(OrderStatus),
    #[error("an order that is {from} can only move to {next} next, not to {to}")]
    NotNextStep {
        from: OrderStatus,
        to: OrderStatus,
        next: OrderStatus,
    },
    #[error("customers can cancel an order only while it is pending or confirmed; it is {0}")]
    CustomerCancelTooLate(OrderStatus),
    #[error("only the shop's staff or an admin can change an order's status")]
    CustomerCannotChangeStatus,
    #[error("only the shop's staff or an admin can verify a payment")]
    CustomerCannotVerifyPayment,
    #[error("the order is already paid")]
    AlreadyPaid,
    #[error("a cancelled order cannot be paid")]
    PaymentOfCancelled,
}

impl TransitionError {
    /// A stable, machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            TransitionError::AlreadyFinal(_) => "order_final",
            TransitionError::SameStatus(_) => "status_unchanged",
            TransitionError::NotNextStep { .. } => "invalid_transition",
            TransitionError::CustomerCancelTooLate(_) => "cancel_too_late",
            TransitionError::CustomerCannotChangeStatus
            | TransitionError::CustomerCannotVerifyPayment => "forbidden",
            TransitionError::AlreadyPaid => "already_paid",
            TransitionError::PaymentOfCancelled => "order_cancelled",
        }
    }

    /// True when the refusal is about who is asking (403), false when it is about the
    /// order's current state (409).
    pub fn is_permission(&self) -> bool {
        matches!(
            self,
            TransitionError::CustomerCannotChangeStatus | TransitionError::CustomerCannotVerifyPayment
        )
    }
}

/// Applies `action` by `party` to an order in `state`: the new state and the kind of change,
/// or the specific reason it is refused.
pub fn apply(
    state: OrderState,
    action: OrderAction,
    party: Party,
) -> Result<(OrderState, OrderChange), TransitionError> {
    let OrderState { status, payment } = state;
    match action {
        OrderAction::SetStatus(OrderStatus::Cancelled) | OrderAction::Cancel => {
            if status.is_final() {
                return Err(TransitionError::AlreadyFinal(status));
            }
            if party == Party::Customer
                && !matches!(status, OrderStatus::Pending | OrderStatus::Confirmed)
            {
                return Err(TransitionError::CustomerCancelTooLate(status));
            }
            Ok((
                OrderState { status: OrderStatus::Cancelled, payment },
                OrderChange::Cancelled,
            ))
        }
        OrderAction::SetStatus(to) => {
            if party == Party::Customer {
                return Err(TransitionError::CustomerCannotChangeStatus);
            }
            if status.is_final() {
                return Err(TransitionError::AlreadyFinal(status));
            }
            if to == status {
                return Err(TransitionError::SameStatus(status));
            }
            // Not final, so there is a next step.
            let next = status.next().ok_or(TransitionError::AlreadyFinal(status))?;
            if to != next {
                return Err(TransitionError::NotNextStep { from: status, to, next });
            }
            Ok((OrderState { status: to, payment }, OrderChange::StatusChanged))
        }
        OrderAction::VerifyPayment => {
            if party == Party::Customer {
                return Err(TransitionError::CustomerCannotVerifyPayment);
            }
            if status == OrderStatus::Cancelled {
                return Err(TransitionError::PaymentOfCancelled);
            }
            if payment == PaymentStatus::Paid {
                return Err(TransitionError::AlreadyPaid);
            }
            let status = if status == OrderStatus::Pending {
                OrderStatus::Confirmed
            } else {
                status
            };
            Ok((
                OrderState { status, payment: PaymentStatus::Paid },
                OrderChange::PaymentVerified,
            ))
        }
    }
}

/// What a party may do to an order in a given state: the actions a page offers as buttons.
/// Asked of [`apply`], so the buttons and the server can never disagree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// The next status, if this party may move the order there.
    pub advance: Option<OrderStatus>,
    pub cancel: bool,
    pub verify_payment: bool,
}

pub fn allowed(state: OrderState, party: Party) -> Allowed {
    Allowed {
        advance: state.status.next().filter(|&next| apply(state, OrderAction::SetStatus(next), party).is_ok()),
        cancel: apply(state, OrderAction::Cancel, party).is_ok(),
        verify_payment: apply(state, OrderAction::VerifyPayment, party).is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    const PARTIES: [Party; 3] = [Party::Customer, Party::Staff, Party::Admin];
    const PAYMENTS: [PaymentStatus; 2] = [PaymentStatus::Unpaid, PaymentStatus::Paid];

    fn actions() -> Vec<OrderAction> {
        let mut all: Vec<OrderAction> =
            OrderStatus::ALL.into_iter().map(OrderAction::SetStatus).collect();
        all.push(OrderAction::Cancel);
        all.push(OrderAction::VerifyPayment);
        all
    }

    /// The rules written out independently of `apply`, as a table, so that every
    /// (status, payment, action, party) combination is checked against a second statement of them.
    fn expected(
        status: OrderStatus,
        payment: PaymentStatus,
        action: OrderAction,
        party: Party,
    ) -> Result<(OrderStatus, PaymentStatus, OrderChange), &'static str> {
        let staff = party != Party::Customer;
        match action {
            OrderAction::Cancel | OrderAction::SetStatus(Cancelled) => match status {
                Delivered | Cancelled => Err("order_final"),
                Pending | Confirmed => Ok((Cancelled, payment, OrderChange::Cancelled)),
                _ if staff => Ok((Cancelled, payment, OrderChange::Cancelled)),
                _ => Err("cancel_too_late"),
            },
            OrderAction::SetStatus(_) if !staff => Err("forbidden"),
            OrderAction::SetStatus(to) => {
                let next = match status {
                    Pending => Confirmed,
                    Confirmed => Preparing,
                    Preparing => Ready,
                    Ready => OutForDelivery,
                    OutForDelivery => Delivered,
                    Delivered | Cancelled => return Err("order_final"),
                };
                if to == status {
                    Err("status_unchanged")
                } else if to == next {
                    Ok((to, payment, OrderChange::StatusChanged))
                } else {
                    Err("invalid_transition")
                }
            }
            OrderAction::VerifyPayment if !staff => Err("forbidden"),
            OrderAction::VerifyPayment => match (status, payment) {
                (Cancelled, _) => Err("order_cancelled"),
                (_, PaymentStatus::Paid) => Err("already_paid"),
                (Pending, _) => Ok((Confirmed, PaymentStatus::Paid, OrderChange::PaymentVerified)),
                (s, _) => Ok((s, PaymentStatus::Paid, OrderChange::PaymentVerified)),
            },
        }
    }

    #[test]
    fn every_status_action_and_party_combination_follows_the_rules() {
        let mut checked = 0;
        for status in OrderStatus::ALL {
            for payment in PAYMENTS {
                for action in actions() {
                    for party in PARTIES {
                        let got = apply(OrderState { status, payment }, action, party)
                            .map(|(s, change)| (s.status, s.payment, change))
                            .map_err(|e| e.code());
                        let want = expected(status, payment, action, party);
                        assert_eq!(
                            got, want,
                            "{status:?}/{payment:?} {action:?} by {party:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 7 * 2 * 9 * 3);
    }

    #[test]
    fn the_happy_path_walks_every_step_to_delivered() {
        let mut state = OrderState { status: Pending, payment: PaymentStatus::Unpaid };
        let mut seen = vec![state.status];
        while let Some(next) = state.status.next() {
            state = apply(state, OrderAction::SetStatus(next), Party::Staff).unwrap().0;
            seen.push(state.status);
        }
        assert_eq!(seen, vec![Pending, Confirmed, Preparing, Ready, OutForDelivery, Delivered]);
    }

    #[test]
    fn skipping_a_step_names_the_allowed_next_step() {
        let err = apply(
            OrderState { status: Pending, payment: PaymentStatus::Unpaid },
            OrderAction::SetStatus(Ready),
            Party::Admin,
        )
        .unwrap_err();
        assert_eq!(err, TransitionError::NotNextStep { from: Pending, to: Ready, next: Confirmed });
        assert_eq!(
            err.to_string(),
            "an order that is pending can only move to confirmed next, not to ready"
        );
    }

    #[test]
    fn verifying_payment_of_a_pending_order_confirms_it() {
        let (state, change) = apply(
            OrderState { status: Pending, payment: PaymentStatus::Unpaid },
            OrderAction::VerifyPayment,
            Party::Staff,
        )
        .unwrap();
        assert_eq!(state, OrderState { status: Confirmed, payment: PaymentStatus::Paid });
        assert_eq!(change, OrderChange::PaymentVerified);
    }

    #[test]
    fn refusals_by_role_are_permission_errors_and_the_rest_are_conflicts() {
        assert!(TransitionError::CustomerCannotChangeStatus.is_permission());
        assert!(TransitionError::CustomerCannotVerifyPayment.is_permission());
        assert!(!TransitionError::CustomerCancelTooLate(Preparing).is_permission());
        assert!(!TransitionError::AlreadyPaid.is_permission());
    }

    #[test]
    fn status_names_round_trip() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("shipped"), None);
        for p in PAYMENTS {
            assert_eq!(PaymentStatus::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn allowed_actions_follow_the_state_machine() {
        let at = |status, payment| OrderState { status, payment };
        let pending = at(OrderStatus::Pending, PaymentStatus::Unpaid);
        assert_eq!(allowed(pending, Party::Customer), Allowed { advance: None, cancel: true, verify_payment: false });
        assert_eq!(
            allowed(pending, Party::Staff),
            Allowed { advance: Some(OrderStatus::Confirmed), cancel: true, verify_payment: true }
        );
        let preparing = at(OrderStatus::Preparing, PaymentStatus::Paid);
        assert_eq!(allowed(preparing, Party::Customer), Allowed::default(), "too late for the customer to cancel");
        assert_eq!(
            allowed(preparing, Party::Admin),
            Allowed { advance: Some(OrderStatus::Ready), cancel: true, verify_payment: false }
        );
        assert_eq!(allowed(at(OrderStatus::Delivered, PaymentStatus::Paid), Party::Staff), Allowed::default());
        assert_eq!(allowed(at(OrderStatus::Cancelled, PaymentStatus::Unpaid), Party::Staff), Allowed::default());
    }
}

/// Property tests over sequences: whatever anyone asks, in any order, an order only moves
/// forward along its steps or to cancelled, stops at a final status, is never unpaid again,
/// and a refused action changes nothing (it returns no state to store).
#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn action() -> impl Strategy<Value = OrderAction> {
        prop_oneof![
            prop::sample::select(OrderStatus::ALL.to_vec()).prop_map(OrderAction::SetStatus),
            Just(OrderAction::Cancel),
            Just(OrderAction::VerifyPayment),
        ]
    }

    fn party() -> impl Strategy<Value = Party> {
        prop::sample::select(vec![Party::Customer, Party::Staff, Party::Admin])
    }

    fn step(status: OrderStatus) -> usize {
        OrderStatus::ALL.iter().position(|s| *s == status).unwrap_or(usize::MAX)
    }

    proptest! {
        #[test]
        fn any_sequence_of_requests_keeps_an_order_on_its_path(requests in prop::collection::vec((action(), party()), 0..40)) {
            let mut state = OrderState { status: OrderStatus::Pending, payment: PaymentStatus::Unpaid };
            for (action, party) in requests {
                match apply(state, action, party) {
                    Ok((next, change)) => {
                        prop_assert!(!state.status.is_final(), "{:?} changed a final order", action);
                        match next.status {
                            OrderStatus::Cancelled => prop_assert_eq!(change, OrderChange::Cancelled),
                            s => prop_assert!(step(s) >= step(state.status) && step(s) <= step(state.status) + 1, "{:?} -> {:?}", state.status, s),
                        }
                        prop_assert!(!(state.payment == PaymentStatus::Paid && next.payment == PaymentStatus::Unpaid));
                        if party == Party::Customer {
                            prop_assert_eq!(change, OrderChange::Cancelled, "customers only cancel");
                        }
                        // And the page offered it.
                        let offered = allowed(state, party);
                        match action {
                            OrderAction::Cancel | OrderAction::SetStatus(OrderStatus::Cancelled) => prop_assert!(offered.cancel),
                            OrderAction::VerifyPayment => prop_assert!(offered.verify_payment),
                            OrderAction::SetStatus(to) => prop_assert_eq!(offered.advance, Some(to)),
                        }
                        state = next;
                    }
                    Err(e) => {
                        // The page never offers a refused action.
                        let offered = allowed(state, party);
                        match action {
                            OrderAction::Cancel | OrderAction::SetStatus(OrderStatus::Cancelled) => prop_assert!(!offered.cancel, "{}", e),
                            OrderAction::VerifyPayment => prop_assert!(!offered.verify_payment, "{}", e),
                            OrderAction::SetStatus(to) => prop_assert_ne!(offered.advance, Some(to), "{}", e),
                        }
                        prop_assert!(!e.code().is_empty());
                    }
                }
            }
        }
    }
}
