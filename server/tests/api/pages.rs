//! Server-rendered pages read through the REST API in-process, with the request's credentials:
//! each user's page carries exactly what the API shows that user.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_rendered_order_list_holds_the_users_own_orders_and_no_one_elses() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let bob = server.login(BOB).await;
    let bakery = shop_id(&server, &alice, "Corner Bakery").await;
    let loaf = product_id(&server, &alice, bakery, "Sourdough").await;
    let place = |token: String| {
        let server = &server;
        async move {
            let (status, order) = server
                .call(Method::POST, "/orders", Some(&token), Some(json!({"shop_id": bakery, "items": [{"product_id": loaf, "quantity": 1}]})))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{order}");
            order["id"].as_i64().expect("id")
        }
    };
    let alices = place(alice.clone()).await;
    let bobs = place(bob.clone()).await;

    let (status, html) = server.page("/orders", Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("data-order-id=\"{alices}\"")), "alice's order is on her page: {html}");
    assert!(!html.contains(&format!("data-order-id=\"{bobs}\"")), "bob's order is not on alice's page");
    assert!(html.contains("Alice Customer"), "the page knows who is signed in");

    let (status, html) = server.page(&format!("/orders/{bobs}"), Some(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("data-order-id"), "alice cannot open bob's order: {html}");
}

#[tokio::test]
async fn a_signed_out_visitor_gets_no_data_from_a_rendered_page() {
    let server = TestServer::start().await;
    let (_, html) = server.page("/orders", None).await;
    assert!(!html.contains("data-order-id"), "{html}");
    assert!(!html.contains("class=\"user-name\""), "{html}");
}
