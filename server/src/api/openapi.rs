//! The OpenAPI 3.1 document of the REST API, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ordercast API", description = "Real-time order tracking. All endpoints but login need a session cookie or a bearer token."),
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
    ),
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

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
