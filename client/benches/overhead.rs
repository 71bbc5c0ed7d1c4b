//! The client layer's cost: the same GET against the same local server, through this client and
//! through a bare `reqwest::Client`, at concurrency 1 and 64, measured side by side.
//!
//! ```console
//! $ cargo bench -p asapp-conversations --bench overhead
//! ```
//!
//! `overhead sequential ours|bare N [fmt|otel|metrics]` instead sends N requests one after
//! another through one side only, for counting instructions per request under callgrind; with
//! no subscriber, or with one: `fmt` formats every event and span at INFO into a sink, `otel`
//! maps the spans to OpenTelemetry through `tracing-opentelemetry` (an SDK tracer that keeps
//! every span and exports none), and `metrics` (built with `--features opentelemetry`) is `otel`
//! plus an SDK meter provider that the client records to.
//!
//! The server (axum, one worker thread) answers every request with the same bytes: the spec's
//! example conversation. Both clients send the same request (the credentials, `accept`,
//! `api-version` and the user agent), read the body and decode it into `types::Conversation`;
//! the bare client does nothing else, while this client also validates the id, runs its hooks,
//! arms the attempt timeout, keeps the retry bookkeeping, the span and the error mapping. Rounds alternate between the two so that
//! drift on a shared machine hits both alike; the ratio of the medians is the result.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use asapp_conversations::{Client, ClientConfig, reqwest, types};

const CONVERSATION: &str = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
const BODY: &str = r#"{"id":"01BX5ZZKBKACTAV9WEVGEMMVRZ","externalId":"id-111","customer":{"externalId":"11462","name":"customername"},"agent":{"externalId":"agent_1","name":"agentname"},"timestamp":"2024-01-23T11:42:42Z","metadata":{"organizationalGroup":"some-group","subdivison":"some-division","queue":"some-queue"}}"#;
const ROUND: Duration = Duration::from_secs(1);
const ROUNDS: usize = 9;

fn main() {
    // `overhead sequential ours|bare N`: N requests one after another through one side only, for
    // counting instructions per request with callgrind (see BENCHMARKS.md). Server and client
    // share one current-thread runtime there, so that the order in which their tasks run, and so
    // the count, is the same from one run to the next: with a thread each, how often either
    // parks and wakes varies by a percent or two of the count.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, side, count, rest @ ..] = args.as_slice()
        && mode == "sequential"
    {
        let count: usize = count.parse().expect("a number of requests");
        let subscriber = rest.first().map_or("none", String::as_str);
        let _subscriber = install(subscriber);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let (url, ours, bare) = setup().await;
            for _ in 0..count {
                match side.as_str() {
                    "ours" => through_client(&ours).await,
                    "bare" => through_reqwest(&bare, &url).await,
                    other => panic!("unknown side `{other}`: ours or bare"),
                }
            }
        });
        return;
    }

    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("server")
        .enable_all()
        .build()
        .expect("server runtime");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .expect("client runtime");
    let (listener, app) = server.block_on(listen());
    let base = format!("http://{}", listener.local_addr().expect("address"));
    server.spawn(async move { axum::serve(listener, app).await });
    let (ours, bare) = clients(&base);
    let url = format!("{base}/conversation/v1/conversations/{CONVERSATION}");

    println!("round {ROUND:?}, {ROUNDS} rounds per client, alternating; requests per second");
    for concurrency in [1, 64] {
        let mut ours_rates = Vec::new();
        let mut bare_rates = Vec::new();
        for round in 0..ROUNDS {
            // Alternate which goes first.
            for first in [round % 2 == 0, round % 2 != 0] {
                if first {
                    ours_rates.push(runtime.block_on(measure(concurrency, {
                        let client = ours.clone();
                        move || {
                            let client = client.clone();
                            async move { through_client(&client).await }
                        }
                    })));
                } else {
                    bare_rates.push(runtime.block_on(measure(concurrency, {
                        let client = bare.clone();
                        let url = url.clone();
                        move || {
                            let client = client.clone();
                            let url = url.clone();
                            async move { through_reqwest(&client, &url).await }
                        }
                    })));
                }
            }
        }
        let ours_median = median(&ours_rates);
        let bare_median = median(&bare_rates);
        println!(
            "concurrency {concurrency:>2}: asapp-conversations {ours_median:>8.0}  bare reqwest \
             {bare_median:>8.0}  ratio {:.3}",
            ours_median / bare_median
        );
        println!("  asapp-conversations rounds: {}", rounds(&ours_rates));
        println!("  bare reqwest rounds:        {}", rounds(&bare_rates));
    }
}

/// What the sequential mode runs under: this thread's subscriber, and the providers that must
/// live as long.
struct Installed {
    _guard: Option<tracing::subscriber::DefaultGuard>,
    _tracer: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

/// Installs `subscriber` (`none`, `fmt`, `otel` or `metrics`) for this thread.
fn install(subscriber: &str) -> Installed {
    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    match subscriber {
        "none" => Installed {
            _guard: None,
            _tracer: None,
        },
        "fmt" => Installed {
            _guard: Some(tracing::subscriber::set_default(
                tracing_subscriber::fmt()
                    .with_max_level(tracing::Level::INFO)
                    .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
                    .with_writer(std::io::sink)
                    .finish(),
            )),
            _tracer: None,
        },
        "otel" | "metrics" => {
            #[cfg(feature = "opentelemetry")]
            if subscriber == "metrics" {
                let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
                let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(exporter).build();
                opentelemetry::global::set_meter_provider(
                    opentelemetry_sdk::metrics::SdkMeterProvider::builder()
                        .with_reader(reader)
                        .build(),
                );
            }
            #[cfg(not(feature = "opentelemetry"))]
            assert!(
                subscriber == "otel",
                "`metrics` needs --features opentelemetry"
            );
            let tracer = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
            let layer = tracing_opentelemetry::layer().with_tracer(tracer.tracer("bench"));
            Installed {
                _guard: Some(tracing::subscriber::set_default(
                    tracing_subscriber::registry()
                        .with(layer)
                        .with(tracing_subscriber::filter::LevelFilter::INFO),
                )),
                _tracer: Some(tracer),
            }
        }
        other => panic!("unknown subscriber `{other}`: none, fmt, otel or metrics"),
    }
}

/// The server's listener on 127.0.0.1 and its routes.
async fn listen() -> (tokio::net::TcpListener, axum::Router) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let app = axum::Router::new().route(
        "/conversation/v1/conversations/{id}",
        axum::routing::get(|| async { ([("content-type", "application/json")], BODY) }),
    );
    (listener, app)
}

/// This client and a bare reqwest client for the server at `base`.
fn clients(base: &str) -> (Client, reqwest::Client) {
    let ours = ClientConfig::new("bench-id", "bench-secret")
        .base_url(base)
        .build()
        .expect("client");
    // Configured as this client configures its own: the same connect timeout and the same
    // timeout per request.
    let bare = reqwest::Client::builder()
        .connect_timeout(ClientConfig::DEFAULT_CONNECT_TIMEOUT)
        .timeout(ClientConfig::DEFAULT_ATTEMPT_TIMEOUT)
        .build()
        .expect("reqwest client");
    (ours, bare)
}

/// The server started in the current runtime, and both clients: the URL of the GET, this client
/// and the bare one.
async fn setup() -> (String, Client, reqwest::Client) {
    let (listener, app) = listen().await;
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (ours, bare) = clients(&base);
    let url = format!("{base}/conversation/v1/conversations/{CONVERSATION}");
    (url, ours, bare)
}

async fn through_client(client: &Client) {
    let conversation = client
        .get_conversation()
        .conversation_id(CONVERSATION)
        .await
        .expect("the local server answers");
    assert_eq!(conversation.external_id, "id-111");
}

async fn through_reqwest(client: &reqwest::Client, url: &str) {
    let conversation: types::Conversation = client
        .get(url)
        .header("accept", "application/json")
        .header("api-version", "0.1")
        .header("user-agent", asapp_conversations::USER_AGENT)
        .header("asapp-api-id", "bench-id")
        .header("asapp-api-secret", "bench-secret")
        .send()
        .await
        .expect("the local server answers")
        .error_for_status()
        .expect("a success")
        .json()
        .await
        .expect("a conversation");
    assert_eq!(conversation.external_id, "id-111");
}

/// Requests per second with `concurrency` tasks calling `call` in a loop for one round.
async fn measure<F, Fut>(concurrency: usize, call: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    // Warm the connections up first.
    for _ in 0..concurrency {
        call().await;
    }
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (call, done, stop) = (call.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    call().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(ROUND).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("a benchmark task");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn rounds(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.0}"))
        .collect::<Vec<_>>()
        .join(" ")
}
