//! The pages. Each loads its data through [`crate::client`] (server-rendered with the `seq`
//! it is current as of), then follows the tab's live connection to patch it in place.

pub mod admin;
pub mod board;
pub mod chitties;
pub mod common;
pub mod login;
pub mod nav;
pub mod orders;
pub mod shops;
pub mod shops_admin;
pub mod users;
