//! `asapp import` from object storage, against a real S3-protocol server: moto's standalone
//! server (from PyPI; `.ci/run` installs it, and `MOTO_SERVER` names its program), started on a
//! free port of 127.0.0.1 for each test. A prefix is listed recursively and leaves out what is not
//! under it; a killed import resumes exactly once; an object changed since the checkpoint is
//! refused; a missing object is named; a Contact Lens prefix takes each object's base time from
//! its name and sends one copy of each contact. A stand-in that fails on purpose shows a throttled
//! listing retried and a refused one named.

use std::process::Stdio;
use std::time::Duration;

use asapp_conversations::reqwest;
use asapp_conversations_cli::Exit;
use asapp_conversations_sandbox::Sandbox;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;

use super::support::{
    LIMIT, Order, Scratch, Transcript, asapp_env, assert_once_in_order, counting_sandbox, empty,
    export, exported_texts, message_line, sandbox_env, serve,
};

/// A moto server, stopped when dropped.
struct Moto {
    url: String,
    _child: tokio::process::Child,
}

impl Moto {
    /// Starts moto on a free port. The port is free when it is picked and may be taken before
    /// moto binds it (tests start servers concurrently): moto then exits, and another port is
    /// tried, three times at most.
    async fn start() -> Self {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_owned());
        let mut said = Vec::new();
        for _ in 0..3 {
            match Self::start_on_a_free_port(&program).await {
                Ok(moto) => return moto,
                Err(last_words) => said.push(last_words),
            }
        }
        panic!("{program} did not start on three ports: {said:?}");
    }

    /// Moto on a port free a moment ago; what it said if it stopped before it listened.
    async fn start_on_a_free_port(program: &str) -> Result<Self, Vec<String>> {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut child = tokio::process::Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {program}: {e}. These tests need moto's S3 server: \
                     pip install 'moto[server]==5.2.5' (as .ci/run does), or set MOTO_SERVER"
                )
            });
        // It says where it listens once it does.
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut said = Vec::new();
        let ready = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("Running on http://127.0.0.1") {
                    return true;
                }
                said.push(line);
            }
            false
        };
        let ready = tokio::time::timeout(Duration::from_secs(60), ready).await;
        match ready {
            Ok(true) => {}
            Ok(false) => return Err(said),
            Err(_) => panic!("{program} did not listen within 60 s: {said:?}"),
        }
        // Keep reading its log, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }

    /// Creates `bucket` and puts each object in it.
    async fn put(&self, bucket: &str, objects: &[(&str, &str)]) {
        let created = reqwest::Client::builder()
            .timeout(LIMIT)
            .build()
            .unwrap()
            .put(format!("{}/{bucket}", self.url))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{created:?}");
        for (key, body) in objects {
            self.replace(bucket, key, body).await;
        }
    }

    /// Puts (or replaces) one object, as a client with credentials would.
    async fn replace(&self, bucket: &str, key: &str, body: &str) {
        use object_store::ObjectStoreExt as _;
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&self.url)
            .with_allow_http(true)
            .with_bucket_name(bucket)
            .with_access_key_id("testing")
            .with_secret_access_key("testing")
            .with_region("us-east-1")
            .build()
            .unwrap();
        store
            .put(&object_store::path::Path::from(key), body.to_owned().into())
            .await
            .unwrap_or_else(|e| panic!("{bucket}/{key}: {e}"));
    }

    /// Creates `bucket`, readable without credentials (as a Google Cloud Storage client that
    /// skips signing reads it), and puts each object in it by a plain HTTP request, its key
    /// percent-encoded here, segment by segment: what the server stores is the key itself,
    /// whatever a client library does with names.
    async fn put_public(&self, bucket: &str, objects: &[(&str, String)]) {
        let http = reqwest::Client::builder().timeout(LIMIT).build().unwrap();
        let created = http
            .put(format!("{}/{bucket}", self.url))
            .header("x-amz-acl", "public-read")
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{created:?}");
        for (key, body) in objects {
            self.put_raw(&http, bucket, key, body).await;
        }
    }

    async fn put_raw(&self, http: &reqwest::Client, bucket: &str, key: &str, body: &str) {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        let path: Vec<String> = key
            .split('/')
            .map(|segment| utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string())
            .collect();
        let put = http
            .put(format!("{}/{bucket}/{}", self.url, path.join("/")))
            .header("x-amz-acl", "public-read")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        assert!(put.status().is_success(), "{bucket}/{key}: {put:?}");
    }

    /// The environment pointing `asapp` at this server, and at the API at `api` with the
    /// sandbox's credentials.
    fn env(&self, api: &str, sandbox: &Sandbox) -> Vec<(&'static str, String)> {
        vec![
            ("ASAPP_BASE_URL", api.to_owned()),
            ("ASAPP_API_ID", sandbox.api_id().to_owned()),
            ("ASAPP_API_SECRET", sandbox.api_secret().to_owned()),
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }
}

#[tokio::test]
async fn a_prefix_is_read_recursively_and_leaves_out_what_is_not_under_it() {
    let moto = Moto::start().await;
    let contact_lens = json!({
        "CustomerMetadata": {"ContactId": "s3-contact-1"},
        "Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"}, {"ParticipantId": "AGENT", "ParticipantRole": "AGENT"}],
        "Transcript": [
            {"Id": "t1", "ParticipantId": "AGENT", "Content": "from the voice analysis", "BeginOffsetMillis": 500, "EndOffsetMillis": 900},
            {"Id": "t2", "ParticipantId": "CUSTOMER", "Content": "and the customer", "BeginOffsetMillis": 1500, "EndOffsetMillis": 1900},
        ],
    })
    .to_string();
    let lines = [
        message_line("s3-call-1", "one", 1),
        message_line("s3-call-1", "two", 2),
    ]
    .join("\n");
    let outside = message_line("s3-outside", "not under the prefix", 1);
    moto.put(
        "recordings",
        &[
            ("calls/2024/01/a.jsonl", &lines),
            (
                "calls/2024/02/deep/s3-contact-1_analysis_2024-02-03T04:05:06Z.json",
                &contact_lens,
            ),
            ("calls/2024/02/notes.txt", "not a transcript"),
            ("calls/2024-old.jsonl", &outside),
        ],
    )
    .await;
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = moto.env(sandbox.base_url(), &sandbox);
    let scratch = Scratch::new("objects-prefix");
    let checkpoint = scratch.0.join("cp");
    let ran = asapp_env(
        &[
            "import",
            "s3://recordings/calls/2024/",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--base-time",
            "2024-02-03T04:00:00Z",
        ],
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(summary["messages"], 4, "{summary}");
    assert_eq!(exported_texts("s3-call-1", &env).await, ["one", "two"]);
    assert_eq!(
        exported_texts("s3-contact-1", &env).await,
        ["from the voice analysis", "and the customer"]
    );
    assert!(
        export("s3-outside", &env).await.is_err(),
        "left out by the prefix"
    );
    // The checkpoint names each object by its URL and ETag.
    let header = std::fs::read_to_string(&checkpoint).unwrap();
    assert!(
        header.contains(r#"{"source":"s3://recordings/calls/2024/01/a.jsonl","version":""#),
        "{header}"
    );

    let missing = asapp_env(
        &[
            "import",
            "s3://recordings/calls/missing.jsonl",
            "--checkpoint",
            scratch.0.join("m").to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(missing.exit, Exit::Usage, "{missing:?}");
    assert!(
        missing
            .err
            .contains("s3://recordings/calls/missing.jsonl: not found"),
        "{}",
        missing.err
    );
    // Nothing was reached, so nothing stands in the way of the corrected command.
    assert!(
        !scratch.0.join("m").exists(),
        "the new checkpoint is removed"
    );
}

#[tokio::test]
async fn a_contact_lens_prefix_takes_each_base_time_from_the_objects_name_and_one_copy() {
    // Amazon Connect's Analysis/Voice/ prefix: a raw and a redacted copy of one contact. The base
    // time is the object name's (the last segment of its key), and the redacted copy is sent.
    let moto = Moto::start().await;
    let contact = "5e5e5e5e-1111-4222-8333-444444444444";
    let document = |output: &str, text: &str| {
        json!({
            "Channel": "VOICE",
            "ContentMetadata": {"Output": output},
            "CustomerMetadata": {"ContactId": contact},
            "Participants": [{"ParticipantId": "c-1", "ParticipantRole": "CUSTOMER"}, {"ParticipantId": "a-1", "ParticipantRole": "AGENT"}],
            "Transcript": [
                {"Id": "t1", "ParticipantId": "a-1", "Content": "hello from the hangar", "BeginOffsetMillis": 500, "EndOffsetMillis": 900},
                {"Id": "t2", "ParticipantId": "c-1", "Content": text, "BeginOffsetMillis": 2_250, "EndOffsetMillis": 2_900},
            ],
        })
        .to_string()
    };
    moto.put(
        "connect",
        &[
            (
                &format!("Analysis/Voice/2024/02/03/{contact}_analysis_2024-02-03T04:05:06Z.json"),
                &document("Raw", "I am Ada"),
            ),
            (
                &format!(
                    "Analysis/Voice/Redacted/2024/02/03/{contact}_analysis_redacted_2024-02-03T04:05:06Z.json"
                ),
                &document("Redacted", "I am [PII]"),
            ),
        ],
    )
    .await;
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = moto.env(sandbox.base_url(), &sandbox);
    let scratch = Scratch::new("objects-contact-lens");
    let checkpoint = scratch.0.join("cp");
    let args = [
        "import",
        "s3://connect/Analysis/Voice/",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["copiesLeftAside"]),
        (&2.into(), &1.into()),
        "{summary}"
    );
    assert_eq!(
        summary["baseTimes"],
        json!([{"from": "file name", "earliest": "2024-02-03T04:05:06Z", "latest": "2024-02-03T04:05:06Z", "conversations": 1}])
    );
    let exported = asapp_env(&["export", "--external-id", contact], &env).await;
    let times_and_texts: Vec<(String, String)> = exported
        .out
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            let at: asapp_conversations::chrono::DateTime<asapp_conversations::chrono::Utc> =
                line["timestamp"].as_str().unwrap().parse().unwrap();
            (
                at.to_rfc3339_opts(asapp_conversations::chrono::SecondsFormat::Millis, true),
                line["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        times_and_texts,
        [
            (
                "2024-02-03T04:05:06.500Z".to_owned(),
                "hello from the hangar".to_owned()
            ),
            (
                "2024-02-03T04:05:08.250Z".to_owned(),
                "I am [PII]".to_owned()
            ),
        ]
    );
    // Resumed: the same names, the same times, nothing sent again.
    let resumed = asapp_env(
        &[args.as_slice(), &["--resume", "--settle", "0s"]].concat(),
        &env,
    )
    .await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    let summary: Value = serde_json::from_str(&resumed.out).unwrap();
    assert_eq!(
        (&summary["messages"], &summary["alreadyStored"]),
        (&0.into(), &2.into()),
        "{summary}"
    );
}

#[tokio::test]
async fn a_killed_import_from_s3_resumes_once_and_a_changed_object_is_refused() {
    let moto = Moto::start().await;
    let transcript = Transcript::new("s3-kill", 40, 30);
    let body = transcript.jsonl(Order::OneAfterAnother);
    moto.put("dump", &[("export/all.jsonl", &body)]).await;
    // The counting server holds the store; killed while its 20th batch is in flight.
    let (url, reached, sandbox) = counting_sandbox(20).await;
    let env = moto.env(&url, &sandbox);
    let scratch = Scratch::new("objects-kill");
    let checkpoint = scratch.0.join("cp");
    let args = [
        "import",
        "s3://dump/export/all.jsonl",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--rate-limit",
        "0",
        "--batch-size",
        "3",
        "--concurrency",
        "2",
    ];
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_asapp"))
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("ASAPP_ENVIRONMENT")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    tokio::select! {
        reached = reached => reached.expect("the counting server stopped"),
        status = child.wait() => panic!("asapp ended before its 20th batch: {status:?}"),
        () = tokio::time::sleep(LIMIT) => panic!("no 20th batch within {LIMIT:?}"),
    }
    child.kill().await.unwrap();

    let resume: Vec<&str> = [args.as_slice(), &["--resume", "--settle", "0s"]].concat();
    let resumed = asapp_env(&resume, &env).await;
    assert_eq!(resumed.exit, Exit::Success, "{resumed:?}");
    assert_once_in_order(&transcript, &env).await;

    // The object changes: a resume against it is refused, naming it.
    moto.replace(
        "dump",
        "export/all.jsonl",
        &body.replace(
            "message 3 of s3-kill-000",
            "message 3 of s3-kill-000, edited",
        ),
    )
    .await;
    let refused = asapp_env(&resume, &env).await;
    assert_eq!(refused.exit, Exit::Usage, "{refused:?}");
    assert!(
        refused.err.contains("the input changed since checkpoint")
            && refused
                .err
                .contains("s3://dump/export/all.jsonl has version (ETag)"),
        "{}",
        refused.err
    );
}

#[tokio::test]
async fn any_object_name_reads_given_or_listed_on_s3_and_google_cloud_storage() {
    let moto = Moto::start().await;
    // Spaces, `%`, `+`, `#`, non-ASCII, in the prefix and in the names.
    let names = [
        ("données 2024/ünï cøde.jsonl", "names-unicode"),
        ("données 2024/100% + #1.jsonl", "names-reserved"),
        ("données 2024/通話/記録 %41.jsonl", "names-deep"),
    ];
    let objects: Vec<(&str, String)> = names
        .iter()
        .map(|(key, conversation)| (*key, message_line(conversation, key, 1)))
        .collect();
    moto.put_public("names", &objects).await;
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let s3 = moto.env(sandbox.base_url(), &sandbox);
    // moto answers Google Cloud Storage's XML API as well, over plain http.
    let mut gcs = sandbox_env(&sandbox);
    gcs.extend([
        ("GOOGLE_BASE_URL", moto.url.clone()),
        ("GOOGLE_ALLOW_HTTP", "true".to_owned()),
        ("GOOGLE_SKIP_SIGNATURE", "true".to_owned()),
    ]);
    let scratch = Scratch::new("objects-names");
    for (scheme, env) in [("s3", &s3), ("gs", &gcs)] {
        // Listed under a prefix that needs encoding itself.
        let prefix = format!("{scheme}://names/données 2024/");
        let checkpoint = scratch.0.join(format!("{scheme}-listed"));
        let listed = asapp_env(
            &[
                "import",
                &prefix,
                "--checkpoint",
                checkpoint.to_str().unwrap(),
            ],
            env,
        )
        .await;
        assert_eq!(listed.exit, Exit::Success, "{scheme}: {listed:?}");
        let summary: Value = serde_json::from_str(&listed.out).unwrap();
        assert_eq!(summary["messages"], 3, "{scheme}: {summary}");
        // Each given by its URL, exactly as the store names it.
        for (key, conversation) in names {
            let url = format!("{scheme}://names/{key}");
            let checkpoint = scratch.0.join(format!("{scheme}-{conversation}"));
            let given = asapp_env(
                &["import", &url, "--checkpoint", checkpoint.to_str().unwrap()],
                env,
            )
            .await;
            assert_eq!(given.exit, Exit::Success, "{url}: {given:?}");
            let header = std::fs::read_to_string(&checkpoint).unwrap();
            assert!(header.contains(&url), "{header}");
        }
    }
    for (key, conversation) in names {
        // Imported four times: listed and given, from each store; stored once each time, as
        // ASAPP stores a message sent again.
        assert_eq!(
            exported_texts(conversation, &s3).await,
            [key, key, key, key],
            "{conversation}"
        );
    }
    // What no store path can hold is refused, naming the key, rather than read as another.
    let refused = asapp_env(
        &[
            "import",
            "s3://names/a//b.jsonl",
            "--checkpoint",
            scratch.0.join("refused").to_str().unwrap(),
        ],
        &s3,
    )
    .await;
    assert_eq!(refused.exit, Exit::Usage, "{refused:?}");
    assert!(
        refused
            .err
            .contains("s3://names/a//b.jsonl: the object store client cannot address this key"),
        "{}",
        refused.err
    );
}

/// A stand-in for S3 that fails on purpose: bucket `denied` answers 403 AccessDenied; bucket
/// `busy` answers its first listings 503 SlowDown, then lists `calls/a.jsonl`. Counts the
/// listings asked for.
async fn failing_s3(
    body: String,
    first_failures: usize,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listings = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = listings.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let body = body.clone();
        let listings = counted.clone();
        async move {
            use axum::http::StatusCode;
            let error = |status: StatusCode, code: &str| {
                (
                    status,
                    [("content-type", "application/xml")],
                    format!("<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"),
                )
            };
            let path = uri.path().to_owned();
            let listing = uri.query().is_some_and(|q| q.contains("list-type=2"));
            if path.starts_with("/denied") {
                return error(StatusCode::FORBIDDEN, "AccessDenied");
            }
            if listing {
                if listings.fetch_add(1, Ordering::SeqCst) < first_failures {
                    return error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown");
                }
                return (
                    StatusCode::OK,
                    [("content-type", "application/xml")],
                    format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                         <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                         <Name>busy</Name><Prefix>calls/</Prefix><KeyCount>1</KeyCount>\
                         <MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>\
                         <Contents><Key>calls/a.jsonl</Key>\
                         <LastModified>2024-01-23T00:00:00.000Z</LastModified>\
                         <ETag>&quot;e1&quot;</ETag><Size>{}</Size>\
                         <StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
                        body.len()
                    ),
                );
            }
            if path == "/busy/calls/a.jsonl" {
                return (StatusCode::OK, [("content-type", "application/octet-stream")], body);
            }
            error(StatusCode::NOT_FOUND, "NoSuchKey")
        }
    });
    // The object's answer needs its ETag and time as headers too.
    let app = app.layer(axum::middleware::map_response(
        |mut response: axum::response::Response| async move {
            let headers = response.headers_mut();
            headers.insert("etag", "\"e1\"".parse().unwrap());
            headers.insert(
                "last-modified",
                "Tue, 23 Jan 2024 00:00:00 GMT".parse().unwrap(),
            );
            response
        },
    ));
    (serve(app).await, listings)
}

#[tokio::test]
async fn a_throttled_listing_is_retried_and_a_refused_one_says_access_denied() {
    let lines = [
        message_line("s3-busy", "one", 1),
        message_line("s3-busy", "two", 2),
    ]
    .join("\n");
    let (s3, listings) = failing_s3(lines, 2).await;
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let mut env = sandbox_env(&sandbox);
    env.extend([
        ("AWS_ENDPOINT_URL", s3),
        ("AWS_ALLOW_HTTP", "true".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]);
    let scratch = Scratch::new("objects-failing");
    let checkpoint = scratch.0.join("cp");
    let ran = asapp_env(
        &[
            "import",
            "s3://busy/calls/",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    assert_eq!(listings.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(exported_texts("s3-busy", &env).await, ["one", "two"]);

    let denied = asapp_env(
        &[
            "import",
            "s3://denied/calls/",
            "--checkpoint",
            scratch.0.join("denied").to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(denied.exit, Exit::Rejected, "{denied:?}");
    assert!(
        denied.err.contains("s3://denied/calls/: access denied"),
        "{}",
        denied.err
    );
}

#[tokio::test]
async fn every_store_reaches_a_plain_http_endpoint_through_its_own_variables() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // An emulator that refuses everything, counting what reaches it.
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = reached.clone();
    let app = axum::Router::new().fallback(move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { axum::http::StatusCode::FORBIDDEN }
    });
    let emulator = serve(app).await;
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let scratch = Scratch::new("objects-http");
    let stores = [
        (
            "s3://calls/",
            "AWS_ALLOW_HTTP",
            vec![
                ("AWS_ENDPOINT_URL", emulator.clone()),
                ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
                ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
                ("AWS_REGION", "us-east-1".to_owned()),
            ],
        ),
        (
            "gs://calls/",
            "GOOGLE_ALLOW_HTTP",
            vec![
                ("GOOGLE_BASE_URL", emulator.clone()),
                ("GOOGLE_SKIP_SIGNATURE", "true".to_owned()),
            ],
        ),
        (
            "az://calls/",
            "AZURE_ALLOW_HTTP",
            vec![
                ("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1".to_owned()),
                ("AZURE_STORAGE_ENDPOINT", emulator.clone()),
                ("AZURE_SKIP_SIGNATURE", "true".to_owned()),
            ],
        ),
    ];
    for (url, allow_http, store_env) in stores {
        let mut env = sandbox_env(&sandbox);
        env.extend(store_env);
        let import = |env: Vec<(&'static str, String)>, name: &'static str| {
            let checkpoint = scratch.0.join(format!("{}-{name}", &url[..2]));
            async move {
                asapp_env(
                    &["import", url, "--checkpoint", checkpoint.to_str().unwrap()],
                    &env,
                )
                .await
            }
        };
        // Without the variable, plain http is refused before any request.
        let before = reached.load(Ordering::SeqCst);
        let https_only = import(env.clone(), "https-only").await;
        assert_eq!(https_only.exit, Exit::Usage, "{url}: {https_only:?}");
        assert!(
            https_only.err.contains(&format!(
                "{url}: its endpoint is plain http, refused unless {allow_http}=true"
            )),
            "{url}: {}",
            https_only.err
        );
        assert_eq!(
            reached.load(Ordering::SeqCst),
            before,
            "{url}: {https_only:?}"
        );
        // With it, the request reaches the emulator, whose refusal is the store's.
        env.push((allow_http, "true".to_owned()));
        let http = import(env, "http").await;
        assert_eq!(http.exit, Exit::Rejected, "{url}: {http:?}");
        assert!(
            http.err.contains(&format!("{url}: access denied")),
            "{url}: {}",
            http.err
        );
        assert!(reached.load(Ordering::SeqCst) > before, "{url}");
    }
}

#[tokio::test]
async fn contact_records_are_read_from_a_prefix() {
    // A Contact Lens analysis and its contact's record, both in the instance's bucket: the
    // records under a prefix (Kinesis Data Firehose's, every object under it), read through the
    // same store. The contact starts at its recording's start, with its record's agent.
    let moto = Moto::start().await;
    let contact = "6f6f6f6f-1111-4222-8333-444444444444";
    let agent = "a6a6a6a6-0000-4000-8000-000000000006";
    let document = json!({
        "Channel": "VOICE",
        "ContentMetadata": {"Output": "Redacted"},
        "CustomerMetadata": {"ContactId": contact},
        "Participants": [{"ParticipantId": "c-1", "ParticipantRole": "CUSTOMER"}, {"ParticipantId": "a-1", "ParticipantRole": "AGENT"}],
        "Transcript": [
            {"Id": "t1", "ParticipantId": "a-1", "Content": "hello from the hangar", "BeginOffsetMillis": 500, "EndOffsetMillis": 900},
            {"Id": "t2", "ParticipantId": "c-1", "Content": "I am [PII]", "BeginOffsetMillis": 2_250, "EndOffsetMillis": 2_900},
        ],
    })
    .to_string();
    let record = super::formats::contact_record(
        contact,
        "2024-02-03T04:20:00Z",
        Some("2024-02-03T04:05:07Z"),
        "2024-02-03T04:05:06Z",
        agent,
        "Kite sales",
        None,
    )
    .to_string();
    moto.put(
        "connect",
        &[
            (
                &format!(
                    "Analysis/Voice/Redacted/2024/02/03/{contact}_analysis_redacted_2024-02-03T04:05:06Z.json"
                ),
                &document,
            ),
            (
                "ctr/2024/02/03/04/connect-ctr-1-2024-02-03-04-00-00-0c0c0c0c",
                &format!("{record}\n{record}"),
            ),
        ],
    )
    .await;
    let sandbox = Sandbox::start_with(empty()).await.unwrap();
    let env = moto.env(sandbox.base_url(), &sandbox);
    let scratch = Scratch::new("objects-contact-records");
    let checkpoint = scratch.0.join("cp");
    let args = [
        "import",
        "s3://connect/Analysis/Voice/",
        "--contact-records",
        "s3://connect/ctr/",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
    ];
    let ran = asapp_env(&args, &env).await;
    assert_eq!(ran.exit, Exit::Success, "{ran:?}");
    let summary: Value = serde_json::from_str(&ran.out).unwrap();
    assert_eq!(
        (
            &summary["messages"],
            &summary["baseTimes"],
            &summary["contactRecords"]
        ),
        (
            &2.into(),
            &json!([{"from": "contact record", "earliest": "2024-02-03T04:05:07Z", "latest": "2024-02-03T04:05:07Z", "conversations": 1}]),
            &json!({"files": 1, "records": 2, "contacts": 1, "conversationsWithRecord": 1, "conversationsWithoutRecord": 0}),
        ),
        "{summary}"
    );
    let exported = asapp_env(&["export", "--external-id", contact], &env).await;
    let senders_and_times: Vec<(String, String)> = exported
        .out
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            let at: asapp_conversations::chrono::DateTime<asapp_conversations::chrono::Utc> =
                line["timestamp"].as_str().unwrap().parse().unwrap();
            (
                line["senderId"].as_str().unwrap().to_owned(),
                at.to_rfc3339_opts(asapp_conversations::chrono::SecondsFormat::Millis, true),
            )
        })
        .collect();
    assert_eq!(
        senders_and_times,
        [
            (agent.to_owned(), "2024-02-03T04:05:07.500Z".to_owned()),
            ("c-1".to_owned(), "2024-02-03T04:05:09.250Z".to_owned()),
        ]
    );
    // A prefix with nothing under it is refused, naming it.
    let empty_prefix = asapp_env(
        &[
            "import",
            "s3://connect/Analysis/Voice/",
            "--contact-records",
            "s3://connect/nothing/",
            "--checkpoint",
            scratch.0.join("cp-empty").to_str().unwrap(),
        ],
        &env,
    )
    .await;
    assert_eq!(empty_prefix.exit, Exit::Usage, "{empty_prefix:?}");
    assert!(
        empty_prefix
            .err
            .contains("s3://connect/nothing/: no object under this prefix (--contact-records)"),
        "{}",
        empty_prefix.err
    );
}
