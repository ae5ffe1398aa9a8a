//! The HTTP surface: every feature's router merged, plus the shared middleware (request
//! observation, body limit) and the fallbacks for unknown routes and methods.

pub mod assets;
pub mod error;
pub mod extract;
pub mod health;
pub mod observe;
pub mod security;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;
use error::ApiError;

/// The whole application's router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(assets::router())
        .merge(crate::rooms::api::router())
        .merge(crate::live::ws::router())
        .merge(crate::exec::runs::router(&state.runs))
        .merge(crate::pages::router())
        .route("/metrics", get(observe::metrics_page))
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_request_bytes))
        .layer(middleware::from_fn_with_state(
            state.links.clone(),
            security::headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            observe::observe,
        ))
        .with_state(state)
}

/// Unknown API routes get a JSON 404; anything else the friendly 404 page.
async fn fallback(state: State<AppState>, request: Request) -> Response {
    if is_api(&request) {
        ApiError::not_found("no such API endpoint").into_response()
    } else {
        crate::pages::not_found(state).await.into_response()
    }
}

async fn method_not_allowed(request: Request) -> Response {
    let message = format!("{} is not allowed on {}", request.method(), request.uri().path());
    if is_api(&request) {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message).into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, message).into_response()
    }
}

fn is_api(request: &Request) -> bool {
    request.uri().path().starts_with("/v1/")
}
