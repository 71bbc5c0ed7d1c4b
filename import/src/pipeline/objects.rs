//! Inputs in object storage: `s3://bucket/prefix/`, `gs://bucket/prefix/` and
//! `az://container/prefix/` URLs, through the `object_store` crate.
//!
//! Credentials and endpoints come from each cloud's usual environment variables ([`ENVIRONMENT`]:
//! for S3 `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`, and
//! `AWS_ALLOW_HTTP=true` for a plain-http endpoint), looked up through the command line's own
//! environment so that tests can give their own. A URL that ends with `/`, or names only a
//! bucket, is a prefix, listed recursively; any other names one object. Every object is named, in the checkpoint, by its URL
//! and its ETag (or version), and read only at that version: an object that changed since it was
//! listed, or since the checkpoint was written, is refused as changed input. Transient errors
//! (throttling, 5xx, dropped connections) are retried with exponential backoff by the store
//! itself; what fails for good names the object and why.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, ObjectMeta, ObjectStore, ObjectStoreExt as _,
    RetryConfig, aws::AmazonS3Builder, azure::MicrosoftAzureBuilder,
    gcp::GoogleCloudStorageBuilder,
};

use crate::Error;
use crate::error::StoreProblem;

/// The environment variables the stores are configured from, as `object_store` names them.
pub(crate) const ENVIRONMENT: [&str; 45] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_SKIP_SIGNATURE",
    "AWS_REQUEST_PAYER",
    "AWS_METADATA_ENDPOINT",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL_STS",
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_SERVICE_ACCOUNT_PATH",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_BASE_URL",
    "GOOGLE_BEARER_TOKEN",
    "GOOGLE_SKIP_SIGNATURE",
    "GOOGLE_ALLOW_HTTP",
    "AZURE_STORAGE_ACCOUNT_NAME",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_TOKEN",
    "AZURE_STORAGE_CLIENT_ID",
    "AZURE_STORAGE_CLIENT_SECRET",
    "AZURE_STORAGE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USE_AZURE_CLI",
    "AZURE_STORAGE_USE_EMULATOR",
    "AZURE_STORAGE_ENDPOINT",
    "AZURE_ALLOW_HTTP",
    "AZURE_SKIP_SIGNATURE",
    "AZURE_MSI_ENDPOINT",
];

/// Whether `input` names object storage rather than a local path.
pub(crate) fn is_url(input: &str) -> bool {
    ["s3://", "gs://", "az://"]
        .iter()
        .any(|scheme| input.starts_with(scheme))
}

/// One object to read: its store, its path in the store, its URL and its version.
#[derive(Clone)]
pub(crate) struct Object {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) path: Path,
    pub(crate) url: Arc<str>,
    /// The ETag it was listed with, which reads must match.
    pub(crate) e_tag: Option<String>,
    /// Its version, where the store keeps versions and gave no ETag.
    pub(crate) version: Option<String>,
    pub(crate) size: u64,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("url", &self.url)
            .field("e_tag", &self.e_tag)
            .field("version", &self.version)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// The stores the inputs name, made once per bucket from the environment.
pub(crate) struct Stores {
    environment: HashMap<String, String>,
    made: HashMap<String, Arc<dyn ObjectStore>>,
}

impl Stores {
    /// Stores configured from `environment` (looked up by name).
    pub(crate) fn new(environment: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            environment: ENVIRONMENT
                .iter()
                .filter_map(|name| environment(name).map(|value| ((*name).to_owned(), value)))
                .collect(),
            made: HashMap::new(),
        }
    }

    /// Where the objects `url` names are found: its store, made (and checked) now, and what it
    /// names in it. Nothing is listed yet: see [`Place::objects`].
    pub(crate) fn place(&mut self, url: &str) -> Result<Place, Error> {
        let (bucket_url, key) = split(url)?;
        let store = self.store(&bucket_url, url)?;
        let prefix = is_prefix(url);
        let path = object_path(
            url,
            if prefix {
                key.trim_end_matches('/')
            } else {
                key
            },
        )?;
        Ok(Place {
            url: url.into(),
            bucket_url: bucket_url.into(),
            store,
            path,
            prefix,
        })
    }

    fn store(&mut self, bucket_url: &str, url: &str) -> Result<Arc<dyn ObjectStore>, Error> {
        if let Some(store) = self.made.get(bucket_url) {
            return Ok(store.clone());
        }
        let configured = |e: object_store::Error| {
            Error::input(
                url,
                format!("{url}: cannot configure its object store: {e}"),
            )
        };
        let client = ClientOptions::new().with_timeout(Duration::from_secs(60));
        let store: Arc<dyn ObjectStore> = match bucket_url.split_once("://").map(|(s, _)| s) {
            Some("s3") => {
                let mut builder = AmazonS3Builder::new()
                    .with_url(bucket_url)
                    .with_client_options(client)
                    .with_retry(retry());
                for (name, value) in self.config("AWS_") {
                    if let Ok(key) = name.parse() {
                        builder = builder.with_config(key, value);
                    }
                }
                Arc::new(builder.build().map_err(configured)?)
            }
            Some("gs") => {
                let mut builder = GoogleCloudStorageBuilder::new()
                    .with_url(bucket_url)
                    .with_client_options(client)
                    .with_retry(retry());
                for (name, value) in self.config("GOOGLE_") {
                    if let Ok(key) = name.parse() {
                        builder = builder.with_config(key, value);
                    }
                }
                Arc::new(builder.build().map_err(configured)?)
            }
            Some("az") => {
                let mut builder = MicrosoftAzureBuilder::new()
                    .with_url(bucket_url)
                    .with_client_options(client)
                    .with_retry(retry());
                for (name, value) in self.config("AZURE_") {
                    if let Ok(key) = name.parse() {
                        builder = builder.with_config(key, value);
                    }
                }
                Arc::new(builder.build().map_err(configured)?)
            }
            _ => {
                return Err(Error::input(
                    url,
                    format!("{url}: not an s3://, gs:// or az:// URL"),
                ));
            }
        };
        self.made.insert(bucket_url.to_owned(), store.clone());
        Ok(store)
    }

    /// The variables with `prefix`, as the stores' configuration keys (lower case).
    fn config<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (String, &'a str)> + 'a {
        self.environment
            .iter()
            .filter(move |(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
    }
}

/// What one URL given to an import names in its store: one object, or every object under a
/// prefix.
#[derive(Clone)]
pub(crate) struct Place {
    url: Arc<str>,
    /// `s3://bucket`, which the store's paths follow in each object's URL.
    bucket_url: Arc<str>,
    store: Arc<dyn ObjectStore>,
    path: Path,
    prefix: bool,
}

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Place")
            .field("url", &self.url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Place {
    /// The URL as given.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is a prefix (rather than one object).
    pub(crate) fn is_prefix(&self) -> bool {
        self.prefix
    }

    /// The objects it names, in key order, as the store lists them: the one object, or every
    /// object under the prefix, page by page, never held all at once. A listing out of key order
    /// is an error, since a resume must find the objects in the same order.
    pub(crate) fn objects(
        &self,
    ) -> impl futures_util::Stream<Item = Result<Object, Error>> + use<> {
        let place = self.clone();
        let listing = if self.prefix {
            self.store.list(Some(&self.path))
        } else {
            let (store, path) = (self.store.clone(), self.path.clone());
            futures_util::stream::once(async move { store.head(&path).await }).boxed()
        };
        let mut last: Option<Path> = None;
        listing.map(move |meta| {
            let meta = meta.map_err(|e| failure(&place.url, &e))?;
            if last.as_ref().is_some_and(|last| *last >= meta.location) {
                return Err(Error::ObjectStore {
                    url: place.url.to_string(),
                    problem: StoreProblem::Failed,
                    detail: format!(
                        "{}: the store listed {} after {}, out of key order",
                        place.url,
                        meta.location,
                        last.as_ref().map_or("", |l| l.as_ref())
                    ),
                });
            }
            last = Some(meta.location.clone());
            Ok(place.object(meta))
        })
    }

    /// Whether the object at `url` (in this place's bucket) exists, for a copy's look-up.
    pub(crate) async fn exists(&self, url: &str) -> Result<bool, Error> {
        let Some(key) = url
            .strip_prefix(&*self.bucket_url)
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return Ok(false);
        };
        let path = object_path(url, key)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => {
                let failed = failure(url, &e);
                // A listing's 404 comes as text: not there either.
                if failed.to_string().ends_with(": not found") {
                    Ok(false)
                } else {
                    Err(failed)
                }
            }
        }
    }

    /// Whether `url` is under this prefix, or is this object.
    pub(crate) fn contains(&self, url: &str) -> bool {
        if self.prefix {
            let under = format!("{}/", self.url.trim_end_matches('/'));
            url.len() > under.len() && url.starts_with(&under)
        } else {
            *self.url == *url
        }
    }

    fn object(&self, meta: ObjectMeta) -> Object {
        Object {
            url: format!("{}/{}", self.bucket_url, meta.location).into(),
            store: self.store.clone(),
            e_tag: meta.e_tag,
            version: meta.version,
            size: meta.size,
            path: meta.location,
        }
    }
}

/// Exponential backoff from 100 ms, at most 8 retries within 2 minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(15),
            base: 2.0,
        },
        max_retries: 8,
        retry_timeout: Duration::from_secs(120),
    }
}

/// Whether `url` names a prefix (it ends with `/`, or names only its bucket) rather than one
/// object.
pub(crate) fn is_prefix(url: &str) -> bool {
    split(url).is_ok_and(|(_, key)| key.is_empty() || key.ends_with('/'))
}

/// `s3://bucket/a/b` as (`s3://bucket`, `a/b`).
fn split(url: &str) -> Result<(String, &str), Error> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| Error::input(url, format!("{url}: not a URL")))?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Error::input(url, format!("{url}: no bucket or container")));
    }
    Ok((format!("{scheme}://{bucket}"), key))
}

/// The key `key` of `url` as the store's path, exactly as written: the stores percent-encode
/// each path they request, so a key is never encoded here (`Path::from` would encode its `%`,
/// `#`, non-ASCII characters and more, and the store would then ask for another key). What a
/// store's path cannot hold (an empty segment, as in `a//b`, a `.` or `..` segment, a control
/// character) is refused, naming the key.
fn object_path(url: &str, key: &str) -> Result<Path, Error> {
    Path::parse(key).map_err(|e| {
        let why = match e {
            object_store::path::Error::EmptySegment { .. } => "an empty segment (`//`)".to_owned(),
            object_store::path::Error::BadSegment { source, .. } => source.to_string(),
            other => other.to_string(),
        };
        Error::input(
            url,
            format!("{url}: the object store client cannot address this key: {why}"),
        )
    })
}

/// The chunks of `object`, at the version it was listed with.
pub(crate) async fn open(
    object: &Object,
) -> Result<impl futures_util::Stream<Item = Result<bytes::Bytes, Error>> + use<>, Error> {
    let options = GetOptions {
        if_match: object.e_tag.clone(),
        // Without an ETag, the version listed (a version id is not an ETag).
        version: object
            .e_tag
            .is_none()
            .then(|| object.version.clone())
            .flatten(),
        ..GetOptions::default()
    };
    let url = object.url.clone();
    let got = object
        .store
        .get_opts(&object.path, options)
        .await
        .map_err(|e| failure(&object.url, &e))?;
    Ok(got
        .into_stream()
        .map(move |chunk| chunk.map_err(|e| failure(&url, &e))))
}

/// What went wrong with `url`, said plainly, with the exit status it gives: what is not there
/// or changed is the input's fault (2), what the store refuses is a refusal (3), the rest (the
/// store or the network failing, after the store's own retries) a failure (4).
pub(crate) fn failure(url: &str, error: &object_store::Error) -> Error {
    use StoreProblem as P;
    use object_store::Error as E;
    let (exit, why) = match error {
        E::NotFound { .. } => (P::Input, "not found".to_owned()),
        E::PermissionDenied { .. } => (P::Denied, "access denied".to_owned()),
        E::Unauthenticated { .. } => (P::Denied, "the credentials were refused".to_owned()),
        E::Precondition { .. } => (
            P::Input,
            "it changed while the import read it (its ETag is not the one listed)".to_owned(),
        ),
        other => {
            // Not every request's failure is given its kind (a listing's never is), and
            // object_store does not expose the status of a failed request, only its text.
            let text = other.to_string();
            let status = text
                .split_once("status code: ")
                .and_then(|(_, rest)| rest.get(..3))
                .and_then(|code| code.parse::<u16>().ok());
            let throttled = || format!("throttled, still after retries: {text}");
            match status {
                // reqwest refuses an http:// URL when https is required, before sending.
                None if text.contains("Error performing")
                    && text.contains(" http://")
                    && text.contains("builder error") =>
                {
                    (P::Input, plain_http_refused(url))
                }
                Some(404) => (P::Input, "not found".to_owned()),
                Some(403) => (P::Denied, "access denied".to_owned()),
                Some(401) => (P::Denied, "the credentials were refused".to_owned()),
                Some(429 | 503) => (P::Failed, throttled()),
                _ if text.contains("SlowDown") => (P::Failed, throttled()),
                _ => (P::Failed, text),
            }
        }
    };
    Error::ObjectStore {
        url: url.to_owned(),
        problem: exit,
        detail: format!("{url}: {why}"),
    }
}

/// Why a request to a plain-http endpoint was refused, and the variable that allows it.
fn plain_http_refused(url: &str) -> String {
    let variable = match url.split_once("://").map(|(scheme, _)| scheme) {
        Some("gs") => "GOOGLE_ALLOW_HTTP",
        Some("az") => "AZURE_ALLOW_HTTP",
        _ => "AWS_ALLOW_HTTP",
    };
    format!("its endpoint is plain http, refused unless {variable}=true (for an emulator)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_their_bucket_and_key() {
        assert_eq!(
            split("s3://calls/Analysis/Voice/").unwrap(),
            ("s3://calls".to_owned(), "Analysis/Voice/")
        );
        assert_eq!(split("gs://b").unwrap(), ("gs://b".to_owned(), ""));
        assert!(split("s3:///key").is_err());
        assert!(is_url("az://container/x") && !is_url("calls/s3://x"));
        assert!(is_prefix("s3://calls") && is_prefix("s3://calls/") && is_prefix("s3://c/a/"));
        assert!(!is_prefix("s3://calls/a.json"));
    }

    #[test]
    fn a_failure_says_why_and_exits_by_whose_fault_it_is() {
        use crate::error::StoreProblem as P;
        let source = || -> Box<dyn std::error::Error + Send + Sync> {
            "Server returned non-2xx status code: 503 Service Unavailable: <Code>SlowDown</Code>"
                .into()
        };
        let cases = [
            (
                object_store::Error::NotFound {
                    path: "k".into(),
                    source: source(),
                },
                P::Input,
                "s3://b/k: not found",
            ),
            (
                object_store::Error::PermissionDenied {
                    path: "k".into(),
                    source: source(),
                },
                P::Denied,
                "s3://b/k: access denied",
            ),
            (
                object_store::Error::Generic {
                    store: "S3",
                    source: source(),
                },
                P::Failed,
                "s3://b/k: throttled, still after retries: ",
            ),
            (
                object_store::Error::Generic {
                    store: "S3",
                    source: "Error performing list request: Server returned non-2xx status \
                             code: 403 Forbidden: <Code>AccessDenied</Code>"
                        .into(),
                },
                P::Denied,
                "s3://b/k: access denied",
            ),
            (
                object_store::Error::Generic {
                    store: "S3",
                    source: "connection refused".into(),
                },
                P::Failed,
                "s3://b/k: Generic S3 error: connection refused",
            ),
        ];
        for (error, exit, message) in cases {
            let failure = failure("s3://b/k", &error);
            let Error::ObjectStore {
                problem, detail, ..
            } = failure
            else {
                panic!("not a store's error: {failure}");
            };
            assert_eq!(problem, exit, "{error}");
            assert!(detail.starts_with(message), "{detail}");
        }
    }
}
