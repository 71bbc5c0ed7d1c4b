//! Where requests go: a local sandbox started for the run (`--local`), or ASAPP as the target
//! and credential options say, each option winning over its environment variable.

use std::ffi::OsString;

use asapp_conversations::{
    Client, ClientConfig, ENV_API_ID, ENV_API_SECRET, ENV_BASE_URL, ENV_ENVIRONMENT,
};
use asapp_conversations_sandbox::Sandbox;

use crate::Failure;
use crate::args::{EnvironmentName, Target};

/// The client a command uses, and the local sandbox it talks to with `--local`.
pub(crate) struct Resolved {
    client: Client,
    sandbox: Option<Sandbox>,
}

impl Resolved {
    /// The client for the target.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Stops the local sandbox, if one was started.
    pub(crate) async fn close(self) {
        if let Some(sandbox) = self.sandbox {
            let _ = sandbox.shutdown().await;
        }
    }
}

/// Builds the client for `target`, reading the variables `env` looks up, with what `tune` adds
/// to its configuration; with `--local`, starts the sandbox first.
pub(crate) async fn resolve(
    target: &Target,
    env: &impl Fn(&str) -> Option<OsString>,
    tune: impl FnOnce(ClientConfig) -> ClientConfig,
) -> Result<Resolved, Failure> {
    let sandbox = if target.local {
        Some(
            Sandbox::start()
                .await
                .map_err(|e| Failure::usage(format!("cannot start the local sandbox: {e}")))?,
        )
    } else {
        None
    };
    let config = match &sandbox {
        Some(sandbox) => sandbox.client_config(),
        None => ClientConfig::from_vars(|name| lookup(target, env, name))
            .map_err(|e| Failure::usage(e.to_string()))?,
    };
    let config = config.user_agent_suffix(concat!("asapp-cli/", env!("CARGO_PKG_VERSION")));
    let client = tune(config)
        .build()
        .map_err(|e| Failure::usage(e.to_string()))?;
    Ok(Resolved { client, sandbox })
}

/// The value of the variable `name`: its option's, else the environment's. A target option
/// (`--base-url`, `--environment`) hides both target variables.
fn lookup(
    target: &Target,
    env: &impl Fn(&str) -> Option<OsString>,
    name: &str,
) -> Option<OsString> {
    let flag = match name {
        ENV_API_ID => target.api_id.clone(),
        ENV_API_SECRET => target.api_secret.clone(),
        ENV_BASE_URL => target.base_url.clone(),
        ENV_ENVIRONMENT => target.environment.map(|e| {
            match e {
                EnvironmentName::Sandbox => "sandbox",
                EnvironmentName::Production => "production",
            }
            .to_owned()
        }),
        _ => None,
    };
    // An option wins over its variable, and a target option over either variable.
    let target_flag = target.base_url.is_some() || target.environment.is_some();
    match flag {
        Some(value) => Some(value.into()),
        None if target_flag && (name == ENV_BASE_URL || name == ENV_ENVIRONMENT) => None,
        None => env(name),
    }
}
