//! The `events` outbox: every change appends rows here inside its own transaction.
//!
//! Rows are appended to the transaction ([`append`]) and written when it commits ([`write`],
//! called by [`Tx::commit`](crate::db::Tx::commit)): `seq` is gapless and in commit order on
//! both engines.

use crate::db::{AsConn, Ex, PendingEvent, Tx};
use crate::on;
use app::domain::{EventType, Topic};
use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;

/// One outbox row as written.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event_type: EventType,
    pub topics: Vec<Topic>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl StoredEvent {
    /// The event as a client receives it through `topic` (the socket's and the event
    /// stream's frames, and the pages' patches).
    pub fn envelope(&self, topic: Topic) -> app::protocol::EventEnvelope {
        app::protocol::EventEnvelope {
            event_type: self.event_type,
            seq: self.seq,
            topic,
            at: self.created_at,
            data: app::protocol::Payload::from_value(&self.payload),
        }
    }
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    event_type: String,
    topics: String,
    payload: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = sqlx::Error;

    fn try_from(r: EventRow) -> Result<Self, Self::Error> {
        let event_type = EventType::parse(&r.event_type).ok_or_else(|| super::corrupt("event type", &r.event_type))?;
        let topics: Vec<Topic> =
            serde_json::from_str(&r.topics).map_err(|_| super::corrupt("event topics", &r.topics))?;
        let payload = serde_json::from_str(&r.payload).map_err(|_| super::corrupt("event payload", &r.payload))?;
        Ok(StoredEvent { seq: r.seq, event_type, topics, payload, created_at: r.created_at })
    }
}

/// Adds an event to the transaction; it is written, with its `seq`, when the transaction commits.
pub fn append(tx: &mut Tx, event_type: EventType, topics: &[Topic], payload: &serde_json::Value, now: DateTime<Utc>) {
    tx.push_event(PendingEvent { event_type, topics: topics.to_vec(), payload: payload.clone(), created_at: now });
}

/// Inserts `events` numbered in commit order. Returns the last `seq`.
///
/// PostgreSQL: the numbers come from the counter, whose `UPDATE` takes its row lock until the
/// caller commits (so call this last): transactions commit in `seq` order, and a rolled-back
/// one gives its numbers back. SQLite: its single writer already commits in order, so the
/// events take `AUTOINCREMENT` numbers, in one statement.
pub(crate) async fn write(c: &mut impl AsConn, events: &[PendingEvent]) -> sqlx::Result<i64> {
    let n = events.len() as i64;
    let mut rows = Vec::with_capacity(events.len());
    for e in events {
        let topics = serde_json::to_string(&e.topics).map_err(|e| sqlx::Error::Encode(e.into()))?;
        rows.push((e.event_type.as_str(), topics, e.payload.to_string(), e.created_at));
    }
    match c.ex() {
        Ex::Sqlite(c) => {
            let mut qb = QueryBuilder::new("INSERT INTO events (event_type, topics, payload, created_at) ");
            qb.push_values(&rows, |mut b, (event_type, topics, payload, at)| {
                b.push_bind(*event_type).push_bind(topics).push_bind(payload).push_bind(*at);
            });
            qb.push(" RETURNING seq");
            let seqs: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *c).await?;
            seqs.into_iter().max().ok_or(sqlx::Error::RowNotFound)
        }
        Ex::Postgres(c) => {
            let last: i64 = sqlx::query_scalar("UPDATE event_counter SET last = last + $1 WHERE id = 1 RETURNING last")
                .bind(n)
                .fetch_one(&mut *c)
                .await?;
            let first = last - n + 1;
            let mut qb = QueryBuilder::new("INSERT INTO events (seq, event_type, topics, payload, created_at) ");
            qb.push_values(rows.iter().enumerate(), |mut b, (i, (event_type, topics, payload, at))| {
                b.push_bind(first + i as i64).push_bind(*event_type).push_bind(topics).push_bind(payload).push_bind(*at);
            });
            qb.build().execute(&mut *c).await?;
            Ok(last)
        }
    }
}

/// The highest sequence number given so far (0 when there is none), also when every event
/// has been pruned. Every event up to it is committed.
pub async fn current_seq(c: &mut impl AsConn) -> sqlx::Result<i64> {
    match c.ex() {
        Ex::Sqlite(c) => {
            sqlx::query_scalar(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0), (SELECT pruned_through FROM event_horizon WHERE id = 1))",
            )
            .fetch_one(c)
            .await
        }
        Ex::Postgres(c) => sqlx::query_scalar("SELECT last FROM event_counter WHERE id = 1").fetch_one(c).await,
    }
}

/// Events after `after`, oldest first, at most `limit`.
pub async fn since(c: &mut impl AsConn, after: i64, limit: i64) -> sqlx::Result<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = on!(c, |c| sqlx::query_as(
        "SELECT seq, event_type, topics, payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await)?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// Events with `seq` at or below this have been pruned.
pub async fn horizon(c: &mut impl AsConn) -> sqlx::Result<i64> {
    on!(c, |c| sqlx::query_scalar("SELECT pruned_through FROM event_horizon WHERE id = 1").fetch_one(c).await)
}

/// Deletes events created before `before` and moves the horizon past them. Returns how many.
pub async fn prune(c: &mut impl AsConn, before: DateTime<Utc>) -> sqlx::Result<u64> {
    on!(c, |c| {
        let through: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE created_at < $1")
            .bind(before)
            .fetch_one(&mut *c)
            .await?;
        let Some(through) = through else { return Ok(0) };
        let done = sqlx::query("DELETE FROM events WHERE seq <= $1").bind(through).execute(&mut *c).await?.rows_affected();
        sqlx::query(
            "UPDATE event_horizon SET pruned_through = CASE WHEN pruned_through > $1 THEN pruned_through ELSE $1 END WHERE id = 1",
        )
        .bind(through)
        .execute(&mut *c)
        .await?;
        Ok(done)
    })
}
