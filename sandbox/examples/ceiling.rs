//! The ceiling for the sandbox benchmark: a bare axum handler that checks that both credential
//! headers are present and answers the seeded conversation's bytes, with nothing else (no
//! store, no validation, no error envelope). `cargo run --release -p asapp-conversations-sandbox
//! --example ceiling -- PORT`.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;

const BODY: &str = r#"{"agent":{"externalId":"agent-111","name":"agent-x"},"customer":{"externalId":"customer-x","name":"customer-name-x"},"externalId":"id-111","id":"01BX5ZZKBKACTAV9WEVGEMMVRZ","metadata":{"organizationalGroup":"some-group","queue":"some-queue","subdivision":"some-division"}}"#;

async fn conversation(headers: HeaderMap) -> impl IntoResponse {
    if headers.contains_key("asapp-api-id") && headers.contains_key("asapp-api-secret") {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            BODY,
        )
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            "{}",
        )
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(4021);
    let app = axum::Router::new().route(
        "/conversation/v1/conversations/{conversation_id}",
        axum::routing::get(conversation),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("ceiling listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
