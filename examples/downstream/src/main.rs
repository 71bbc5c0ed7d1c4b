//! `downstream-example BASE_URL`: calls every operation once against `BASE_URL` with the
//! credentials in `ASAPP_API_ID` and `ASAPP_API_SECRET`, and prints what came back.

#![forbid(unsafe_code)]

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(base_url) = std::env::args_os()
        .nth(1)
        .and_then(|a| a.into_string().ok())
    else {
        eprintln!(
            "usage: downstream-example BASE_URL   (credentials in ASAPP_API_ID and ASAPP_API_SECRET)"
        );
        return ExitCode::from(2);
    };
    let credential = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    let (api_id, api_secret) = match (credential("ASAPP_API_ID"), credential("ASAPP_API_SECRET")) {
        (Ok(id), Ok(secret)) => (id, secret),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let client = match downstream_example::client(&base_url, &api_id, &api_secret) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let external_id = format!("downstream-example-{}", std::process::id());
    match downstream_example::run(&client, &external_id).await {
        Ok(log) => {
            for line in log {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
