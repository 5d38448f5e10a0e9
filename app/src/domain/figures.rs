//! The figures a manager looks at per shop: orders and revenue over the last 24 hours, the
//! open orders and how many of them are late now, and the median time from placing an order
//! to its being ready. Pure: the server gathers the orders, this decides what counts.
//!
//! "The last 24 hours" rather than "today": the server keeps times in UTC and a shop network
//! spans time zones, so a rolling window means the same thing to every viewer.

use super::order::OrderStatus;
use super::timing::Urgency;
use chrono::{DateTime, Duration, Utc};

/// The window the order count, the revenue and the time to ready cover.
pub const WINDOW_HOURS: i64 = 24;

/// The start of the window that ends `now`.
pub fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(WINDOW_HOURS)
}

/// An order placed within the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub total_minor: i64,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    /// When it first became ready, if it has.
    pub ready_at: Option<DateTime<Utc>>,
}

/// One shop's figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Orders placed in the window, cancelled ones included.
    pub orders: i64,
    /// What the orders placed in the window and not cancelled are worth, in minor units.
    pub revenue_minor: i64,
    /// Orders open now, however old.
    pub open: i64,
    /// Open orders past the shop's "late" threshold in their current status.
    pub late: i64,
    /// The median time from placing to ready of the orders placed in the window that became
    /// ready; `None` when none has.
    pub median_ready_secs: Option<i64>,
}

/// The figures of one shop: `placed` are its orders placed in the window, `open_since` when
/// each of its open orders entered its current status.
pub fn figures(placed: &[Placed], open_since: &[DateTime<Utc>], late_after_mins: i64, now: DateTime<Utc>) -> Figures {
    let mut ready: Vec<i64> = placed
        .iter()
        .filter_map(|p| p.ready_at.map(|at| (at - p.created_at).num_seconds().max(0)))
        .collect();
    ready.sort_unstable();
    Figures {
        orders: placed.len() as i64,
        revenue_minor: placed.iter().filter(|p| p.status != OrderStatus::Cancelled).map(|p| p.total_minor).sum(),
        open: open_since.len() as i64,
        // The board's rule: late once the time in status reaches the shop's threshold.
        late: open_since.iter().filter(|since| Urgency::of(now - **since, i64::MAX, late_after_mins) == Urgency::Late).count() as i64,
        median_ready_secs: ready.get(ready.len() / 2).copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn placed(total_minor: i64, status: OrderStatus, created: i64, ready: Option<i64>) -> Placed {
        Placed { total_minor, status, created_at: at(created), ready_at: ready.map(at) }
    }

    #[test]
    fn nothing_placed_and_nothing_open_is_all_zero() {
        assert_eq!(figures(&[], &[], 20, at(0)), Figures::default());
    }

    #[test]
    fn revenue_leaves_out_cancelled_orders_but_the_count_keeps_them() {
        let p = [
            placed(550, OrderStatus::Delivered, -60, Some(-50)),
            placed(1000, OrderStatus::Cancelled, -30, None),
            placed(250, OrderStatus::Pending, -5, None),
        ];
        let f = figures(&p, &[], 20, at(0));
        assert_eq!((f.orders, f.revenue_minor), (3, 800));
    }

    #[test]
    fn late_counts_open_orders_at_or_past_the_shops_threshold() {
        let open = [at(-19), at(-20), at(-45)];
        let f = figures(&[], &open, 20, at(0));
        assert_eq!((f.open, f.late), (3, 2));
        assert_eq!(figures(&[], &open, 60, at(0)).late, 0);
    }

    #[test]
    fn median_time_to_ready_is_over_the_orders_that_became_ready() {
        let p = [
            placed(1, OrderStatus::Ready, -60, Some(-50)),   // 10 min
            placed(1, OrderStatus::Delivered, -40, Some(-10)), // 30 min
            placed(1, OrderStatus::Delivered, -30, Some(-25)), // 5 min
            placed(1, OrderStatus::Pending, -3, None),
        ];
        assert_eq!(figures(&p, &[], 20, at(0)).median_ready_secs, Some(600));
        assert_eq!(figures(&p[3..], &[], 20, at(0)).median_ready_secs, None);
    }

    #[test]
    fn the_window_is_the_last_24_hours() {
        assert_eq!(window_start(at(0)), at(-24 * 60));
    }
}
