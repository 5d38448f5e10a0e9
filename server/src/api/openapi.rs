//! The OpenAPI 3.1 document of the REST API: generated from the handlers' annotations, then
//! completed with what the server enforces that the types cannot say. Statuses every extractor
//! can answer (a bad `{id}`, a body that is not JSON, no session) are added to each operation
//! that uses it, and the limits of `app::domain::validation` to the schemas they apply to, so
//! the document states every status and constraint the server enforces. `.ci/schemathesis`
//! holds the server to it.

use app::domain::validation::{
    self, MAX_ALERT_MINS, MAX_ITEMS_PER_ORDER, MAX_NAME_LEN, MAX_NOTE_LEN, MAX_PASSWORD_LEN, MAX_PRICE_MINOR, MAX_QUANTITY,
    MAX_SHOP_TEXT_LEN, MAX_STOCK, MIN_PASSWORD_LEN,
};
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ordercast API", description = "Real-time order tracking. All endpoints but login and logout need a session cookie or a bearer token."),
    servers((url = "/api/v1")),
    paths(
        super::auth::login, super::auth::logout, super::auth::me,
        super::shops::list, super::shops::create, super::shops::get, super::shops::update, super::shops::staff, super::shops::timings, super::shops::board, super::shops::figures,
        super::shops::list_products, super::shops::create_product, super::shops::update_product,
        super::orders::create, super::orders::list, super::orders::get,
        super::orders::set_status, super::orders::cancel, super::orders::verify_payment,
        super::realtime::notify, super::realtime::stats, super::users::list, super::users::create, super::users::update,
        super::chitties::upload, super::chitties::list, super::chitties::get, super::chitties::image,
        super::chitties::make_order, super::chitties::reject,
        super::push::key, super::push::list, super::push::subscribe, super::push::unsubscribe,
    ),
    components(schemas(app::api::OrderSort)),
    modifiers(&Security),
    security(("bearer" = []), ("cookie" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))),
        );
    }
}

pub async fn document() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(complete_document).clone())
}

/// The generated document with what the server enforces added.
pub fn complete_document() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let names: Vec<String> = doc["paths"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default();
    for path in names {
        let Some(item) = doc["paths"][&path].as_object_mut() else { continue };
        for op in item.values_mut() {
            complete_operation(&path, op);
        }
    }
    for (schema, property, limits) in property_limits() {
        if let Some(slot) = doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{property}")) {
            narrow(slot, &limits);
        }
    }
    // The photo of a list is a file (utoipa would describe `Vec<u8>` as an array of numbers).
    if let Some(form) = doc.pointer_mut("/paths/~1shops~1{id}~1chitties/post/requestBody/content/multipart~1form-data/schema/properties") {
        form["photo"] = json!({"type": "string", "format": "binary", "description": "The photo: JPEG, PNG or WebP."});
        narrow(&mut form["note"], &json!({"maxLength": MAX_NOTE_LEN}));
    }
    // A PATCH names at least one field (and one with a value: `.ci/schemathesis` says why
    // JSON Schema cannot state that part).
    for schema in ["ShopUpdate", "ProductUpdate", "UserUpdate"] {
        if let Some(obj) = doc.pointer_mut(&format!("/components/schemas/{schema}")).and_then(Value::as_object_mut) {
            obj.insert("minProperties".into(), json!(1));
        }
    }
    doc
}

/// Adds the statuses the operation's extractors answer and constrains its parameters.
fn complete_operation(path: &str, op: &mut Value) {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    let add = |op: &mut Value, status: &str, description: &str| {
        if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
            responses.entry(status).or_insert_with(|| error(description));
        }
    };
    let public = op.get("security").and_then(Value::as_array).is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(Map::is_empty)));
    if !public {
        add(op, "401", "`unauthenticated`: no session, or an ended one");
    }
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        let mut query = false;
        for p in params.iter_mut() {
            match (p["in"].as_str(), p["name"].as_str()) {
                (Some("path"), Some("id")) => p["schema"] = json!({"type": "integer", "format": "int64", "minimum": 1}),
                (Some("query"), Some(name)) => {
                    query = true;
                    let limits = match name {
                        "page" => json!({"minimum": 1, "maximum": 1_000_000}),
                        "per_page" => json!({"minimum": 1, "maximum": 100}),
                        "q" => json!({"maxLength": app::api::OrderQuery::MAX_SEARCH}),
                        _ => json!({}),
                    };
                    narrow(&mut p["schema"], &limits);
                }
                _ => {}
            }
        }
        if path.contains("{id}") {
            add(op, "400", "`invalid_path`: the id is not a positive whole number");
            add(op, "404", "`not_found`: no such record, or one this user may not see");
        }
        if query {
            add(op, "400", "`invalid_query`: an unknown, malformed or out-of-range parameter");
        }
    }
    if op.pointer("/requestBody/content/application~1json").is_some() {
        add(op, "400", "`malformed_json`: the body is not JSON");
        add(op, "413", "`payload_too_large`: the body is over 64 KiB");
        add(op, "415", "`unsupported_media_type`: a body that is not `application/json`");
        add(op, "422", "`invalid_body` (the JSON has the wrong shape) or `validation_failed` (a value breaks a rule)");
    }
    // Every status the server sends is described.
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for (status, response) in responses.iter_mut() {
            if response["description"].as_str().is_none_or(str::is_empty) {
                response["description"] = json!(reason(status));
            }
        }
    }
}

/// Merges `limits` into a property's schema. Optional fields stay nullable: `null` is the same
/// as leaving the field out (the limits apply to the value when there is one).
fn narrow(schema: &mut Value, limits: &Value) {
    if let (Some(obj), Some(limits)) = (schema.as_object_mut(), limits.as_object()) {
        for (k, v) in limits {
            obj.insert(k.clone(), v.clone());
        }
    }
}

/// The limits of `app::domain::validation`, per schema and property. Texts that are trimmed
/// must hold something besides spaces (`has_text`, as a pattern).
fn property_limits() -> Vec<(&'static str, &'static str, Value)> {
    let text = validation::has_text_pattern();
    let name = json!({"minLength": 1, "maxLength": MAX_NAME_LEN, "pattern": text});
    let shop_text = json!({"maxLength": MAX_SHOP_TEXT_LEN});
    let note = json!({"maxLength": MAX_NOTE_LEN});
    let positive_id = json!({"minimum": 1});
    let price = json!({"minimum": 0, "maximum": MAX_PRICE_MINOR});
    let stock = json!({"minimum": 0, "maximum": MAX_STOCK});
    let minutes = json!({"minimum": 1, "maximum": MAX_ALERT_MINS});
    let phone = json!({"maxLength": 40, "pattern": "^[0-9 +()./-]*$"});
    let mut limits = Vec::new();
    // A shop's and a product's fields have the same limits when created and when changed.
    for schema in ["NewShop", "ShopUpdate"] {
        limits.push((schema, "name", name.clone()));
        limits.push((schema, "address", shop_text.clone()));
        limits.push((schema, "opening_hours", shop_text.clone()));
        limits.push((schema, "phone", phone.clone()));
        limits.push((schema, "currency", json!({"pattern": "^[A-Z]{3}$"})));
    }
    limits.push(("ShopUpdate", "warn_after_mins", minutes.clone()));
    limits.push(("ShopUpdate", "late_after_mins", minutes));
    for schema in ["NewProduct", "ProductUpdate"] {
        limits.push((schema, "name", name.clone()));
        limits.push((schema, "price_minor", price.clone()));
        limits.push((schema, "stock", stock.clone()));
        limits.push((schema, "low_stock_threshold", stock.clone()));
    }
    limits.extend([
        ("NewOrder", "shop_id", positive_id.clone()),
        ("NewOrder", "items", json!({"minItems": 1, "maxItems": MAX_ITEMS_PER_ORDER})),
        ("NewOrderItem", "product_id", positive_id.clone()),
        ("NewOrderItem", "quantity", json!({"minimum": 1, "maximum": MAX_QUANTITY})),
        ("ChittyOrder", "items", json!({"minItems": 1, "maxItems": MAX_ITEMS_PER_ORDER})),
        ("ChittyOrderItem", "product_id", positive_id.clone()),
        ("ChittyOrderItem", "quantity", json!({"minimum": 1, "maximum": MAX_QUANTITY})),
        ("StatusUpdate", "note", note.clone()),
        ("CancelRequest", "reason", note.clone()),
        ("ChittyRejection", "reason", json!({"minLength": 1, "maxLength": app::domain::validation::MAX_REASON_LEN, "pattern": text})),
        ("NewNotification", "text", json!({"minLength": 1, "maxLength": MAX_NOTE_LEN, "pattern": text})),
        ("NewNotification", "user_id", positive_id.clone()),
        ("NewUser", "email", json!({"format": "email", "maxLength": 254})),
        ("NewUser", "name", name),
        ("NewUser", "password", json!({"minLength": MIN_PASSWORD_LEN, "maxLength": MAX_PASSWORD_LEN})),
        ("NewUser", "shop_ids", json!({"items": {"type": "integer", "format": "int64", "minimum": 1}})),
        ("UserUpdate", "shop_ids", json!({"items": {"type": "integer", "format": "int64", "minimum": 1}})),
    ]);
    limits
}

fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted: the work goes on, and its result follows over the socket",
        "204" => "Done; nothing to return",
        "403" => "`forbidden`",
        "404" => "`not_found`",
        "409" => "A conflict with the current state (the `code` says which)",
        "413" => "`payload_too_large`",
        "415" => "`unsupported_media_type`",
        "422" => "`invalid_body` or `validation_failed`",
        "429" => "`too_many_requests`: wait for `Retry-After` seconds",
        _ => "See the error's `code`",
    }
}
