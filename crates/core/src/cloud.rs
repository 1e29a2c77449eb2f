//! HTTP to the cloud: JSON in and out, errors mapped to [`CoreError`], and the
//! device's tokens kept fresh without the caller noticing.

use std::sync::Arc;
use std::time::Duration;

use doorstep_api::{Code, ErrorBody, Refresh, SessionTokens};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::error::{CoreError, CoreResult};
use crate::secrets::SecretStore;

/// Where the tokens live in the keyring namespace.
pub(crate) const SESSION_ENTRY: &str = "session";

/// Refresh this long before the access token runs out, so a request never races it.
const REFRESH_MARGIN_MS: i64 = 30_000;

/// An unauthenticated connection to one cloud.
#[derive(Debug, Clone)]
pub struct Cloud {
    http: reqwest::Client,
    base: String,
}

impl Cloud {
    /// A client for the cloud at `base` (`http://…` or `https://…`).
    pub fn new(base: &str) -> CoreResult<Self> {
        let base = base.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| CoreError::Invalid(format!("cloud address {base:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(CoreError::Invalid(format!(
                "cloud address {base:?}: use http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("doorstep-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CoreError::local("HTTP client", e))?;
        Ok(Self { http, base })
    }

    /// The address it talks to.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request without credentials.
    pub(crate) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> CoreResult<T> {
        let mut request = self
            .http
            .request(method, self.url(path))
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.finish(request).await
    }

    pub(crate) async fn finish<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> CoreResult<T> {
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        if status.is_success() {
            return serde_json::from_slice(if bytes.is_empty() { b"null" } else { &bytes })
                .map_err(|e| CoreError::Protocol(e.to_string()));
        }
        Err(api_error(status, &bytes))
    }

    pub(crate) fn unreachable(&self, error: &reqwest::Error) -> CoreError {
        // reqwest's message names the URL already; the inner cause is the useful part.
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            detail = inner.to_string();
            source = inner.source();
        }
        CoreError::Unreachable {
            url: self.base.clone(),
            detail,
        }
    }
}

pub(crate) fn api_error(status: StatusCode, bytes: &[u8]) -> CoreError {
    match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => CoreError::Api {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
        },
        Err(_) => CoreError::Api {
            status: status.as_u16(),
            code: if status.is_server_error() {
                Code::Internal
            } else {
                Code::InvalidRequest
            },
            message: format!("the cloud answered {status}"),
        },
    }
}

/// A signed-in device's connection: every call carries a fresh access token.
///
/// Refresh tokens work once and a second use signs the device out (the cloud reads
/// it as theft), so refreshing is single-flight within the process and serialised
/// across processes of the same app (the CLI's `watch` and a `block` typed in
/// another terminal share one sign-in) with a file lock, re-reading the keyring
/// inside it.
#[derive(Debug, Clone)]
pub struct Session {
    cloud: Cloud,
    store: SecretStore,
    tokens: Arc<Mutex<SessionTokens>>,
    lock_file: std::path::PathBuf,
}

impl Session {
    pub(crate) fn new(
        cloud: Cloud,
        store: SecretStore,
        tokens: SessionTokens,
        lock_file: std::path::PathBuf,
    ) -> Self {
        Self {
            cloud,
            store,
            tokens: Arc::new(Mutex::new(tokens)),
            lock_file,
        }
    }

    /// The cloud it talks to.
    pub fn cloud(&self) -> &Cloud {
        &self.cloud
    }

    pub(crate) fn save_tokens(store: &SecretStore, tokens: &SessionTokens) -> CoreResult<()> {
        let text = serde_json::to_string(tokens).map_err(|e| CoreError::local("session", e))?;
        store.set(SESSION_ENTRY, &SecretString::from(text))?;
        Ok(())
    }

    pub(crate) fn load_tokens(store: &SecretStore) -> CoreResult<Option<SessionTokens>> {
        let Some(text) = store.get(SESSION_ENTRY)? else {
            return Ok(None);
        };
        serde_json::from_str(text.expose_secret())
            .map(Some)
            .map_err(|_| CoreError::SignedOut {
                detail: "the stored session is unreadable".into(),
            })
    }

    /// A currently valid access token, refreshed first when it is about to expire.
    pub async fn access_token(&self) -> CoreResult<SecretString> {
        let mut tokens = self.tokens.lock().await;
        if tokens.access_expires_at - REFRESH_MARGIN_MS <= now_ms() {
            self.refresh_locked(&mut tokens, None).await?;
        }
        Ok(SecretString::from(tokens.access_token.clone()))
    }

    /// Forces a refresh unless another task already replaced `stale`.
    pub(crate) async fn refresh_after_rejection(&self, stale: &SecretString) -> CoreResult<()> {
        let mut tokens = self.tokens.lock().await;
        self.refresh_locked(&mut tokens, Some(stale)).await
    }

    async fn refresh_locked(
        &self,
        tokens: &mut SessionTokens,
        stale: Option<&SecretString>,
    ) -> CoreResult<()> {
        if let Some(stale) = stale
            && tokens.access_token != stale.expose_secret()
        {
            return Ok(());
        }
        let lock_file = self.lock_file.clone();
        let guard = tokio::task::spawn_blocking(move || lock_exclusive(&lock_file))
            .await
            .map_err(|e| CoreError::local("session lock", e))??;
        // Another process may have refreshed while we waited for the lock.
        if let Some(stored) = Self::load_tokens(&self.store)?
            && stored.refresh_token != tokens.refresh_token
        {
            *tokens = stored;
            if tokens.access_expires_at - REFRESH_MARGIN_MS > now_ms() {
                drop(guard);
                return Ok(());
            }
        }
        let result: CoreResult<SessionTokens> = self
            .cloud
            .call(
                Method::POST,
                "/v1/sessions/refresh",
                Some(&Refresh {
                    refresh_token: tokens.refresh_token.clone(),
                }),
            )
            .await;
        match result {
            Ok(fresh) => {
                Self::save_tokens(&self.store, &fresh)?;
                *tokens = fresh;
                drop(guard);
                Ok(())
            }
            Err(CoreError::Api {
                code: Code::Unauthenticated,
                message,
                ..
            }) => {
                drop(guard);
                Err(CoreError::SignedOut { detail: message })
            }
            Err(other) => Err(other),
        }
    }

    /// Sends an authenticated request; on a rejected access token, refreshes once
    /// and retries.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> CoreResult<T> {
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let mut request = self
                .cloud
                .http
                .request(method.clone(), self.cloud.url(path))
                .timeout(Duration::from_secs(30))
                .bearer_auth(token.expose_secret());
            if let Some(body) = body {
                request = request.json(body);
            }
            match self.cloud.finish(request).await {
                Err(CoreError::Api {
                    code: Code::Unauthenticated,
                    message,
                    ..
                }) => {
                    if retried {
                        return Err(CoreError::SignedOut { detail: message });
                    }
                    retried = true;
                    self.refresh_after_rejection(&token).await?;
                }
                other => return other,
            }
        }
    }

    /// GET shorthand.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> CoreResult<T> {
        self.call::<(), T>(Method::GET, path, None).await
    }

    /// Raw GET (bytes and headers), for video frames.
    pub(crate) async fn get_raw(&self, path: &str) -> CoreResult<reqwest::Response> {
        let mut retried = false;
        loop {
            let token = self.access_token().await?;
            let response = self
                .cloud
                .http
                .get(self.cloud.url(path))
                .timeout(Duration::from_secs(30))
                .bearer_auth(token.expose_secret())
                .send()
                .await
                .map_err(|e| self.cloud.unreachable(&e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| self.cloud.unreachable(&e))?;
            match api_error(status, &bytes) {
                CoreError::Api {
                    code: Code::Unauthenticated,
                    message,
                    ..
                } if !retried => {
                    let _ = message;
                    retried = true;
                    self.refresh_after_rejection(&token).await?;
                }
                CoreError::Api {
                    code: Code::Unauthenticated,
                    message,
                    ..
                } => return Err(CoreError::SignedOut { detail: message }),
                other => return Err(other),
            }
        }
    }
}

fn lock_exclusive(path: &std::path::Path) -> CoreResult<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| CoreError::local(path.display().to_string(), e))?;
    file.lock()
        .map_err(|e| CoreError::local(path.display().to_string(), e))?;
    Ok(file)
}

/// The wall clock, for what is judged against another party's wall clock: a token's
/// expiry the cloud stamped, a frame's capture time the camera stamped. The client's
/// own rules read [`crate::Client::now`].
pub(crate) fn now_ms() -> i64 {
    doorstep_proto::Clock::read(&doorstep_proto::SystemClock)
        .now
        .0
}
