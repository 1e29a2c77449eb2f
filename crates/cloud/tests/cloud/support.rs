//! A cloud per test and a small HTTP client for it.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use doorstep_cloud::{RunningCloud, Settings};
use doorstep_proto::{ManualClock, SigningKey, SystemClock, Timestamp};
use serde_json::{Value, json};

pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestCloud {
    pub cloud: Option<RunningCloud>,
    _data_dir: tempfile::TempDir,
    pub settings: Settings,
    pub http: reqwest::Client,
    pub clock: Option<Arc<ManualClock>>,
    postgres_db: Option<String>,
}

/// Creates a fresh PostgreSQL database, or `None` (with a message) when there is
/// no server to create it on.
pub async fn fresh_postgres_database() -> Option<String> {
    use sqlx::Connection;
    let mut admin = match tokio::time::timeout(
        Duration::from_secs(3),
        sqlx::PgConnection::connect(POSTGRES_ADMIN_URL),
    )
    .await
    {
        Ok(Ok(conn)) => conn,
        _ => {
            eprintln!(
                "SKIPPED: no PostgreSQL at {POSTGRES_ADMIN_URL}; this test runs on SQLite only here"
            );
            return None;
        }
    };
    let name = format!("doorstep_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    Some(name)
}

impl TestCloud {
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}, false).await
    }

    /// A cloud whose clock the test moves.
    pub async fn start_with_manual_clock(backend: Backend) -> Option<Self> {
        Self::start_with(backend, |_| {}, true).await
    }

    pub async fn start_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
        manual_clock: bool,
    ) -> Option<Self> {
        let data_dir = tempfile::tempdir().unwrap();
        let postgres_db = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(fresh_postgres_database().await?),
        };
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.path().to_path_buf(),
            database_url: postgres_db
                .as_ref()
                .map(|name| format!("postgres://postgres@127.0.0.1:5432/{name}")),
            // The tests' webhook receivers listen on loopback.
            webhooks_allow_private: true,
            ..Settings::default()
        };
        adjust(&mut settings);
        let clock = manual_clock.then(|| Arc::new(ManualClock::at(Timestamp::now())));
        let mut test = Self {
            cloud: None,
            _data_dir: data_dir,
            settings,
            http: reqwest::Client::new(),
            clock,
            postgres_db,
        };
        test.boot().await;
        Some(test)
    }

    async fn boot(&mut self) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let clock: Arc<dyn doorstep_proto::Clock> = match &self.clock {
            Some(clock) => clock.clone(),
            None => Arc::new(SystemClock),
        };
        self.cloud = Some(
            doorstep_cloud::start_with_clock(listener, self.settings.clone(), clock)
                .await
                .unwrap(),
        );
    }

    /// Stops the server and starts a new one on the same database.
    pub async fn restart(&mut self) {
        self.cloud.take().unwrap().stop().await;
        self.boot().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cloud.as_ref().unwrap().url())
    }

    pub fn state(&self) -> &doorstep_cloud::AppState {
        &self.cloud.as_ref().unwrap().state
    }

    pub async fn finish(mut self) {
        if let Some(cloud) = self.cloud.take() {
            cloud.stop().await;
        }
        if let Some(name) = self.postgres_db.take() {
            use sqlx::Connection;
            if let Ok(mut admin) = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await;
            }
        }
    }

    /// Sends a request; returns the status and the JSON body (Null when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::DELETE, path, Some(token), None)
            .await
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.state().db.pool)
            .await
            .unwrap()
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* async fn $name:ident($cloud:ident: $ty:ty) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn body($cloud: $ty) $body

            #[tokio::test]
            async fn sqlite() {
                body($crate::support::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                body($crate::support::Backend::Postgres).await
            }
        }
    };
}

/// A household member's credentials as a client would derive them.
pub struct Household {
    pub email: String,
    pub auth_key: String,
    pub household_key: SigningKey,
}

impl Household {
    pub fn new(email: &str) -> Self {
        Self {
            email: email.into(),
            auth_key: URL_SAFE_NO_PAD.encode([7u8; 32]),
            household_key: SigningKey::generate(),
        }
    }

    pub fn create_body(&self, device: &str) -> Value {
        json!({
            "email": self.email,
            "auth_key": self.auth_key,
            "kdf_salt": URL_SAFE_NO_PAD.encode([1u8; 16]),
            "household_public_key": self.household_key.public_key().to_base64(),
            "wrapped_household_key": URL_SAFE_NO_PAD.encode([9u8; 48]),
            "time_zone": "Europe/Berlin",
            "device": device_body(device),
        })
    }

    pub fn sign_in_body(&self, device: &str) -> Value {
        json!({ "email": self.email, "auth_key": self.auth_key, "device": device_body(device) })
    }
}

pub fn device_body(name: &str) -> Value {
    json!({ "name": name, "public_key": SigningKey::generate().public_key().to_base64() })
}

/// A signed-in device: ids and tokens.
#[derive(Debug, Clone)]
pub struct Device {
    pub household_id: String,
    pub device_id: String,
    pub access: String,
    pub refresh: String,
}

impl Device {
    pub fn from_response(body: &Value) -> Self {
        Self {
            household_id: body["household_id"].as_str().unwrap().into(),
            device_id: body["device_id"].as_str().unwrap().into(),
            access: body["session"]["access_token"].as_str().unwrap().into(),
            refresh: body["session"]["refresh_token"].as_str().unwrap().into(),
        }
    }
}

/// Creates a household with its first device, and signs in a second one.
pub async fn household_with_two_devices(
    cloud: &TestCloud,
    email: &str,
) -> (Household, Device, Device) {
    let household = Household::new(email);
    let (status, body) = cloud
        .post(
            "/v1/accounts",
            None,
            household.create_body("Kitchen laptop"),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let first = Device::from_response(&body);
    let (status, body) = cloud
        .post(
            "/v1/sessions",
            None,
            household.sign_in_body("Study desktop"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let second = Device::from_response(&body);
    (household, first, second)
}
