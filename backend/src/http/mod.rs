//! The HTTP face of the server: the route table, middleware, extractors, the API's error
//! answers, what the OpenAPI document says of every operation, the web client's files, and one
//! handler module per resource.

pub mod error;
pub mod extract;
pub mod handlers;
pub mod middleware;
pub mod openapi;
pub mod router;
pub mod state;
pub mod static_files;
