//! Configuring a [`Client`]: credentials, environment, timeouts, retries and rate limit, checked
//! once when the client is built.

use std::ffi::OsString;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

use crate::{Client, RetryPolicy, Runtime};

/// ASAPP's sandbox, for development and testing.
pub const SANDBOX_URL: &str = "https://api.sandbox.asapp.com";

/// ASAPP's production environment.
pub const PRODUCTION_URL: &str = "https://api.asapp.com";

/// The environment variable holding the API id.
pub const ENV_API_ID: &str = "ASAPP_API_ID";
/// The environment variable holding the API secret.
pub const ENV_API_SECRET: &str = "ASAPP_API_SECRET";
/// The environment variable naming the environment: `sandbox` or `production`.
pub const ENV_ENVIRONMENT: &str = "ASAPP_ENVIRONMENT";
/// The environment variable holding a custom base URL.
pub const ENV_BASE_URL: &str = "ASAPP_BASE_URL";

/// The user agent every request carries, before any suffix.
pub const USER_AGENT: &str = concat!("asapp-conversations/", env!("CARGO_PKG_VERSION"));

/// Where the client sends its requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// ASAPP's sandbox, [`SANDBOX_URL`].
    #[default]
    Sandbox,
    /// ASAPP's production environment, [`PRODUCTION_URL`].
    Production,
    /// Any other base URL: https, or http to a loopback host such as a local sandbox.
    Custom(String),
}

impl Environment {
    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Sandbox => SANDBOX_URL,
            Self::Production => PRODUCTION_URL,
            Self::Custom(url) => url,
        }
    }
}

impl FromStr for Environment {
    type Err = ConfigError;

    /// `sandbox` or `production`.
    fn from_str(name: &str) -> Result<Self, ConfigError> {
        match name {
            "sandbox" => Ok(Self::Sandbox),
            "production" => Ok(Self::Production),
            other => Err(ConfigError::UnknownEnvironment(other.to_owned())),
        }
    }
}

/// A client-side limit on the request rate, shared by every clone of the client.
///
/// ASAPP's spike arrest answers 429 past 100 requests per second; a limit at or below that keeps
/// a busy service from collecting 429s. Retries count against the limit too.
///
/// An account's limit can be lower, or shared with other services on the same credentials:
/// [`RateLimit::adaptive`] lowers the rate when ASAPP answers 429 and raises it again while it
/// does not (additive increase, multiplicative decrease), never above the configured rate.
///
/// ```
/// use asapp_conversations::{ClientConfig, RateLimit};
///
/// let client = ClientConfig::new("my-api-id", "my-api-secret")
///     .rate_limit(RateLimit::ASAPP_SPIKE_ARREST.adaptive())
///     .build()?;
/// assert_eq!(client.rate_limit_now(), Some(100.0));
/// # Ok::<(), asapp_conversations::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    per_second: u32,
    burst: u32,
    adaptive: bool,
}

impl RateLimit {
    /// ASAPP's spike-arrest limit: 100 requests per second.
    pub const ASAPP_SPIKE_ARREST: Self = Self::per_second(100);

    /// At most `requests` per second, with bursts of up to `requests` at once.
    pub const fn per_second(requests: u32) -> Self {
        Self {
            per_second: requests,
            burst: requests,
            adaptive: false,
        }
    }

    /// Adapts to the service: a 429 halves the rate (down to one request per second) unless its
    /// request left before the last decrease (the requests in flight then answer for the old
    /// rate), and every second without one adds a fiftieth of this limit's rate back, up to it.
    /// Off by default.
    pub const fn adaptive(mut self) -> Self {
        self.adaptive = true;
        self
    }

    /// Whether the rate adapts to 429s ([`RateLimit::adaptive`]).
    pub const fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// Allows bursts of up to `burst` requests at once (the rate stays the same).
    pub const fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// Requests per second.
    pub const fn requests_per_second(&self) -> u32 {
        self.per_second
    }

    /// Requests that may go out at once.
    pub const fn burst(&self) -> u32 {
        self.burst
    }
}

/// Everything a [`Client`] needs, checked by [`ClientConfig::build`].
///
/// ```
/// use std::time::Duration;
/// use asapp_conversations::{ClientConfig, Environment, RateLimit, RetryPolicy};
///
/// let client = ClientConfig::new("my-api-id", "my-api-secret")
///     .environment(Environment::Production)
///     .attempt_timeout(Duration::from_secs(10))
///     .deadline(Duration::from_secs(60))
///     .retry_policy(RetryPolicy::asapp())
///     .rate_limit(RateLimit::ASAPP_SPIKE_ARREST)
///     .user_agent_suffix("billing-sync/2.3")
///     .build()?;
/// # Ok::<(), asapp_conversations::ConfigError>(())
/// ```
///
/// Neither `Debug` nor `Display` shows the secret.
#[derive(Clone)]
pub struct ClientConfig {
    api_id: String,
    api_secret: String,
    environment: Environment,
    connect_timeout: Duration,
    attempt_timeout: Option<Duration>,
    deadline: Option<Duration>,
    retry: RetryPolicy,
    rate_limit: Option<RateLimit>,
    user_agent_suffix: Option<String>,
    http_client: Option<reqwest::Client>,
    #[cfg(feature = "opentelemetry")]
    meter: Option<opentelemetry::metrics::Meter>,
}

impl ClientConfig {
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default timeout of one attempt.
    pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default deadline of a whole call, retries and waits included.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

    /// A configuration for the sandbox with ASAPP's retry schedule and no client-side rate limit.
    pub fn new(api_id: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Self {
            api_id: api_id.into(),
            api_secret: api_secret.into(),
            environment: Environment::default(),
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: Some(Self::DEFAULT_ATTEMPT_TIMEOUT),
            deadline: Some(Self::DEFAULT_DEADLINE),
            retry: RetryPolicy::default(),
            rate_limit: None,
            user_agent_suffix: None,
            http_client: None,
            #[cfg(feature = "opentelemetry")]
            meter: None,
        }
    }

    /// Reads [`ENV_API_ID`], [`ENV_API_SECRET`], and either [`ENV_BASE_URL`] or
    /// [`ENV_ENVIRONMENT`] (neither means the sandbox) from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var_os(name))
    }

    /// [`ClientConfig::from_env`] with the variables looked up by `var` instead of in the
    /// process environment: for tests, or for settings kept elsewhere.
    pub fn from_vars(mut var: impl FnMut(&str) -> Option<OsString>) -> Result<Self, ConfigError> {
        let mut read = |name: &'static str| -> Result<Option<String>, ConfigError> {
            var(name)
                .map(|value| {
                    value
                        .into_string()
                        .map_err(|_| ConfigError::InvalidVariable {
                            name,
                            reason: "it is not valid UTF-8".to_owned(),
                        })
                })
                .transpose()
        };
        let required = |name: &'static str, value: Option<String>| match value {
            None => Err(ConfigError::MissingVariable { name }),
            Some(value) if value.is_empty() => Err(ConfigError::InvalidVariable {
                name,
                reason: "it is empty".to_owned(),
            }),
            Some(value) => Ok(value),
        };
        let api_id = required(ENV_API_ID, read(ENV_API_ID)?)?;
        let api_secret = required(ENV_API_SECRET, read(ENV_API_SECRET)?)?;
        let environment = match (read(ENV_BASE_URL)?, read(ENV_ENVIRONMENT)?) {
            (Some(_), Some(_)) => return Err(ConfigError::ConflictingVariables),
            (Some(url), None) => {
                check_base_url(&url).map_err(|error| ConfigError::InvalidVariable {
                    name: ENV_BASE_URL,
                    reason: error.to_string(),
                })?;
                Environment::Custom(url)
            }
            (None, Some(name)) => {
                name.parse()
                    .map_err(|error: ConfigError| ConfigError::InvalidVariable {
                        name: ENV_ENVIRONMENT,
                        reason: error.to_string(),
                    })?
            }
            (None, None) => Environment::default(),
        };
        Ok(Self::new(api_id, api_secret).environment(environment))
    }

    /// Where requests go (the sandbox by default).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Sends requests to `url`: https, or http to a loopback host such as a local sandbox.
    pub fn base_url(self, url: impl Into<String>) -> Self {
        self.environment(Environment::Custom(url.into()))
    }

    /// How long to wait for a connection (10 s by default). Ignored with
    /// [`ClientConfig::http_client`], whose own setting applies.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending to the end of the response (30 s by
    /// default; `None` for no limit).
    pub fn attempt_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.attempt_timeout = timeout.into();
        self
    }

    /// How long a whole call may take, rate-limit waits, attempts and retry waits included (2
    /// minutes by default; `None` for no limit). A retry that could not start before the
    /// deadline is not made, and an attempt still running at the deadline is cut off.
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.deadline = deadline.into();
        self
    }

    /// When failed requests are retried ([`RetryPolicy::asapp`] by default).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Holds requests to a rate (none by default).
    pub fn rate_limit(mut self, limit: impl Into<Option<RateLimit>>) -> Self {
        self.rate_limit = limit.into();
        self
    }

    /// Appends `suffix` to the user agent, as `asapp-conversations/<version> <suffix>`.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// Sends requests through `client` instead of a new one, keeping its connection settings
    /// (proxy, TLS roots, pool). Credentials, user agent, timeouts and retries still apply.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Records the client's metrics (`http.client.request.duration`, retries, rate-limiter
    /// waits: see [`metrics`](crate::metrics)) with `meter` instead of a meter of the global
    /// provider, which is taken when the client is built.
    #[cfg(feature = "opentelemetry")]
    pub fn meter(mut self, meter: opentelemetry::metrics::Meter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The API id.
    pub fn api_id(&self) -> &str {
        &self.api_id
    }

    /// The environment requests go to.
    pub fn target(&self) -> &Environment {
        &self.environment
    }

    /// The retry policy.
    pub fn retries(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The client-side rate limit, if any.
    pub fn limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    /// The timeout of one attempt, if any.
    pub fn timeout_per_attempt(&self) -> Option<Duration> {
        self.attempt_timeout
    }

    /// The deadline of a whole call, if any.
    pub fn overall_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Checks the configuration and builds the client. Nothing is sent.
    pub fn build(self) -> Result<Client, ConfigError> {
        let api_id = credential(&self.api_id, Credential::Id)?;
        let mut api_secret = credential(&self.api_secret, Credential::Secret)?;
        api_secret.set_sensitive(true);
        let base_url = check_base_url(self.environment.base_url())?;
        for (what, duration) in [
            ("connect timeout", Some(self.connect_timeout)),
            ("attempt timeout", self.attempt_timeout),
            ("deadline", self.deadline),
        ] {
            if duration == Some(Duration::ZERO) {
                return Err(ConfigError::ZeroDuration { what });
            }
        }
        if let Some(limit) = self.rate_limit
            && (limit.per_second == 0 || limit.burst == 0)
        {
            return Err(ConfigError::ZeroRateLimit);
        }
        let user_agent = match &self.user_agent_suffix {
            None => HeaderValue::from_static(USER_AGENT),
            Some(suffix) => HeaderValue::from_str(&format!("{USER_AGENT} {suffix}"))
                .map_err(|_| ConfigError::InvalidUserAgent)?,
        };
        // An HTTP client built here applies the attempt timeout itself, so that an attempt the
        // deadline does not cut short needs no timeout of its own.
        let (http, http_timeout) = match self.http_client {
            Some(client) => (client, None),
            None => {
                let mut builder = reqwest::Client::builder().connect_timeout(self.connect_timeout);
                if let Some(timeout) = self.attempt_timeout {
                    builder = builder.timeout(timeout);
                }
                let client = builder.build().map_err(ConfigError::HttpClient)?;
                (client, self.attempt_timeout)
            }
        };
        #[cfg(feature = "opentelemetry")]
        let instruments = {
            let url = Url::parse(&base_url).map_err(|error| ConfigError::InvalidBaseUrl {
                url: shown_url(&base_url),
                reason: error.to_string(),
            })?;
            let meter = self.meter.unwrap_or_else(crate::metrics::global_meter);
            crate::metrics::Instruments::new(
                &meter,
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default(),
            )
        };
        let runtime = Runtime::new(crate::runtime::Settings {
            api_id,
            api_secret,
            user_agent,
            attempt_timeout: self.attempt_timeout,
            http_timeout,
            deadline: self.deadline,
            retry: self.retry,
            rate_limit: self.rate_limit,
            #[cfg(feature = "opentelemetry")]
            instruments,
        });
        Ok(Client::new_with_client(&base_url, http, runtime))
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_id", &self.api_id)
            .field("api_secret", &"<redacted>")
            .field("environment", &self.environment)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("deadline", &self.deadline)
            .field("retry", &self.retry)
            .field("rate_limit", &self.rate_limit)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field(
                "http_client",
                &self.http_client.as_ref().map(|_| "<caller's>"),
            )
            .finish()
    }
}

impl fmt::Display for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ASAPP Conversations API at {} as API id {}",
            self.environment.base_url(),
            self.api_id
        )
    }
}

#[derive(Clone, Copy)]
enum Credential {
    Id,
    Secret,
}

/// A credential as a header value; the error never contains the value.
fn credential(value: &str, which: Credential) -> Result<HeaderValue, ConfigError> {
    if value.trim().is_empty() {
        return Err(match which {
            Credential::Id => ConfigError::EmptyApiId,
            Credential::Secret => ConfigError::EmptyApiSecret,
        });
    }
    HeaderValue::from_str(value).map_err(|_| ConfigError::InvalidCredential {
        which: match which {
            Credential::Id => "id",
            Credential::Secret => "secret",
        },
    })
}

/// `url` as an error may show it: a user name or password before the host, and a query or
/// fragment (either may carry a credential), become `…`. Works on text, because a URL that does
/// not parse can hold them too.
fn shown_url(url: &str) -> String {
    let (before_query, rest) = match url.find(['?', '#']) {
        Some(at) => (&url[..at], Some(&url[at..at + 1])),
        None => (url, None),
    };
    let authority_start = before_query.find("://").map_or(0, |at| at + 3);
    let authority_end = before_query[authority_start..]
        .find('/')
        .map_or(before_query.len(), |at| authority_start + at);
    let mut shown = String::with_capacity(url.len());
    match before_query[authority_start..authority_end].rfind('@') {
        Some(at) => {
            shown.push_str(&before_query[..authority_start]);
            shown.push('…');
            shown.push_str(&before_query[authority_start + at..]);
        }
        None => shown.push_str(before_query),
    }
    if let Some(mark) = rest {
        shown.push_str(mark);
        shown.push('…');
    }
    shown
}

/// Checks a base URL and returns it without a trailing `/`, the form the generated client
/// appends paths to.
fn check_base_url(url: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
        url: shown_url(url),
        reason: reason.to_owned(),
    };
    let parsed = Url::parse(url).map_err(|error| invalid(&error.to_string()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Not echoed: the URL holds a credential.
        return Err(ConfigError::CredentialsInBaseUrl);
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it has a query or fragment"));
    }
    let Some(host) = parsed.host_str() else {
        return Err(invalid("it has no host"));
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        scheme => {
            return Err(ConfigError::InsecureBaseUrl {
                url: url.to_owned(),
                scheme: scheme.to_owned(),
            });
        }
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// A configuration that cannot make a working client. No variant ever holds the API secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The API id is empty.
    #[error("the API id is empty")]
    EmptyApiId,
    /// The API secret is empty.
    #[error("the API secret is empty")]
    EmptyApiSecret,
    /// A credential cannot be sent as an HTTP header value.
    #[error("the API {which} contains characters that cannot be sent in an HTTP header")]
    InvalidCredential {
        /// `id` or `secret`.
        which: &'static str,
    },
    /// A required environment variable is not set.
    #[error("environment variable {name} is not set")]
    MissingVariable {
        /// The variable.
        name: &'static str,
    },
    /// An environment variable is set to something unusable.
    #[error("environment variable {name} is invalid: {reason}")]
    InvalidVariable {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Both `ASAPP_BASE_URL` and `ASAPP_ENVIRONMENT` are set.
    #[error("environment variables {ENV_BASE_URL} and {ENV_ENVIRONMENT} are both set; set one")]
    ConflictingVariables,
    /// An environment name other than `sandbox` or `production`.
    #[error("unknown environment `{0}`: expected `sandbox` or `production`")]
    UnknownEnvironment(String),
    /// The base URL cannot be used.
    #[error("base URL `{url}` is invalid: {reason}")]
    InvalidBaseUrl {
        /// The URL as given, but for a user name, password, query or fragment, shown as `…`.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The base URL holds a user name or password.
    #[error("the base URL must not contain a user name or password")]
    CredentialsInBaseUrl,
    /// The base URL is not https and not a loopback host.
    #[error(
        "base URL `{url}` uses {scheme}: only https is allowed (or http to a loopback host), \
         because the API secret would travel in clear text"
    )]
    InsecureBaseUrl {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// A timeout or deadline of zero, which no request could meet.
    #[error("the {what} must be longer than zero")]
    ZeroDuration {
        /// Which setting.
        what: &'static str,
    },
    /// A rate limit of zero requests, which would stop every request.
    #[error("the rate limit must allow at least one request per second and a burst of one")]
    ZeroRateLimit,
    /// The user agent suffix cannot be sent as an HTTP header value.
    #[error("the user agent suffix contains characters that cannot be sent in an HTTP header")]
    InvalidUserAgent,
    /// The HTTP client could not be built (for example, no TLS backend could start).
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}
