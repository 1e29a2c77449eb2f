//! What every operation of the OpenAPI document shares, written once instead of
//! on each of forty handlers: who may call it (security schemes by path), the
//! error answers any such route can give, and the routes that are not JSON
//! (health, metrics, the WebSockets).

use utoipa::Modify;
use utoipa::openapi::path::{HttpMethod, Operation, OperationBuilder, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

/// Adds the shared parts to the generated document.
#[derive(Debug)]
pub struct Shared;

/// Which credential a path takes.
fn scheme_for(path: &str) -> Option<&'static str> {
    match path {
        "/v1/accounts"
        | "/v1/accounts/kdf"
        | "/v1/accounts/recovery/open"
        | "/v1/accounts/recovery/reset"
        | "/v1/sessions"
        | "/v1/sessions/refresh"
        | "/v1/locks/pair"
        | "/v1/guest-invitations/redeem"
        | "/healthz"
        | "/metrics"
        | "/openapi.json" => None,
        _ if path.starts_with("/v1/courier/") || path.starts_with("/v1/guest/") => None,
        _ if path.starts_with("/v1/carrier/") => Some("carrier_key"),
        _ if path.starts_with("/v1/lock/") => Some("lock_token"),
        _ => Some("device_token"),
    }
}

/// Routes limited per client address or household (`limits.rs`, sign-in backoff).
fn rate_limited(path: &str) -> bool {
    matches!(
        path,
        "/v1/accounts"
            | "/v1/accounts/recovery/open"
            | "/v1/accounts/recovery/reset"
            | "/v1/sessions"
            | "/v1/locks/pair"
            | "/v1/locks/pairing-codes"
            | "/v1/guest-invitations/redeem"
    ) || path.starts_with("/v1/courier/")
        || path.starts_with("/v1/guest/")
}

fn error(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}

fn add_errors(path: &str, method: &str, operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    let mut add = |code: &str, description: &str| {
        responses
            .entry(code.to_owned())
            .or_insert_with(|| error(description));
    };
    let takes_input = operation.request_body.is_some()
        || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if takes_input {
        add(
            "400",
            "The body or a parameter is malformed; the message names the field.",
        );
    }
    if operation.request_body.is_some() {
        add("413", "The body is larger than 64 KiB.");
    }
    if scheme_for(path).is_some() {
        add("401", "No valid credentials.");
    }
    if path.contains('{') {
        add(
            "404",
            "Not there, or not yours (the two are not told apart).",
        );
    }
    if method != "get" && path.starts_with("/v1/") {
        add("409", "It conflicts with the current state.");
    }
    if rate_limited(path) {
        add("429", "Too many attempts; the message says when to retry.");
    }
    if path.starts_with("/v1/") {
        add(
            "503",
            "The cloud cannot save or read its data right now; nothing changed.",
        );
    }
}

fn plain(description: &str, content_type: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            content_type,
            Content::new(None::<RefOr<utoipa::openapi::schema::Schema>>),
        )
        .build()
}

fn simple(summary: &str, responses: Vec<(&str, Response)>) -> Operation {
    let mut builder = OperationBuilder::new()
        .summary(Some(summary))
        .tag("operations");
    for (code, response) in responses {
        builder = builder.response(code, response);
    }
    builder.build()
}

impl Modify for Shared {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, format, description) in [
            (
                "device_token",
                "dsa_…",
                "A household device's access token (POST /v1/sessions).",
            ),
            (
                "carrier_key",
                "dck_…",
                "A carrier's API key (doorstep-cloud carrier-add).",
            ),
            (
                "lock_token",
                "dlk_…",
                "A paired lock's token (POST /v1/locks/pair).",
            ),
        ] {
            let mut http = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format(format)
                .build();
            http.description = Some(description.to_owned());
            components.add_security_scheme(name, SecurityScheme::Http(http));
        }

        let extra: Vec<(&str, HttpMethod, Operation)> = vec![
            (
                "/healthz",
                HttpMethod::Get,
                simple(
                    "Liveness: the database answers and the last write reached it",
                    vec![
                        ("200", plain("`ok`", "text/plain")),
                        (
                            "503",
                            plain(
                                "`database unreachable` or `database writes failing: …`",
                                "text/plain",
                            ),
                        ),
                    ],
                ),
            ),
            (
                "/metrics",
                HttpMethod::Get,
                simple(
                    "Prometheus metrics",
                    vec![("200", plain("Prometheus text format", "text/plain"))],
                ),
            ),
            (
                "/v1/lock/connect",
                HttpMethod::Get,
                simple(
                    "The lock's channel (WebSocket; see docs/api.md#lock-channel): hello with the signed time, revocations, policies",
                    vec![(
                        "101",
                        plain("Switching to the WebSocket protocol", "text/plain"),
                    )],
                ),
            ),
            (
                "/v1/lock/video",
                HttpMethod::Get,
                simple(
                    "The lock's camera uploads frames (WebSocket, binary: seq u64 BE, captured_at i64 ms BE, JPEG; at most 512 KiB)",
                    vec![(
                        "101",
                        plain("Switching to the WebSocket protocol", "text/plain"),
                    )],
                ),
            ),
            (
                "/v1/locks/{id}/live",
                HttpMethod::Get,
                simple(
                    "A household device watches a lock's camera live (WebSocket, binary frames as the lock sends them)",
                    vec![(
                        "101",
                        plain("Switching to the WebSocket protocol", "text/plain"),
                    )],
                ),
            ),
        ];
        for (path, method, mut operation) in extra {
            if path.starts_with("/v1/") {
                operation.responses.responses.insert(
                    "400".to_owned(),
                    error("Not a WebSocket upgrade request (`{code, message}` says so)."),
                );
            }
            if path.contains("{id}") {
                operation.parameters = Some(vec![
                    utoipa::openapi::path::ParameterBuilder::new()
                        .name("id")
                        .parameter_in(utoipa::openapi::path::ParameterIn::Path)
                        .required(utoipa::openapi::Required::True)
                        .description(Some("The lock's id"))
                        .schema(Some(
                            utoipa::openapi::schema::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::String),
                        ))
                        .build(),
                ]);
            }
            let item = openapi
                .paths
                .paths
                .entry(path.to_owned())
                .or_insert_with(|| PathItem::new(method.clone(), Operation::default()));
            if method == HttpMethod::Get {
                item.get = Some(operation);
            }
        }

        crate::schema_rules::apply(openapi);
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ] {
                let Some(operation) = operation else { continue };
                add_errors(path, method, operation);
                operation.security = Some(match scheme_for(path) {
                    Some(scheme) => vec![SecurityRequirement::new(scheme, Vec::<String>::new())],
                    // An explicitly empty requirement: no credential.
                    None => vec![SecurityRequirement::default()],
                });
            }
        }
    }
}
