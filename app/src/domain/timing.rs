//! How long orders take: how long an order has been in its status (the board's timers and
//! their colours), and what a customer can expect next (the tracker's estimate), learned from
//! the shop's recent history.

use super::order::{OrderChange, OrderStatus};
use chrono::{DateTime, Duration, Utc};

/// One entry of an order's history, as far as timing cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub status: OrderStatus,
    pub change: OrderChange,
    pub at: DateTime<Utc>,
}

/// When the order entered the status it is in now: the first of the latest run of history
/// entries in that status (verifying a payment does not restart the clock). `None` for an
/// empty history. Takes the history oldest first, as an iterator, so sorting a board's column
/// by it collects nothing.
pub fn status_since(history: impl DoubleEndedIterator<Item = Step>) -> Option<DateTime<Utc>> {
    let mut newest_first = history.rev().peekable();
    let current = newest_first.peek()?.status;
    newest_first.take_while(|s| s.status == current).last().map(|s| s.at)
}

/// How urgent an open order is by the time it has waited in its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    OnTime,
    /// Past the shop's "getting late" threshold.
    Warn,
    /// Past the shop's "late" threshold.
    Late,
}

impl Urgency {
    pub fn of(waited: Duration, warn_after_mins: i64, late_after_mins: i64) -> Urgency {
        let mins = waited.num_minutes();
        if mins >= late_after_mins {
            Urgency::Late
        } else if mins >= warn_after_mins {
            Urgency::Warn
        } else {
            Urgency::OnTime
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::OnTime => "on-time",
            Urgency::Warn => "warn",
            Urgency::Late => "late",
        }
    }
}

/// A timer as a kitchen display shows it: `m:ss` under an hour, `h:mm:ss` past it.
pub fn timer(waited: Duration) -> String {
    let secs = waited.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// The stages an order goes through, in order, as the tracker's stepper shows them: every
/// status but `cancelled`, which ends the way rather than being on it.
pub const STAGES: [OrderStatus; 6] = {
    let all = OrderStatus::ALL;
    [all[0], all[1], all[2], all[3], all[4], all[5]]
};

/// The median time a shop's orders spent in each stage before the next, in seconds, indexed
/// like [`STAGES`] (the last, delivered, is always `None`). `None` where fewer than
/// [`MIN_SAMPLES`] orders went through that stage.
pub type StageMedians = [Option<i64>; STAGES.len()];

/// Fewer finished orders than this through a stage and no estimate is made for it.
pub const MIN_SAMPLES: usize = 3;

/// Learns [`StageMedians`] from the histories of a shop's delivered orders.
pub fn stage_medians<'a>(histories: impl IntoIterator<Item = &'a [Step]>) -> StageMedians {
    let mut samples: [Vec<i64>; STAGES.len()] = Default::default();
    for history in histories {
        // The first time the order entered each stage.
        let entered: Vec<Option<DateTime<Utc>>> =
            STAGES.iter().map(|stage| history.iter().find(|s| s.status == *stage && s.change != OrderChange::PaymentVerified).map(|s| s.at)).collect();
        for i in 0..STAGES.len() - 1 {
            if let (Some(from), Some(to)) = (entered[i], entered[i + 1]) {
                let secs = (to - from).num_seconds();
                if secs >= 0 {
                    samples[i].push(secs);
                }
            }
        }
    }
    let mut medians: StageMedians = [None; STAGES.len()];
    for (i, s) in samples.iter_mut().enumerate() {
        if s.len() >= MIN_SAMPLES {
            s.sort_unstable();
            medians[i] = Some(s[s.len() / 2]);
        }
    }
    medians
}

/// When an order in `status` since `since` is expected to reach `target`: the time left in
/// its current stage (its median less what it has waited, at least a minute) plus the medians
/// of the stages between. `None` when the order is past `target`, finished, or a stage on
/// the way has no estimate.
pub fn expected_at(status: OrderStatus, since: DateTime<Utc>, target: OrderStatus, medians: &StageMedians, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let from = STAGES.iter().position(|s| *s == status)?;
    let to = STAGES.iter().position(|s| *s == target)?;
    if from >= to || status.is_final() {
        return None;
    }
    let waited = (now - since).num_seconds().max(0);
    let mut left = (medians[from]? - waited).max(60);
    for median in &medians[from + 1..to] {
        left += (*median)?;
    }
    Some(now + Duration::seconds(left))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).single().map(|t| t + Duration::minutes(min)).expect("a valid time")
    }

    fn step(status: OrderStatus, min: i64) -> Step {
        let change = if status == OrderStatus::Pending { OrderChange::Created } else { OrderChange::StatusChanged };
        Step { status, change, at: at(min) }
    }

    #[test]
    fn the_clock_starts_when_the_order_entered_its_status_and_a_payment_does_not_restart_it() {
        assert_eq!(status_since([].into_iter()), None);
        let h = [step(OrderStatus::Pending, 0), step(OrderStatus::Confirmed, 3)];
        assert_eq!(status_since(h.iter().copied()), Some(at(3)));
        let paid = Step { status: OrderStatus::Confirmed, change: OrderChange::PaymentVerified, at: at(5) };
        assert_eq!(status_since([h[0], h[1], paid].into_iter()), Some(at(3)));
        let paid_while_pending = Step { status: OrderStatus::Pending, change: OrderChange::PaymentVerified, at: at(1) };
        assert_eq!(status_since([h[0], paid_while_pending].into_iter()), Some(at(0)));
    }

    #[test]
    fn the_stages_are_the_state_machines_way_from_placed_to_delivered() {
        assert_eq!(STAGES[0], OrderStatus::Pending);
        for pair in STAGES.windows(2) {
            assert_eq!(pair[0].next(), Some(pair[1]));
        }
        assert_eq!(STAGES[STAGES.len() - 1], OrderStatus::Delivered);
    }

    #[test]
    fn urgency_turns_amber_then_red_at_the_thresholds() {
        assert_eq!(Urgency::of(Duration::minutes(4), 5, 10), Urgency::OnTime);
        assert_eq!(Urgency::of(Duration::minutes(5), 5, 10), Urgency::Warn);
        assert_eq!(Urgency::of(Duration::seconds(599), 5, 10), Urgency::Warn);
        assert_eq!(Urgency::of(Duration::minutes(10), 5, 10), Urgency::Late);
        assert_eq!(Urgency::of(Duration::minutes(-1), 5, 10), Urgency::OnTime);
    }

    #[test]
    fn timers_read_like_a_kitchen_display() {
        assert_eq!(timer(Duration::seconds(0)), "0:00");
        assert_eq!(timer(Duration::seconds(65)), "1:05");
        assert_eq!(timer(Duration::seconds(3600 + 62)), "1:01:02");
        assert_eq!(timer(Duration::seconds(-5)), "0:00");
    }

    fn delivered(times: [i64; 6]) -> Vec<Step> {
        STAGES.iter().zip(times).map(|(s, t)| step(*s, t)).collect()
    }

    #[test]
    fn medians_need_enough_orders_through_a_stage() {
        let a = delivered([0, 2, 5, 20, 22, 40]);
        let b = delivered([0, 4, 6, 16, 20, 30]);
        assert_eq!(stage_medians([a.as_slice(), b.as_slice()]), [None; 6]);
        let c = delivered([0, 1, 2, 14, 15, 35]);
        let m = stage_medians([a.as_slice(), b.as_slice(), c.as_slice()]);
        assert_eq!(m, [Some(120), Some(120), Some(720), Some(120), Some(1080), None]);
    }

    #[test]
    fn a_picked_up_order_that_skipped_delivery_still_counts_for_the_stages_it_went_through() {
        let picked: Vec<Step> = [step(OrderStatus::Pending, 0), step(OrderStatus::Confirmed, 1), step(OrderStatus::Preparing, 2), step(OrderStatus::Ready, 12)].to_vec();
        let m = stage_medians([picked.as_slice(), picked.as_slice(), picked.as_slice()]);
        assert_eq!(m, [Some(60), Some(60), Some(600), None, None, None]);
    }

    #[test]
    fn the_estimate_adds_what_is_left_of_this_stage_to_the_stages_ahead() {
        let m: StageMedians = [Some(120), Some(120), Some(720), Some(120), Some(1080), None];
        // Preparing for 5 of its usual 12 minutes: ready in 7.
        assert_eq!(expected_at(OrderStatus::Preparing, at(0), OrderStatus::Ready, &m, at(5)), Some(at(12)));
        // Overdue: at least a minute more, never in the past.
        assert_eq!(expected_at(OrderStatus::Preparing, at(0), OrderStatus::Ready, &m, at(30)), Some(at(31)));
        // Pending just now: 2 + 2 + 12 minutes to ready, plus 2 + 18 to the door.
        assert_eq!(expected_at(OrderStatus::Pending, at(0), OrderStatus::Ready, &m, at(0)), Some(at(16)));
        assert_eq!(expected_at(OrderStatus::Pending, at(0), OrderStatus::Delivered, &m, at(0)), Some(at(36)));
        // Nothing to expect once there, or without an estimate on the way.
        assert_eq!(expected_at(OrderStatus::Ready, at(0), OrderStatus::Ready, &m, at(0)), None);
        assert_eq!(expected_at(OrderStatus::Cancelled, at(0), OrderStatus::Ready, &m, at(0)), None);
        let unknown: StageMedians = [Some(120), None, Some(720), Some(120), Some(1080), None];
        assert_eq!(expected_at(OrderStatus::Pending, at(0), OrderStatus::Ready, &unknown, at(0)), None);
    }
}
