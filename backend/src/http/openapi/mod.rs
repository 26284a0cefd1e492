//! What the OpenAPI document says of every operation alike, added in one place once the routes
//! have described themselves (`router::api`): the answers any API route can give (a restart's
//! 503, the 426 to a web client of another version, the passive node's 421, 500, bad parameters
//! and bodies), the session cookie as the security scheme, and the `X-SMS-Client` header that
//! every state-changing request carries.

use shared::api::CLIENT_HEADER;
use shared::client::ClientMismatch;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi, Ref, RefOr, Required};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::http::extract::SESSION_COOKIE;

/// The security scheme's name in the document: the session cookie set by `POST /api/v1/session`.
pub const SESSION_SCHEME: &str = "session";

/// The operations anyone may call without a session.
const PUBLIC: [(&str, &str); 2] = [("get", "/api/v1/health"), ("post", "/api/v1/session")];

// What the middleware lets through, as it decides it: the paths any client version may call
// (`hold_web_clients`), those a passive node still answers (`hold_on_passive`), and the
// requests not bound by `[http] request_timeout` (`time_limit`).
use crate::http::middleware::{EXEMPT as ANY_CLIENT, PASSIVE_EXEMPT as ON_PASSIVE, UNTIMED};

/// Adds what every operation shares; see the module's documentation.
pub struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_default();
        components.add_security_scheme(
            SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie that `POST /api/v1/session` sets (HttpOnly, SameSite=Strict).",
            ))),
        );
        let mut schemas = vec![(
            ClientMismatch::name().into_owned(),
            ClientMismatch::schema(),
        )];
        ClientMismatch::schemas(&mut schemas);
        components.schemas.extend(schemas);

        for (path, item) in openapi.paths.paths.iter_mut() {
            for (method, operation) in operations(item) {
                describe(path, method, operation);
            }
        }
    }
}

/// The operations of a path, with their lowercase methods.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
}

fn describe(path: &str, method: &str, operation: &mut Operation) {
    if !PUBLIC.contains(&(method, path)) {
        operation.security = Some(vec![SecurityRequirement::new(
            SESSION_SCHEME,
            Vec::<String>::new(),
        )]);
    }
    if method != "get" {
        operation
            .parameters
            .get_or_insert_default()
            .push(client_header());
    }

    let has_parameters = operation.parameters.iter().flatten().any(|parameter| {
        matches!(
            parameter.parameter_in,
            ParameterIn::Path | ParameterIn::Query
        )
    });
    if has_parameters {
        answer(
            operation,
            400,
            "A path or query parameter is not valid (`invalid_query`)",
            ERROR,
        );
    }
    let takes_json = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if takes_json {
        answer(
            operation,
            400,
            "The body is not JSON (`invalid_json`) or not the expected fields (`invalid_body`)",
            ERROR,
        );
        answer(
            operation,
            413,
            "The body is larger than `[http] max_body_bytes` (`body_too_large`)",
            ERROR,
        );
        answer(
            operation,
            415,
            "The body is not sent as `application/json` (`unsupported_media_type`)",
            ERROR,
        );
    }
    if !ANY_CLIENT.contains(&path) {
        answer(
            operation,
            426,
            "A web client (`X-SMS-Client: web/<version>`) of another version than the server \
             serves: `client_upgrade_required` or `client_switch_required`, with both versions",
            &ClientMismatch::name(),
        );
    }
    if !ON_PASSIVE.contains(&path) {
        answer(
            operation,
            421,
            "This is the passive node of an HA cluster (`node_passive`); `error.active_url` is \
             the active node's address",
            ERROR,
        );
    }
    answer(
        operation,
        500,
        "The server hit an unexpected error (`internal_error`); it is logged",
        ERROR,
    );
    answer(
        operation,
        507,
        "The data dir's disk or the database is full (`insufficient_storage`): what the \
         request would write was not recorded; the message says what is free",
        ERROR,
    );
    let unavailable = if UNTIMED.contains(&path) {
        "The application restarts or the server is about to reboot to finish an install or \
         rollback (`server_restarting`); `Retry-After` says when to try again"
    } else {
        "The application restarts or the server is about to reboot to finish an install or \
         rollback (`server_restarting`), or the request took longer than \
         `[http] request_timeout` (`request_timeout`); `Retry-After` says when to try again"
    };
    answer(operation, 503, unavailable, ERROR);
    retry_after(operation, 503);
    if operation.responses.responses.contains_key("429") {
        retry_after(operation, 429);
    }
}

/// The schema of the API's error answers.
const ERROR: &str = "ErrorResponse";

/// Documents `status` on `operation`; when the operation documents it already with its own
/// causes, `description` is added to them, unless they name every code it names already.
fn answer(operation: &mut Operation, status: u16, description: &str, schema: &str) {
    let responses = &mut operation.responses.responses;
    let key = status.to_string();
    match responses.get_mut(&key) {
        Some(RefOr::T(response)) => {
            let named =
                codes(description).all(|code| response.description.contains(&format!("`{code}`")));
            if !named {
                let mut rest = description.chars();
                let rest = rest
                    .next()
                    .map(|first| first.to_lowercase().chain(rest).collect::<String>())
                    .unwrap_or_default();
                response.description = format!("{}; or {rest}", response.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let content = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build();
            responses.insert(key, RefOr::T(response));
        }
    }
}

/// The error codes a description names: its backquoted `snake_case` words.
fn codes(description: &str) -> impl Iterator<Item = &str> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

/// Documents the `Retry-After` header (whole seconds) of the `status` answer.
fn retry_after(operation: &mut Operation, status: u16) {
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(&status.to_string()) {
        let header = HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .description(Some("Seconds to wait before trying again"))
            .build();
        response.headers.insert("Retry-After".into(), header);
    }
}

/// `X-SMS-Client`: every state-changing request names its client (a cross-site form cannot set
/// it, so it stops CSRF; a web client's version is held to the server's, see 426).
fn client_header() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(CLIENT_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some(
            "The client: `api/<version>` for scripts, `cli/<version>` for the `sms` command \
             line, `web/<version>` for the web client. Without it: 403 `client_header_missing`.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .examples(["api/1"]),
        ))
        .build()
}

#[cfg(test)]
mod tests;
