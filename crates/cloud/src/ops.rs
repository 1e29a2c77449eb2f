//! Health, metrics, the OpenAPI document, and request accounting.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use utoipa::OpenApi;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::Shared as SharedParts;

/// The generated API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Doorstep cloud API",
        description = "See docs/api.md for the event stream and signed formats."
    ),
    paths(
        crate::accounts::create,
        crate::accounts::kdf,
        crate::accounts::sign_in,
        crate::accounts::refresh,
        crate::accounts::sign_out,
        crate::accounts::confirm,
        crate::accounts::devices,
        crate::accounts::sign_out_other,
        crate::accounts::open_recovery,
        crate::accounts::reset_password,
        crate::accounts::set_recovery,
        crate::totp::setup,
        crate::totp::confirm,
        crate::stream::list,
        crate::stream::stream,
        crate::audit::list,
        crate::addresses::add,
        crate::addresses::list,
        crate::addresses::remove,
        crate::locks::new_pairing_code,
        crate::locks::pair,
        crate::locks::list,
        crate::deliveries::announce,
        crate::carriers::list,
        crate::deliveries::update_eta,
        crate::deliveries::shipment_status,
        crate::deliveries::list,
        crate::deliveries::get,
        crate::deliveries::approve,
        crate::deliveries::block,
        crate::deliveries::reroute,
        crate::household::get,
        crate::household::update,
        crate::household::get_policy,
        crate::household::put_policy,
        crate::guests::add,
        crate::guests::list,
        crate::guests::revoke,
        crate::guests::request_access,
        crate::guest_invitations::create,
        crate::guest_invitations::list,
        crate::guest_invitations::cancel,
        crate::guest_invitations::redeem,
        crate::guest_invitations::complete,
        crate::video::list,
        crate::video::frame,
        crate::video::frames,
        crate::video::snapshot,
        crate::video::delete,
        crate::access::heartbeat,
        crate::access::alive,
        crate::lock_reports::report,
        crate::access::request_access,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::Code)),
    modifiers(&SharedParts)
)]
pub struct ApiDoc;

/// The OpenAPI document.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Liveness and database reachability.
pub async fn healthz(State(state): State<AppState>) -> Response {
    if let Err(e) = sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&state.db.pool)
        .await
    {
        tracing::warn!(error = %e, "health check: database unreachable");
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response();
    }
    // Reads may work while writes do not (a full disk): the last commit decides.
    state.db.probe_writes(state.now().0).await;
    if let Some(error) = state.db.write_failure() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database writes failing: {error}\n"),
        )
            .into_response();
    }
    (StatusCode::OK, "ok\n").into_response()
}

fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may be installed (tests embedding several servers);
        // then this handle simply renders nothing new.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Prometheus text format.
pub async fn metrics() -> String {
    prometheus().render()
}

/// Counts requests and their latency by route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let _ = prometheus();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("doorstep_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("doorstep_http_request_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Unknown paths answer in the API's error shape.
pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}
