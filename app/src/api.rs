//! The JSON shapes of the REST API under `/api/v1`, shared by the server, the WASM client
//! and the OpenAPI document.

use crate::domain::order::OrderChange;
use crate::domain::{ChittyStatus, OrderStatus, PaymentStatus, Role};
use crate::domain::validation::ValidationError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use utoipa::{IntoParams, ToSchema};

/// Stable error codes. Clients switch on these; messages are for people.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    InvalidBody,
    UnsupportedMediaType,
    InvalidPath,
    InvalidQuery,
    ValidationFailed,
    Unauthenticated,
    InvalidCredentials,
    Forbidden,
    NotFound,
    Conflict,
    OrderFinal,
    StatusUnchanged,
    InvalidTransition,
    CancelTooLate,
    AlreadyPaid,
    OrderCancelled,
    ShopClosed,
    ProductUnavailable,
    InsufficientStock,
    PayloadTooLarge,
    /// An upload was not an image of a kind the server reads (JPEG, PNG, WebP).
    UnsupportedImage,
    /// An upload was an image that could not be decoded (truncated, empty, too many pixels).
    InvalidImage,
    /// A chitty was already made an order or rejected.
    ChittyClosed,
    TooManyRequests,
    /// The address exists but does not take that method (the `Allow` header lists those it does).
    MethodNotAllowed,
    /// A plain request to an address that takes WebSocket connections only.
    UpgradeRequired,
    Internal,
}

impl ErrorCode {
    /// The HTTP status every error with this code is sent with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            MalformedJson | InvalidPath | InvalidQuery => 400,
            Unauthenticated | InvalidCredentials => 401,
            Forbidden => 403,
            NotFound => 404,
            Conflict | OrderFinal | StatusUnchanged | InvalidTransition | CancelTooLate
            | AlreadyPaid | OrderCancelled | ShopClosed | ProductUnavailable
            | InsufficientStock | ChittyClosed => 409,
            PayloadTooLarge => 413,
            UnsupportedMediaType | UnsupportedImage => 415,
            InvalidBody | ValidationFailed | InvalidImage => 422,
            TooManyRequests => 429,
            MethodNotAllowed => 405,
            UpgradeRequired => 426,
            Internal => 500,
        }
    }

    pub fn from_transition_code(code: &str) -> ErrorCode {
        match code {
            "order_final" => ErrorCode::OrderFinal,
            "status_unchanged" => ErrorCode::StatusUnchanged,
            "invalid_transition" => ErrorCode::InvalidTransition,
            "cancel_too_late" => ErrorCode::CancelTooLate,
            "already_paid" => ErrorCode::AlreadyPaid,
            "order_cancelled" => ErrorCode::OrderCancelled,
            "forbidden" => ErrorCode::Forbidden,
            _ => ErrorCode::Conflict,
        }
    }
}

/// `{"error": {"code": "...", "message": "..."}}`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorDetail {
    /// The message as a page shows it to a person: a sentence, capitalised and with a full
    /// stop ("wrong email or password" → "Wrong email or password."). The API keeps its
    /// messages as they are for programs.
    pub fn humane(mut self) -> ErrorDetail {
        self.message = sentence(&self.message);
        self
    }
}

/// `text` as a sentence: capitalised, ending in a full stop (or its own ! or ?).
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else { return String::new() };
    let mut out = crate::text::upper(first.encode_utf8(&mut [0; 4]));
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?', '…']) {
        out.push('.');
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Shops this user is staff of (shopkeepers only).
    pub shop_ids: Vec<i64>,
    /// A disabled user cannot sign in; their sessions ended when they were disabled.
    #[serde(default)]
    pub disabled: bool,
}

impl User {
    /// The user as the access rules see them.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor { user_id: self.id, role: self.role, shop_ids: self.shop_ids.clone() }
    }
}

/// `GET /users` (admins): every enabled user, by name.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct UserList {
    pub items: Vec<User>,
}

/// `POST /users` (admins).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// At least 8 characters.
    pub password: String,
    /// The shops a shopkeeper works in (shopkeepers only).
    #[serde(default)]
    pub shop_ids: Vec<i64>,
}

/// `PATCH /users/{id}` (admins): disable a user, or change the shops a shopkeeper works in.
/// Takes effect at once, also on the user's open sockets.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub disabled: Option<bool>,
    pub shop_ids: Option<Vec<i64>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct LoginResponse {
    /// Bearer token for API clients; browsers get the same session as an HttpOnly cookie.
    pub token: String,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Shop {
    pub id: i64,
    pub name: String,
    pub is_open: bool,
    pub address: String,
    pub phone: String,
    /// Free text, as the shop writes it ("Mon–Sat 7:00–18:00").
    pub opening_hours: String,
    /// ISO 4217 code of the currency its prices are in.
    pub currency: String,
    /// The board shows an open order amber after this many minutes in its status...
    pub warn_after_mins: i64,
    /// ...and red after this many.
    pub late_after_mins: i64,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ShopList {
    pub items: Vec<Shop>,
    /// The event sequence number this list is current as of.
    pub seq: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShopUpdate {
    pub is_open: Option<bool>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub opening_hours: Option<String>,
    pub currency: Option<String>,
    pub warn_after_mins: Option<i64>,
    pub late_after_mins: Option<i64>,
}

#[cfg(test)]
impl Shop {
    /// An open shop with the defaults a new shop gets, for tests.
    pub fn example(id: i64) -> Shop {
        Shop {
            id,
            name: format!("Shop {id}"),
            is_open: true,
            address: String::new(),
            phone: String::new(),
            opening_hours: String::new(),
            currency: "EUR".into(),
            warn_after_mins: 5,
            late_after_mins: 10,
            updated_at: DateTime::UNIX_EPOCH,
        }
    }
}

impl ShopUpdate {
    /// `shop` with this update applied, each field checked (text trimmed); the thresholds are
    /// checked together, as they will be.
    pub fn apply(&self, shop: &Shop) -> Result<Shop, ValidationError> {
        use crate::domain::validation as v;
        if self.is_open.is_none() && self.name.is_none() && self.address.is_none() && self.phone.is_none() && self.opening_hours.is_none() && self.currency.is_none() && self.warn_after_mins.is_none() && self.late_after_mins.is_none() {
            return Err(ValidationError::EmptyUpdate);
        }
        let mut next = shop.clone();
        if let Some(open) = self.is_open {
            next.is_open = open;
        }
        if let Some(name) = &self.name {
            v::name(name)?;
            next.name = name.trim().to_string();
        }
        for (what, value, field) in [("address", &self.address, &mut next.address), ("opening hours", &self.opening_hours, &mut next.opening_hours)] {
            if let Some(value) = value {
                v::shop_text(what, value)?;
                *field = value.trim().to_string();
            }
        }
        if let Some(phone) = &self.phone {
            v::phone(phone.trim())?;
            next.phone = phone.trim().to_string();
        }
        if let Some(currency) = &self.currency {
            v::currency(currency)?;
            next.currency = currency.clone();
        }
        next.warn_after_mins = self.warn_after_mins.unwrap_or(next.warn_after_mins);
        next.late_after_mins = self.late_after_mins.unwrap_or(next.late_after_mins);
        v::alert_minutes(next.warn_after_mins, next.late_after_mins)?;
        Ok(next)
    }
}

/// How long a shop's orders usually take: the median seconds its recent delivered orders
/// spent in each stage (pending, confirmed, preparing, ready, out for delivery) before the
/// next, `null` where too few orders went through it to say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ShopTimings {
    pub shop_id: i64,
    pub stage_seconds: Vec<Option<i64>>,
    /// How many delivered orders it was learned from.
    pub sample: usize,
}

impl ShopTimings {
    pub fn medians(&self) -> crate::domain::timing::StageMedians {
        let mut m: crate::domain::timing::StageMedians = Default::default();
        for (slot, v) in m.iter_mut().zip(&self.stage_seconds) {
            *slot = *v;
        }
        m
    }
}

impl NewShop {
    /// The new shop with each field checked and its text trimmed; the currency defaults to EUR.
    pub fn checked(&self) -> Result<NewShop, ValidationError> {
        use crate::domain::validation as v;
        v::name(&self.name)?;
        v::shop_text("address", &self.address)?;
        v::shop_text("opening hours", &self.opening_hours)?;
        v::phone(self.phone.trim())?;
        let currency = self.currency.clone().unwrap_or_else(|| "EUR".into());
        v::currency(&currency)?;
        Ok(NewShop {
            name: self.name.trim().to_string(),
            address: self.address.trim().to_string(),
            phone: self.phone.trim().to_string(),
            opening_hours: self.opening_hours.trim().to_string(),
            currency: Some(currency),
        })
    }
}

/// A new shop (admins).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewShop {
    pub name: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub opening_hours: String,
    /// Defaults to EUR.
    #[serde(default)]
    pub currency: Option<String>,
}

/// One of a shop's staff, and whether they are online (have a socket open) right now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct StaffMember {
    pub user_id: i64,
    pub name: String,
    pub online: bool,
}

/// `GET /shops/{id}/staff`: the shop's staff with their presence; `user_connected` and
/// `user_disconnected` events after `seq` keep it current.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct StaffList {
    pub items: Vec<StaffMember>,
    pub seq: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Product {
    pub id: i64,
    pub shop_id: i64,
    pub name: String,
    /// Price in integer minor units (cents).
    pub price_minor: i64,
    pub stock: i64,
    pub low_stock_threshold: i64,
    pub available: bool,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ProductList {
    pub items: Vec<Product>,
    pub seq: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub name: String,
    pub price_minor: i64,
    pub stock: i64,
    #[serde(default)]
    pub low_stock_threshold: i64,
    #[serde(default = "default_true")]
    pub available: bool,
}

fn default_true() -> bool {
    true
}

/// A partial update: only the fields given change.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProductUpdate {
    pub name: Option<String>,
    pub price_minor: Option<i64>,
    pub stock: Option<i64>,
    pub low_stock_threshold: Option<i64>,
    pub available: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct OrderItem {
    pub product_id: i64,
    /// Name and unit price as they were when the order was placed.
    pub name: String,
    pub unit_price_minor: i64,
    pub quantity: i64,
    pub line_total_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct StatusChange {
    pub status: OrderStatus,
    pub change: OrderChange,
    pub by_user_id: i64,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

impl StatusChange {
    /// The entry as the timing rules read it.
    pub fn step(&self) -> crate::domain::timing::Step {
        crate::domain::timing::Step { status: self.status, change: self.change, at: self.at }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Order {
    pub id: i64,
    pub shop_id: i64,
    pub shop_name: String,
    /// The shop's currency (ISO 4217), which the amounts are in.
    #[serde(default = "default_currency")]
    pub currency: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub items: Vec<OrderItem>,
    pub total_minor: i64,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    /// Increases by one with every change; clients keep the snapshot with the highest.
    pub version: i64,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub updated_at: DateTime<Utc>,
    /// Oldest first.
    pub history: Vec<StatusChange>,
}

impl Order {
    /// The history as the timing rules read it.
    pub fn steps(&self) -> Vec<crate::domain::timing::Step> {
        self.history.iter().map(StatusChange::step).collect()
    }

    /// When the order entered its current status.
    pub fn status_since(&self) -> DateTime<Utc> {
        crate::domain::timing::status_since(self.history.iter().map(StatusChange::step)).unwrap_or(self.created_at)
    }

    /// Drops the history from before the order entered its current status, keeping all that
    /// [`Order::status_since`] reads. For the board: its page carries every open order to the
    /// browser, the timers need only this, and how an order got there is on its own page.
    pub fn forget_history_before_status(&mut self) {
        let current = self.history.last().map(|c| c.status);
        let kept = self.history.iter().rev().take_while(|c| Some(c.status) == current).count();
        self.history.drain(..self.history.len() - kept);
    }

    /// The order as it is once `entry` (a change to `state`) is recorded: what reading it back
    /// from the database gives, without reading it back.
    pub fn with_change(mut self, state: crate::domain::order::OrderState, entry: StatusChange) -> Order {
        self.status = state.status;
        self.payment_status = state.payment;
        self.version += 1;
        self.updated_at = entry.at;
        self.history.push(entry);
        self
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct OrderList {
    pub items: Vec<Order>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
    /// What all the matching orders (every page) are worth, per currency, cancelled ones left
    /// out.
    #[serde(default)]
    pub sums: Vec<MoneySum>,
    /// The event sequence number this page is current as of: subscribe with `resume` from here.
    pub seq: i64,
}

/// One response wrapping a single resource with the `seq` it is current as of.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WithSeq<T> {
    #[serde(flatten)]
    pub item: T,
    pub seq: i64,
}

/// Read as JSON text once, then as `T` (which ignores `seq`) and as its `seq`: a derived
/// `flatten` would buffer the object in serde's generic form and decode `T` from that, a
/// second decoder of each `T` in the WASM. Only serde_json's deserializers can give the text.
impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for WithSeq<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        struct Seq {
            seq: i64,
        }
        let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
        let Seq { seq } = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        let item = serde_json::from_str(raw.get()).map_err(D::Error::custom)?;
        Ok(WithSeq { item, seq })
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub shop_id: i64,
    pub items: Vec<NewOrderItem>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewOrderItem {
    pub product_id: i64,
    pub quantity: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    pub status: OrderStatus,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why the order is cancelled; shown in the order's history.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(IntoParams), into_params(parameter_in = Query))]
pub struct OrderQuery {
    /// Only orders with this status.
    pub status: Option<OrderStatus>,
    /// Only orders of this shop.
    pub shop_id: Option<i64>,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Orders per page, 1 to 100 (default 20).
    pub per_page: Option<u32>,
    /// Search: the order number (`12` or `#12`), or part of the customer's name, the shop's
    /// name or (admins only) the customer's email; case-insensitive, at most 100 characters.
    pub q: Option<String>,
    /// The order of the list (default `newest`).
    pub sort: Option<OrderSort>,
}

/// What an order search looks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderSearch {
    /// `12` or `#12`: that order.
    Id(i64),
    /// Part of the customer's name or email or of the shop's name, lower-cased.
    Text(String),
}

impl OrderQuery {
    /// The longest search text.
    pub const MAX_SEARCH: usize = 100;

    /// The search in `q`: `None` when absent or blank, an error when too long.
    pub fn search(&self) -> Result<Option<OrderSearch>, String> {
        let Some(q) = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) else { return Ok(None) };
        if q.chars().count() > Self::MAX_SEARCH {
            return Err(format!("q must be at most {} characters", Self::MAX_SEARCH));
        }
        let digits = q.strip_prefix('#').unwrap_or(q);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            if let Ok(id) = digits.parse() {
                return Ok(Some(OrderSearch::Id(id)));
            }
        }
        Ok(Some(OrderSearch::Text(q.to_lowercase())))
    }
}

/// How an order list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderSort {
    #[default]
    Newest,
    Oldest,
    /// The largest total first.
    TotalDesc,
    /// The smallest total first.
    TotalAsc,
}

impl OrderSort {
    pub const ALL: [OrderSort; 4] = [OrderSort::Newest, OrderSort::Oldest, OrderSort::TotalDesc, OrderSort::TotalAsc];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderSort::Newest => "newest",
            OrderSort::Oldest => "oldest",
            OrderSort::TotalDesc => "total_desc",
            OrderSort::TotalAsc => "total_asc",
        }
    }

    pub fn parse(s: &str) -> Option<OrderSort> {
        OrderSort::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderSort::Newest => "Newest first",
            OrderSort::Oldest => "Oldest first",
            OrderSort::TotalDesc => "Largest total first",
            OrderSort::TotalAsc => "Smallest total first",
        }
    }
}

/// An amount in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct MoneySum {
    pub currency: String,
    pub total_minor: i64,
}

/// One shop's figures (see [`crate::domain::figures`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ShopFigures {
    pub shop_id: i64,
    pub shop_name: String,
    pub currency: String,
    /// Orders placed in the last 24 hours, cancelled ones included.
    pub orders: i64,
    /// What the orders placed in the last 24 hours and not cancelled are worth.
    pub revenue_minor: i64,
    /// Orders open now.
    pub open: i64,
    /// Open orders past the shop's "late" threshold in their current status.
    pub late: i64,
    /// The median time from placing to ready of the orders placed in the last 24 hours.
    pub median_ready_secs: Option<i64>,
}

/// `GET /shops/{id}/board`: everything a shop's board shows, read at one `seq`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Board {
    pub shop: Shop,
    /// Every open order (oldest first, at most [`Board::MAX_OPEN`]), then the last
    /// [`Board::DONE_SHOWN`] delivered and cancelled ones.
    pub orders: Vec<Order>,
    pub products: Vec<Product>,
    pub staff: Vec<StaffMember>,
    /// Shopping lists being read or waiting for staff.
    pub chitties: Vec<Chitty>,
    /// The event sequence number all of the above is current as of.
    pub seq: i64,
}

impl Board {
    /// The most open orders a board loads.
    pub const MAX_OPEN: i64 = 1_000;
    /// Finished orders of each kind (delivered, cancelled) shown in the last column.
    pub const DONE_SHOWN: usize = 10;
}

/// `GET /figures`: the figures of every shop the caller manages (every shop for admins).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct FigureList {
    pub items: Vec<ShopFigures>,
    /// The start of the 24 hours the figures cover.
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub since: DateTime<Utc>,
    pub seq: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// `POST /notifications` (admins).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewNotification {
    /// The recipient (all of their devices); leave out to notify everyone.
    pub user_id: Option<i64>,
    pub severity: Severity,
    pub text: String,
}

/// A notification as sent, and the `data` of a `notification` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Notification {
    pub user_id: Option<i64>,
    pub severity: Severity,
    pub text: String,
    pub from_user_id: i64,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub at: DateTime<Utc>,
}

/// `GET /api/v1/ws/stats` (admins): this node's open sockets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct WsStats {
    /// The node that answered (`--node-id`), when several serve one database.
    #[serde(default)]
    pub node: String,
    pub connections: usize,
    pub unique_users: usize,
    /// Subscribers per topic.
    pub topics: std::collections::BTreeMap<String, usize>,
}

pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;

/// Formats integer minor units as a price, e.g. `1250` → `"12.50"`.
fn default_currency() -> String {
    "EUR".into()
}

/// An amount with its currency, the same on the server and the browser: the symbol of the
/// common currencies, else the code ("£4.80", "CHF 4.80"). The browser switches to its own
/// locale's format once hydrated (`pages::common::Money`).
pub fn format_money(minor: i64, currency: &str) -> String {
    let symbol = match currency {
        "EUR" => "€",
        "GBP" => "£",
        "USD" => "$",
        "INR" => "₹",
        _ => "",
    };
    let amount = format_minor(minor);
    match (symbol, amount.strip_prefix('-')) {
        ("", _) => format!("{currency} {amount}"),
        (s, Some(abs)) => format!("-{s}{abs}"),
        (s, None) => format!("{s}{amount}"),
    }
}

pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_and_its_seq_read_back_from_one_object() {
        let wire = serde_json::json!({"public_key": "BAx", "seq": 12});
        let read: WithSeq<PushKey> = serde_json::from_str(&wire.to_string()).unwrap();
        assert_eq!((read.item.public_key.as_str(), read.seq), ("BAx", 12));
        assert_eq!(serde_json::to_value(&read).unwrap(), wire);
        assert!(serde_json::from_str::<WithSeq<PushKey>>(r#"{"public_key": "BAx"}"#).is_err(), "no seq");
        assert!(serde_json::from_str::<WithSeq<PushKey>>(r#"{"seq": 1}"#).is_err(), "no resource");
    }

    #[test]
    fn the_board_keeps_only_the_history_its_timers_read() {
        use crate::domain::order::OrderChange::*;
        let t0 = "2026-11-27T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let at = |m: i64| t0 + chrono::Duration::minutes(m);
        let entry = |status, change, m| StatusChange { status, change, by_user_id: 1, at: at(m), note: None };
        let order = |history: Vec<StatusChange>| Order {
            id: 1,
            shop_id: 1,
            shop_name: "S".into(),
            currency: "GBP".into(),
            customer_id: 2,
            customer_name: "C".into(),
            items: vec![],
            total_minor: 100,
            status: history.last().map_or(OrderStatus::Pending, |c| c.status),
            payment_status: PaymentStatus::Unpaid,
            version: 1,
            created_at: t0,
            updated_at: t0,
            history,
        };
        let cases = [
            (vec![], 0),
            (vec![entry(OrderStatus::Pending, Created, 0)], 1),
            (vec![entry(OrderStatus::Pending, Created, 0), entry(OrderStatus::Confirmed, StatusChanged, 2), entry(OrderStatus::Preparing, StatusChanged, 5)], 1),
            // Paid while preparing: the timer still counts from when it started preparing.
            (
                vec![
                    entry(OrderStatus::Pending, Created, 0),
                    entry(OrderStatus::Preparing, StatusChanged, 3),
                    entry(OrderStatus::Preparing, PaymentVerified, 7),
                ],
                2,
            ),
        ];
        for (history, kept) in cases {
            let full = order(history);
            let mut board = full.clone();
            board.forget_history_before_status();
            assert_eq!(board.history.len(), kept, "{:?}", full.history);
            assert_eq!(board.status_since(), full.status_since());
            assert_eq!(board.history[..], full.history[full.history.len() - kept..]);
        }
    }

    #[test]
    fn an_order_search_is_a_number_or_text() {
        let search = |q: &str| OrderQuery { q: Some(q.into()), ..Default::default() }.search();
        assert_eq!(OrderQuery::default().search(), Ok(None));
        assert_eq!(search("   "), Ok(None));
        assert_eq!(search("12"), Ok(Some(OrderSearch::Id(12))));
        assert_eq!(search(" #12 "), Ok(Some(OrderSearch::Id(12))));
        assert_eq!(search("#"), Ok(Some(OrderSearch::Text("#".into()))));
        assert_eq!(search("Alice"), Ok(Some(OrderSearch::Text("alice".into()))));
        assert_eq!(search("12 rue"), Ok(Some(OrderSearch::Text("12 rue".into()))));
        // Too large for an id: searched as text, never an overflow.
        assert_eq!(search("99999999999999999999"), Ok(Some(OrderSearch::Text("99999999999999999999".into()))));
        assert!(search(&"x".repeat(101)).is_err());
        assert!(search(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn a_change_moves_the_state_the_version_and_the_history() {
        use crate::domain::order::{apply, OrderChange, OrderState, Party};
        use crate::domain::{OrderAction, OrderStatus, PaymentStatus};
        let created = DateTime::UNIX_EPOCH;
        let placed = StatusChange { status: OrderStatus::Pending, change: OrderChange::Created, by_user_id: 3, at: created, note: None };
        let order = Order {
            id: 7,
            shop_id: 1,
            shop_name: "Shop".into(),
            currency: "EUR".into(),
            customer_id: 3,
            customer_name: "Alice".into(),
            items: vec![],
            total_minor: 450,
            status: OrderStatus::Pending,
            payment_status: PaymentStatus::Unpaid,
            version: 1,
            created_at: created,
            updated_at: created,
            history: vec![placed.clone()],
        };
        let (next, change) = apply(
            OrderState { status: order.status, payment: order.payment_status },
            OrderAction::VerifyPayment,
            Party::Staff,
        )
        .unwrap();
        let at = created + chrono::Duration::minutes(3);
        let entry = StatusChange { status: next.status, change, by_user_id: 2, at, note: Some("cash".into()) };
        let changed = order.clone().with_change(next, entry.clone());
        assert_eq!((changed.status, changed.payment_status), (OrderStatus::Confirmed, PaymentStatus::Paid));
        assert_eq!(changed.version, 2);
        assert_eq!(changed.updated_at, at);
        assert_eq!(changed.created_at, created);
        assert_eq!(changed.history, vec![placed, entry]);
        assert_eq!(changed.status_since(), at);
        assert_eq!(Order { status: order.status, payment_status: order.payment_status, version: 1, updated_at: created, history: order.history.clone(), ..changed }, order);
    }

    #[test]
    fn order_sorts_round_trip() {
        for sort in OrderSort::ALL {
            assert_eq!(OrderSort::parse(sort.as_str()), Some(sort));
            assert_eq!(serde_json::to_value(sort).unwrap(), serde_json::Value::String(sort.as_str().into()));
        }
        assert_eq!(OrderSort::parse("price"), None);
    }

    #[test]
    fn a_shop_update_is_checked_against_the_shop_it_changes() {
        let shop = Shop::example(1);
        assert_eq!(ShopUpdate::default().apply(&shop), Err(ValidationError::EmptyUpdate));
        let renamed = ShopUpdate { name: Some("  Bakery  ".into()), ..Default::default() }.apply(&shop).unwrap();
        assert_eq!(renamed.name, "Bakery");
        // Thresholds are checked together with the ones the shop has.
        assert_eq!(ShopUpdate { warn_after_mins: Some(9), ..Default::default() }.apply(&shop).unwrap().warn_after_mins, 9);
        assert_eq!(ShopUpdate { warn_after_mins: Some(10), ..Default::default() }.apply(&shop), Err(ValidationError::AlertMinutes));
        assert_eq!(ShopUpdate { currency: Some("gbp".into()), ..Default::default() }.apply(&shop), Err(ValidationError::Currency));
    }

    #[test]
    fn a_new_shop_is_checked_and_trimmed() {
        let new = NewShop { name: " Bikes ".into(), phone: " +1 555 ".into(), ..Default::default() };
        let checked = new.checked().unwrap();
        assert_eq!((checked.name.as_str(), checked.phone.as_str(), checked.currency.as_deref()), ("Bikes", "+1 555", Some("EUR")));
        assert_eq!(NewShop { name: " ".into(), ..Default::default() }.checked().unwrap_err(), ValidationError::Name);
        let bad = NewShop { name: "B".into(), currency: Some("eur".into()), ..Default::default() };
        assert_eq!(bad.checked().unwrap_err(), ValidationError::Currency);
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(sentence("wrong email or password"), "Wrong email or password.");
        assert_eq!(sentence("Shop closed."), "Shop closed.");
        assert_eq!(sentence("  é is fine? "), "É is fine?");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn money_carries_its_currency() {
        assert_eq!(format_money(480, "GBP"), "£4.80");
        assert_eq!(format_money(-5, "EUR"), "-€0.05");
        assert_eq!(format_money(123456, "CHF"), "CHF 1234.56");
    }

    #[test]
    fn minor_units_format_without_floats() {
        assert_eq!(format_minor(0), "0.00");
        assert_eq!(format_minor(5), "0.05");
        assert_eq!(format_minor(1250), "12.50");
        assert_eq!(format_minor(-199), "-1.99");
        assert_eq!(format_minor(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn error_bodies_have_the_documented_shape() {
        let body = ErrorBody {
            error: ErrorDetail { code: ErrorCode::InvalidTransition, message: "no".into() },
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"error": {"code": "invalid_transition", "message": "no"}})
        );
    }

    #[test]
    fn every_transition_code_maps_to_a_conflict_or_forbidden() {
        for code in ["order_final", "status_unchanged", "invalid_transition", "cancel_too_late", "already_paid", "order_cancelled"] {
            assert_eq!(ErrorCode::from_transition_code(code).http_status(), 409, "{code}");
        }
        assert_eq!(ErrorCode::from_transition_code("forbidden").http_status(), 403);
    }
}

/// A product a chitty's line may mean, with how sure the match is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ChittyCandidate {
    pub product_id: i64,
    pub name: String,
    /// 0–100: how closely the line's text matches this product (or an alias staff taught).
    pub confidence: u8,
}

/// One line of a chitty as the server read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ChittyLine {
    /// 0-based, top to bottom.
    pub position: i64,
    /// The line as the OCR engine read it.
    pub text: String,
    /// What is asked for, without quantity and unit.
    pub item: String,
    pub quantity: i64,
    /// Whether the line said how many (false: 1 is assumed).
    pub quantity_read: bool,
    /// A unit or size the line gave ("kg", "500 g"), as a hint.
    pub unit: Option<String>,
    /// 0–100: the OCR engine's mean confidence in the line's words.
    pub ocr_confidence: u8,
    /// Best first, at most three.
    pub candidates: Vec<ChittyCandidate>,
    /// The product proposed (the best candidate when it is good enough), if any.
    pub product_id: Option<i64>,
}

/// A photographed shopping list sent to a shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct Chitty {
    pub id: i64,
    pub shop_id: i64,
    pub shop_name: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub status: ChittyStatus,
    /// The customer's note.
    pub note: Option<String>,
    /// Why it failed or was rejected.
    pub reason: Option<String>,
    /// Top to bottom; empty until read.
    pub lines: Vec<ChittyLine>,
    /// The order it became.
    pub order_id: Option<i64>,
    /// Increases by one with every change; clients keep the snapshot with the highest.
    pub version: i64,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub updated_at: DateTime<Utc>,
}

/// `GET /chitties`: the chitties this user may see, newest first.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct ChittyList {
    pub items: Vec<Chitty>,
    pub seq: i64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema, IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ChittyQuery {
    pub shop_id: Option<i64>,
    /// Only those waiting for staff (`read` or `failed`) and being read.
    #[serde(default)]
    pub open: bool,
}

/// `POST /chitties/{id}/order` (shop staff): the order a chitty becomes, as staff confirmed
/// it. Each line names the chitty line it confirms (`position`), so that a line whose
/// product staff changed teaches the shop an alias; lines staff added have none.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChittyOrder {
    pub items: Vec<ChittyOrderItem>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChittyOrderItem {
    #[serde(default)]
    pub position: Option<i64>,
    pub product_id: i64,
    pub quantity: i64,
}

/// `POST /chitties/{id}/reject` (shop staff): the reason is shown to the customer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChittyRejection {
    pub reason: String,
}

/// `GET /push/key`: the key browsers subscribe to this server's pushes with
/// (`applicationServerKey`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PushKey {
    /// The VAPID public key: an uncompressed P-256 point, base64url.
    pub public_key: String,
}

/// The keys of a browser's push subscription, base64url (as `PushSubscription.toJSON()` gives them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushKeys {
    /// The device's P-256 public key (65 bytes).
    pub p256dh: String,
    /// The device's authentication secret (16 bytes).
    pub auth: String,
}

/// `POST /push/subscriptions`: `PushSubscription.toJSON()` and a name for the device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPushSubscription {
    /// The push service's address for this device (`https:`).
    pub endpoint: String,
    pub keys: PushKeys,
    /// When the browser will end the subscription by itself (milliseconds), if it says.
    #[serde(default, rename = "expirationTime")]
    pub expiration_time: Option<f64>,
    /// What the user calls this device ("Kitchen tablet").
    #[serde(default)]
    pub device: Option<String>,
}

/// A device that gets pushes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PushSubscription {
    pub id: i64,
    pub endpoint: String,
    pub device: String,
    #[serde(deserialize_with = "crate::timestamp::utc")]
    pub created_at: DateTime<Utc>,
}

/// `GET /push/subscriptions`: the signed-in user's devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(ToSchema))]
pub struct PushSubscriptionList {
    pub items: Vec<PushSubscription>,
}
