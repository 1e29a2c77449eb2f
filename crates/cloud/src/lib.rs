//! The Doorstep cloud API server, as a library: [`start`] serves on a given
//! listener, so tests run it in-process on port 0; `main.rs` is a thin shell.
#![deny(missing_docs)]

mod access;
mod accounts;
mod addresses;
mod audit;
mod auth;
mod carriers;
/// How the cloud signs a carrier webhook's notice (receivers recompute it).
pub use carriers::signature as webhook_signature;
pub mod config;
pub mod db;
mod deliveries;
mod delivery_state;
pub mod error;
mod events;
mod guest_invitations;
mod guests;
mod household;
mod json;
mod limits;
mod lock_channel;
mod lock_reports;
mod locks;
mod openapi;
pub mod operator;
mod ops;
mod race;
mod schema_rules;
mod serve;
mod store;
pub use serve::ClientIp;
mod stream;
mod timers;
pub mod tls;
mod totp;
mod transitions;
mod validate;
mod video;
mod webhook_target;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use doorstep_proto::{Clock, SigningKey, SystemClock, Timestamp};
use tokio::sync::oneshot;

pub use config::Settings;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The shared parts.
pub struct Inner {
    /// The database.
    pub db: db::Db,
    /// Live event fan-out.
    pub hub: events::EventHub,
    /// Settings in force.
    pub settings: Settings,
    /// The cloud's signing key (grants).
    pub cloud_key: SigningKey,
    /// Makes up salts for unknown e-mails (derived from the signing key).
    pub decoy_secret: [u8; 32],
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Rate limits kept in memory.
    pub limits: limits::Limits,
    /// Live video relay and the recordings store.
    pub video: video::Video,
    /// Turns true when the server stops; long-lived streams end on it.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("backend", &self.db.backend)
            .field("cloud_key", &self.cloud_key.public_key())
            .finish()
    }
}

impl AppState {
    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.clock.read().now
    }

    /// Commits a change with the events it appended, then tells live subscribers:
    /// the one order in which an event is never seen for a change that was lost.
    pub async fn commit_and_publish(
        &self,
        tx: sqlx::Transaction<'_, sqlx::Any>,
        events: impl IntoIterator<Item = (String, events::Event)>,
    ) -> Result<(), sqlx::Error> {
        self.db.commit(tx).await?;
        self.hub.publish(events);
        Ok(())
    }
}

/// Runs a background task for every household, restarting it a second after a
/// panic: one bad row or bug must not stop the timers or webhooks of everyone.
fn supervise<F, Fut>(name: &'static str, state: AppState, task: F)
where
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let stopping = state.stopping.clone();
    restart_after_panics(
        name,
        stopping,
        std::time::Duration::from_secs(1),
        move || task(state.clone()),
    );
}

/// Runs what `start` makes until it returns or `stopping` turns true, starting
/// it again `pause` after each panic.
fn restart_after_panics<F, Fut>(
    name: &'static str,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    pause: std::time::Duration,
    start: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            match tokio::spawn(start()).await {
                Ok(()) => return,
                Err(error) => {
                    tracing::error!(task = name, %error, "background task failed; restarting it");
                    metrics::counter!("doorstep_task_restarts_total", "task" => name).increment(1);
                }
            }
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stopping.changed() => return,
            }
            if *stopping.borrow() {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_background_task_that_panics_is_started_again_until_it_finishes() {
        let (_stop, stopping) = tokio::sync::watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let task = super::restart_after_panics(
            "test",
            stopping,
            std::time::Duration::from_millis(1),
            move || {
                let run = counted.fetch_add(1, Ordering::SeqCst);
                async move {
                    // One bad row: the first two passes fall over.
                    assert!(run >= 2, "pass {run} panics");
                }
            },
        );
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_stopping_server_does_not_start_a_failed_task_again() {
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let task = super::restart_after_panics(
            "test",
            stopping,
            std::time::Duration::from_secs(60),
            move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async { panic!("always") }
            },
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        stop.send(true).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }
}

/// A running server.
#[derive(Debug)]
pub struct RunningCloud {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Its state (tests reach into the database through it).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    stopping: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// Held while serving (`take_data_folder`).
    _data_folder: std::fs::File,
}

/// How long requests in flight get to finish when the server stops.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl RunningCloud {
    /// The operator's interface to this cloud (carriers and their keys).
    pub fn operator(&self) -> operator::Operator<'_> {
        operator::Operator::new(&self.state.db)
    }

    /// `http://addr` or `https://addr`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, finishes requests in flight, and returns.
    pub async fn stop(mut self) {
        let _ = self.stopping.send(true);
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!("requests still running after the grace period; stopping anyway");
            self.task.abort();
        }
        self.state.db.pool.close().await;
    }
}

/// Loads the cloud's signing key: `DOORSTEP_CLOUD_SIGNING_KEY(_FILE)` (base64url
/// seed) if set, else `signing-key` in the data folder, created on first start.
fn load_signing_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if let Some(text) = config::secret_from_env("DOORSTEP_CLOUD_SIGNING_KEY")? {
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                anyhow::anyhow!("DOORSTEP_CLOUD_SIGNING_KEY must be 32 bytes of base64url")
            })?;
        return Ok(SigningKey::from_seed(&seed));
    }
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("signing-key");
    if path.exists() {
        let bytes = std::fs::read(&path)?;
        let seed: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| anyhow::anyhow!("{} is not a 32-byte key", path.display()))?;
        return Ok(SigningKey::from_seed(&seed));
    }
    let key = SigningKey::generate();
    write_private(&path, &key.to_seed())?;
    Ok(key)
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Serves the API on `listener` with the system clock.
pub async fn start(
    listener: tokio::net::TcpListener,
    settings: Settings,
) -> anyhow::Result<RunningCloud> {
    start_with_clock(listener, settings, Arc::new(SystemClock)).await
}

/// Serves the API on `listener`, reading time from `clock`.
pub async fn start_with_clock(
    listener: tokio::net::TcpListener,
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<RunningCloud> {
    settings.validate()?;
    // Certificate problems stop the start before anything else happens.
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let db = db::Db::open(settings.database_url.as_deref(), &settings.data_dir).await?;
    let data_folder = take_data_folder(&settings.data_dir)?;
    let cloud_key = load_signing_key(&settings.data_dir)?;
    let decoy_secret = {
        use sha2::Digest;
        sha2::Sha256::new()
            .chain_update(b"doorstep decoy salts")
            .chain_update(cloud_key.to_seed())
            .finalize()
            .into()
    };
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let recordings_dir = settings.data_dir.join("recordings");
    let state = AppState {
        inner: Arc::new(Inner {
            video: video::Video::new(Arc::new(video::FolderStore::new(recordings_dir)?)),
            stopping,
            limits: limits::Limits::new(&settings),
            db,
            hub: events::EventHub::default(),
            settings,
            cloud_key,
            decoy_secret,
            clock,
        }),
    };
    supervise("webhook outbox", state.clone(), carriers::run_outbox);
    supervise("delivery timers", state.clone(), timers::run);
    supervise(
        "rate limit sweeper",
        state.clone(),
        |state: AppState| async move {
            let mut stopping = state.stopping.clone();
            loop {
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(60)) => state.limits.forget_idle(),
                    _ = stopping.changed() => return,
                }
            }
        },
    );
    // Before serving: frames a crash left behind of a recording the household
    // deleted are not kept a moment longer than it takes to start.
    match video::remove_unlisted(&state).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed the frames of deleted recordings"),
        Err(e) => tracing::warn!(error = %e, "could not look for the frames of deleted recordings"),
    }
    let app = router(state.clone());
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let shutdown = async {
        let _ = shutdown_rx.await;
    };
    let task = match tls {
        Some(config) => {
            let listener = tls::TlsListener::new(listener, config)?;
            tokio::spawn(serve::http1(listener, app, shutdown))
        }
        None => tokio::spawn(serve::http1(listener, app, shutdown)),
    };
    tracing::info!(%addr, backend = ?state.db.backend, "doorstep-cloud listening");
    Ok(RunningCloud {
        addr,
        scheme,
        state,
        shutdown: Some(shutdown_tx),
        stopping: stopping_tx,
        task,
        _data_folder: data_folder,
    })
}

/// Takes the data folder for this process alone: a second cloud on it would
/// append to the same recordings, and each would tell its devices only its own
/// events. Released when the server stops.
fn take_data_folder(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", data_dir.display()))?;
    let path = data_dir.join("cloud.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another doorstep-cloud is already serving the data folder {}; stop it first (one folder, one cloud)",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            anyhow::bail!("cannot lock {}: {e}", path.display())
        }
    }
}

/// Every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/accounts", post(accounts::create))
        .route("/v1/accounts/kdf", get(accounts::kdf))
        .route("/v1/accounts/recovery", put(accounts::set_recovery))
        .route("/v1/accounts/recovery/open", post(accounts::open_recovery))
        .route(
            "/v1/accounts/recovery/reset",
            post(accounts::reset_password),
        )
        .route("/v1/sessions", post(accounts::sign_in))
        .route("/v1/sessions/refresh", post(accounts::refresh))
        .route("/v1/sessions/current", delete(accounts::sign_out))
        .route("/v1/sessions/current/confirm", post(accounts::confirm))
        .route("/v1/account/totp", post(totp::setup))
        .route("/v1/account/totp/confirm", post(totp::confirm))
        .route("/v1/devices", get(accounts::devices))
        .route("/v1/devices/{id}", delete(accounts::sign_out_other))
        .route("/v1/events", get(stream::list))
        .route("/v1/events/stream", get(stream::stream))
        .route("/v1/audit", get(audit::list))
        .route("/v1/addresses", get(addresses::list).post(addresses::add))
        .route("/v1/addresses/{id}", delete(addresses::remove))
        .route("/v1/locks", get(locks::list))
        .route("/v1/locks/pairing-codes", post(locks::new_pairing_code))
        .route("/v1/locks/pair", post(locks::pair))
        .route("/v1/carriers", get(carriers::list))
        .route("/v1/carrier/shipments", post(deliveries::announce))
        .route(
            "/v1/carrier/shipments/{tracking_id}",
            get(deliveries::shipment_status),
        )
        .route(
            "/v1/carrier/shipments/{tracking_id}/eta",
            post(deliveries::update_eta),
        )
        .route(
            "/v1/household",
            get(household::get).patch(household::update),
        )
        .route("/v1/lock/heartbeats", post(access::heartbeat))
        .route("/v1/lock/alive", post(access::alive))
        .route("/v1/lock/video", get(video::ingest))
        .route("/v1/locks/{id}/live", get(video::live))
        .route("/v1/recordings", get(video::list))
        .route("/v1/locks/{id}/snapshot", get(video::snapshot))
        .route("/v1/recordings/{id}", delete(video::delete))
        .route("/v1/recordings/{id}/frame", get(video::frame))
        .route("/v1/recordings/{id}/frames", get(video::frames))
        .route("/v1/lock/connect", get(lock_channel::connect))
        .route("/v1/lock/reports", post(lock_reports::report))
        .route(
            "/v1/courier/deliveries/{id}/access",
            post(access::request_access),
        )
        .route(
            "/v1/household/policy",
            get(household::get_policy).put(household::put_policy),
        )
        .route("/v1/guests", get(guests::list).post(guests::add))
        .route("/v1/guests/{id}/revoke", post(guests::revoke))
        .route(
            "/v1/guest-invitations",
            get(guest_invitations::list).post(guest_invitations::create),
        )
        .route(
            "/v1/guest-invitations/redeem",
            post(guest_invitations::redeem),
        )
        .route(
            "/v1/guest-invitations/{id}",
            delete(guest_invitations::cancel),
        )
        .route(
            "/v1/guest-invitations/{id}/complete",
            post(guest_invitations::complete),
        )
        .route("/v1/guest/{id}/access", post(guests::request_access))
        .route("/v1/deliveries", get(deliveries::list))
        .route("/v1/deliveries/{id}", get(deliveries::get))
        .route("/v1/deliveries/{id}/approve", post(deliveries::approve))
        .route("/v1/deliveries/{id}/block", post(deliveries::block))
        .route("/v1/deliveries/{id}/reroute", post(deliveries::reroute))
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn(ops::track))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
