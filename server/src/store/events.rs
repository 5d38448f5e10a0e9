//! The `events` outbox: every change appends rows here inside its own transaction.

use app::domain::{EventType, Topic};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

/// One outbox row as written.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub seq: i64,
    pub event_type: EventType,
    pub topics: Vec<Topic>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
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

pub async fn append(
    conn: &mut SqliteConnection,
    event_type: EventType,
    topics: &[Topic],
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> sqlx::Result<StoredEvent> {
    let topics_json = serde_json::to_string(topics).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (event_type, topics, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING seq",
    )
    .bind(event_type.as_str())
    .bind(topics_json)
    .bind(payload.to_string())
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(StoredEvent { seq, event_type, topics: topics.to_vec(), payload: payload.clone(), created_at: now })
}

/// The highest sequence number written so far (0 when there are none), also when every event
/// has been pruned.
pub async fn current_seq(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0), (SELECT pruned_through FROM event_horizon WHERE id = 1))",
    )
    .fetch_one(conn)
    .await
}

/// Events after `after`, oldest first, at most `limit`.
pub async fn since(conn: &mut SqliteConnection, after: i64, limit: i64) -> sqlx::Result<Vec<StoredEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT seq, event_type, topics, payload, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}

/// Events with `seq` at or below this have been pruned.
pub async fn horizon(conn: &mut SqliteConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT pruned_through FROM event_horizon WHERE id = 1").fetch_one(conn).await
}

/// Deletes events created before `before` and moves the horizon past them. Returns how many.
pub async fn prune(conn: &mut SqliteConnection, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let through: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE created_at < $1")
        .bind(before)
        .fetch_one(&mut *conn)
        .await?;
    let Some(through) = through else { return Ok(0) };
    let done = sqlx::query("DELETE FROM events WHERE seq <= $1").bind(through).execute(&mut *conn).await?;
    sqlx::query("UPDATE event_horizon SET pruned_through = MAX(pruned_through, $1) WHERE id = 1")
        .bind(through)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}
