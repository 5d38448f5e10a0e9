//! Integration tests of the REST API against the real server binary.

mod authz;
mod bad_input;
mod chitty;
mod common;
mod frames;
mod fuzz;
mod lifecycle;
mod nodes;
mod pages;
mod push;
mod realtime;
mod sse;
mod ws;
