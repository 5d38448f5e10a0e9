//! Server-rendered pages read through the REST API in-process, with the request's credentials:
//! each user's page carries exactly what the API shows that user.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_rendered_order_list_holds_the_users_own_orders_and_no_one_elses() {
    let server = TestServer::start().await;
    let alice = server.login(ALICE).await;
    let bob = server.login(BOB).await;
    let (bakery, loaf) = bakery_loaf(&server, &alice).await;
    let alices = place(&server, &alice, bakery, loaf).await["id"].as_i64().expect("id");
    let bobs = place(&server, &bob, bakery, loaf).await["id"].as_i64().expect("id");

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
