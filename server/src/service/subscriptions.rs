//! Who may follow which real-time topic. Asked by every transport when a client subscribes;
//! each delivery is checked again by the hub against the recipient's current rights.

use crate::db::Db;
use crate::error::ApiResult;
use crate::store;
use app::domain::{Actor, Topic};
use app::protocol::SocketErrorCode;

/// Why a subscription was refused, as the client is told.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: SocketErrorCode,
    pub message: String,
}

/// `Ok(Ok(()))` if `actor` may follow `topic`, `Ok(Err(_))` with the reason if not; `Err` only
/// when the database cannot answer.
pub async fn authorize_topic(db: &Db, actor: &Actor, topic: Topic) -> ApiResult<Result<(), Refusal>> {
    let refuse = |code, message: String| Ok(Err(Refusal { code, message }));
    match topic {
        Topic::Order(id) => match store::orders::owner(&mut db.read().await?, id).await? {
            Some(owner) if actor.may_receive(topic, Some(owner)) => Ok(Ok(())),
            // An order the user may not see does not exist for them.
            _ => refuse(SocketErrorCode::NotFound, format!("no order {id}")),
        },
        Topic::Catalog(id) => match store::shops::get(&mut db.read().await?, id).await? {
            Some(_) => Ok(Ok(())),
            None => refuse(SocketErrorCode::NotFound, format!("no shop {id}")),
        },
        other if actor.may_receive(other, None) => Ok(Ok(())),
        other => refuse(SocketErrorCode::Forbidden, format!("not allowed to follow {other}")),
    }
}
