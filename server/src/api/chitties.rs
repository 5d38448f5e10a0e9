//! Chitties: photographed shopping lists sent to a shop, read by OCR, made orders by staff.

use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiQuery, Id};
use crate::service::chitties;
use crate::state::AppState;
use app::api::{Chitty, ChittyList, ChittyOrder, ChittyQuery, ChittyRejection, ErrorBody, ErrorCode, Order, WithSeq};
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

/// The form `POST /shops/{id}/chitties` takes (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ChittyUpload {
    /// The photo: JPEG, PNG or WebP.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    photo: Vec<u8>,
    /// What the customer adds, at most 500 characters.
    note: Option<String>,
}

/// Longest note accepted with a list, in bytes (the note's own rule counts characters).
const MAX_NOTE_BYTES: usize = 4096;

/// Sends a photo of a handwritten list to an open shop (customers). `multipart/form-data`
/// with `photo` (JPEG, PNG or WebP) and an optional `note`. Answered at once with the stored
/// list (`processing`); `chitty_processed` or `chitty_failed` follows over the socket.
#[utoipa::path(post, path = "/shops/{id}/chitties", tag = "chitties", params(("id" = i64, Path)),
    request_body(content = inline(ChittyUpload), content_type = "multipart/form-data", description = "`photo`: the image; `note`: optional text"),
    responses((status = 202, body = WithSeq<Chitty>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Id(shop_id): Id,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<WithSeq<Chitty>>)> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(ErrorCode::UnsupportedMediaType, "send the list as multipart/form-data with the image in a `photo` field")
    })?;
    let max = state.config.chitty_max_bytes;
    let (mut photo, mut note) = (None, None);
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        let (name, limit) = match field.name() {
            Some("photo") => ("photo", max),
            Some("note") => ("note", MAX_NOTE_BYTES),
            other => {
                let other = other.unwrap_or_default().to_owned();
                return Err(ApiError::new(ErrorCode::InvalidBody, format!("unknown field {other:?}: send `photo` and optionally `note`")));
            }
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("the {name} is larger than the {limit}-byte limit")));
            }
            bytes.extend_from_slice(&chunk);
        }
        match name {
            "photo" => photo = Some(bytes),
            _ => {
                note = Some(String::from_utf8(bytes).map_err(|_| ApiError::new(ErrorCode::InvalidBody, "the note is not UTF-8 text"))?)
            }
        }
    }
    let photo = photo.ok_or_else(|| ApiError::new(ErrorCode::InvalidBody, "no photo: send the image in a `photo` field"))?;
    let chitty = chitties::upload(&state, &session, shop_id, photo, note).await?;
    Ok((StatusCode::ACCEPTED, Json(chitty)))
}

fn malformed(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, "the upload is too large")
    } else {
        ApiError::new(ErrorCode::InvalidBody, format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Lists the caller may see, newest first (at most 100): a customer's own, a shopkeeper's
/// shops', every shop's for admins. `open=true`: only those being read or waiting for staff.
#[utoipa::path(get, path = "/chitties", tag = "chitties", params(ChittyQuery),
    responses((status = 200, body = ChittyList), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, session: Session, ApiQuery(query): ApiQuery<ChittyQuery>) -> ApiResult<Json<ChittyList>> {
    Ok(Json(chitties::list(&state, &session, query).await?))
}

/// One list with its lines as read, for its customer and the shop's staff.
#[utoipa::path(get, path = "/chitties/{id}", tag = "chitties", params(("id" = i64, Path)),
    responses((status = 200, body = WithSeq<Chitty>), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<Json<WithSeq<Chitty>>> {
    Ok(Json(chitties::get(&state, &session, id).await?))
}

/// The photo as sent.
#[utoipa::path(get, path = "/chitties/{id}/image", tag = "chitties", params(("id" = i64, Path)),
    responses((status = 200, content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))), (status = 404, body = ErrorBody)))]
pub async fn image(State(state): State<AppState>, session: Session, Id(id): Id) -> ApiResult<impl IntoResponse> {
    let (content_type, bytes) = chitties::image(&state, &session, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // A chitty's photo never changes; only those allowed may have it.
            (header::CACHE_CONTROL, "private, max-age=86400, immutable".to_owned()),
        ],
        bytes,
    ))
}

/// Makes an order of a list for its customer (the shop's staff), with the lines as staff
/// confirmed them. Same checks as any order.
#[utoipa::path(post, path = "/chitties/{id}/order", tag = "chitties", params(("id" = i64, Path)), request_body = ChittyOrder,
    responses((status = 201, body = WithSeq<Order>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn make_order(
    State(state): State<AppState>,
    session: Session,
    Id(id): Id,
    ApiJson(confirmed): ApiJson<ChittyOrder>,
) -> ApiResult<(StatusCode, Json<WithSeq<Order>>)> {
    Ok((StatusCode::CREATED, Json(chitties::make_order(&state, &session, id, confirmed).await?)))
}

/// Declines a list (the shop's staff); the customer sees the reason.
#[utoipa::path(post, path = "/chitties/{id}/reject", tag = "chitties", params(("id" = i64, Path)), request_body = ChittyRejection,
    responses((status = 200, body = WithSeq<Chitty>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    session: Session,
    Id(id): Id,
    ApiJson(rejection): ApiJson<ChittyRejection>,
) -> ApiResult<Json<WithSeq<Chitty>>> {
    Ok(Json(chitties::reject(&state, &session, id, rejection.reason).await?))
}
