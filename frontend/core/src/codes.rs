//! The error codes the web client gives itself, for failures the server did not name: its
//! `ApiError` carries them beside the server's own codes.

/// The code used when the request never got an answer.
pub const NETWORK_ERROR: &str = "network_error";

/// The code used when the server's answer could not be understood.
pub const UNEXPECTED_RESPONSE: &str = "unexpected_response";
