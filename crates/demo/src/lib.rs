//! The demo home, for trying Doorstep without hardware or an account anywhere.
//!
//! Everything is real and runs inside the app on loopback: the cloud (the
//! `doorstep-cloud` library on SQLite in the app's data folder), a lock with its
//! camera (the `doorstep-lock` agent, paired with a one-time code like a real one),
//! a carrier, and a courier who announces a parcel at once and then one every few
//! minutes, comes to the door, goes in, and obeys Block and Reroute. The household is
//! a normal account of that local cloud, signed in through the same client core as a
//! real one; its standing policy lets the demo carrier in, so the first delivery needs
//! no clicks to watch — Block and Reroute are there to try.
#![deny(missing_docs)]

use std::time::Duration;

use anyhow::Context;
use doorstep_core::{AppPaths, Client, Credentials, schedule_text};
use doorstep_courier::door::{Outcome, Visit, Visitor};
use doorstep_proto::{Clock, LockKind, SigningKey, SystemClock};
use rand_core::RngCore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The carrier the demo courier works for (shown in popups and on the home screen).
pub const DEMO_CARRIER: &str = "Demo Parcel Co.";

/// Keyring entry (in the app's namespace) holding the demo login's password.
pub const DEMO_PASSWORD_ENTRY: &str = "demo-password";

/// Keyring entry holding the demo carrier's shipment-signing key (base64url seed):
/// the demo carrier's own secret, which the household's policy pins the public half of.
pub const DEMO_SHIPMENT_KEY_ENTRY: &str = "demo-carrier-shipment-key";

/// How fast the demo moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// From the announcement to the courier at the door.
    pub arrival_after: Duration,
    /// How long the courier stays inside with the door open.
    pub inside: Duration,
    /// Between parcels.
    pub every: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Self {
            arrival_after: Duration::from_secs(20),
            inside: Duration::from_secs(25),
            every: Duration::from_secs(180),
        }
    }
}

impl Pace {
    /// `DOORSTEP_DEMO_PACE=arrival,inside,every` (seconds) overrides the default;
    /// tests use it to make a delivery take seconds.
    #[allow(
        clippy::disallowed_methods,
        reason = "the demo's one setting, read here"
    )]
    pub fn from_env() -> Self {
        let Ok(text) = std::env::var("DOORSTEP_DEMO_PACE") else {
            return Self::default();
        };
        let secs: Vec<u64> = text
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        match secs.as_slice() {
            [arrival, inside, every] => Self {
                arrival_after: Duration::from_secs(*arrival),
                inside: Duration::from_secs(*inside),
                every: Duration::from_secs((*every).max(1)),
            },
            _ => {
                tracing::warn!(%text, "DOORSTEP_DEMO_PACE must be three numbers of seconds: arrival,inside,every");
                Self::default()
            }
        }
    }
}

/// What the demo remembers between runs (nothing secret: the carrier key opens
/// nothing but the demo's own local cloud).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DemoState {
    port: u16,
    household_id: Option<String>,
    carrier_key: Option<String>,
    /// The lock's control interface of the current run (for tests and the curious).
    #[serde(default)]
    lock_control: Option<String>,
}

/// A running demo home.
#[derive(Debug)]
pub struct DemoHome {
    cloud: Option<doorstep_cloud::RunningCloud>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    courier: Option<Courier>,
    /// The local cloud's address.
    pub cloud_url: String,
    /// The simulated lock's control interface (its "buttons").
    pub lock_control: String,
}

impl DemoHome {
    /// Starts the demo home in `paths`' data folder (creating it the first time) and
    /// returns it with the household's client, signed in.
    pub async fn start(paths: &AppPaths, pace: Pace) -> anyhow::Result<(Self, Client)> {
        let dir = paths.data_dir().join("demo");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let state_file = DemoHomes::state_file(paths);
        let mut state: Option<DemoState> = std::fs::read(&state_file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        // The same port every run: the household's sign-in remembers the address.
        let listener = match &state {
            Some(s) => tokio::net::TcpListener::bind(("127.0.0.1", s.port))
                .await
                .with_context(|| {
                    format!(
                        "the demo cloud's port {} is taken; quit the other Doorstep",
                        s.port
                    )
                })?,
            None => tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        };
        let port = listener.local_addr()?.port();
        let settings = doorstep_cloud::Settings {
            data_dir: dir.join("cloud"),
            // The demo carrier's webhook runs on this machine, on loopback.
            webhooks_allow_private: true,
            ..doorstep_cloud::Settings::default()
        };
        let cloud = doorstep_cloud::start(listener, settings).await?;
        let cloud_url = format!("http://127.0.0.1:{port}");
        let mut demo = DemoState {
            port,
            household_id: None,
            carrier_key: None,
            lock_control: None,
        };
        if let Some(previous) = state.take() {
            demo.household_id = previous.household_id;
            demo.carrier_key = previous.carrier_key;
        }

        let client = match Client::restore(paths)? {
            Some(client)
                if Some(&client.account().household_id) == demo.household_id.as_ref()
                    && client.account().cloud == cloud_url =>
            {
                client
            }
            _ => {
                // A fresh demo household (also when the keyring lost the old one).
                let _ = std::fs::remove_dir_all(dir.join("lock"));
                let password = SecretString::from(random_hex(24));
                // The demo's password is kept for a second device; a recovery key
                // is for a household that lives longer than the demo.
                let (client, _recovery_key) = Client::create_account(
                    paths,
                    Credentials {
                        cloud: cloud_url.clone(),
                        email: format!("demo-{}@demo.doorstep.invalid", random_hex(6)),
                        password: password.clone(),
                        totp: None,
                        device_name: "This computer (demo)".into(),
                    },
                    "Europe/Berlin",
                )
                .await?;
                // So a second device can join the demo household (the login's e-mail
                // is in the account record).
                doorstep_core::secrets::SecretStore::new(paths.app_id())
                    .set(DEMO_PASSWORD_ENTRY, &password)?;
                demo.household_id = Some(client.account().household_id.clone());
                client
            }
        };

        let lock_dir = dir.join("lock");
        if !lock_dir.join("identity.json").exists() {
            let code = client.pairing_code("Front door", LockKind::Door).await?;
            doorstep_lock::identity::Paired::pair(&cloud_url, &code.code, &lock_dir, None).await?;
            client
                .add_address(
                    "Mrs Weber next door",
                    doorstep_api::AddressKind::Neighbour,
                    "Hauptstraße 2",
                )
                .await?;
            client
                .add_address(
                    "Kiosk am Markt",
                    doorstep_api::AddressKind::PickupPoint,
                    "Marktplatz 5",
                )
                .await?;
        }
        let agent = doorstep_lock::agent::Agent::open(
            &lock_dir,
            std::sync::Arc::new(doorstep_lock::clock::LockClock::open(&lock_dir)),
        )?;
        let control = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let lock_control = format!("http://{}", control.local_addr()?);
        demo.lock_control = Some(lock_control.clone());
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(e) = agent.run(control).await {
                tracing::error!(error = %e, "the demo lock stopped");
            }
        })];

        let carrier_key = match demo.carrier_key.clone() {
            Some(key) => key,
            None => {
                let carrier = cloud
                    .operator()
                    .add_carrier(DEMO_CARRIER, None, false, SystemClock.read().now.0)
                    .await?;
                demo.carrier_key = Some(carrier.api_key.clone());
                carrier.api_key
            }
        };
        let shipment_key = demo_shipment_key(paths, cloud.operator()).await?;
        tasks.push(carrier_webhook(cloud.operator(), &dir).await?);
        if client.policy().await?.is_none() {
            client
                .set_policy(
                    vec![DEMO_CARRIER.to_owned()],
                    Vec::new(),
                    schedule_text::weekly("daily", "00:00-24:00", "Europe/Berlin")?,
                    120,
                )
                .await?;
        }
        doorstep_core::client::write_json_atomically(&state_file, &demo)?;

        let courier = Courier {
            cloud: cloud_url.clone(),
            lock: lock_control.clone(),
            household_id: client.account().household_id.clone(),
            carrier_key,
            shipment_key,
            pace,
        };
        tracing::info!(%cloud_url, %lock_control, "demo home running");
        Ok((
            Self {
                cloud: Some(cloud),
                tasks,
                courier: Some(courier),
                cloud_url,
                lock_control,
            },
            client,
        ))
    }

    /// Sends the courier on its rounds: a parcel at once, then one every
    /// [`Pace::every`]. Call it once the household's feed is live, so the first
    /// announcement is news to it rather than history. Calling it again does nothing.
    pub fn start_courier(&mut self) {
        if let Some(courier) = self.courier.take() {
            self.tasks.push(tokio::spawn(courier.run()));
        }
    }

    /// Stops the courier, the lock's control interface and the cloud.
    pub async fn stop(mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        if let Some(cloud) = self.cloud.take() {
            cloud.stop().await;
        }
    }
}

/// The app's way to the demo home (`doorstep_core::session::DemoHomes`), at the
/// pace `DOORSTEP_DEMO_PACE` sets.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoHomes;

impl DemoHomes {
    fn state_file(paths: &AppPaths) -> std::path::PathBuf {
        paths.data_dir().join("demo").join("demo.json")
    }
}

impl doorstep_core::session::DemoHomes for DemoHomes {
    fn start<'a>(&'a self, paths: &'a AppPaths) -> doorstep_core::session::DemoStart<'a> {
        Box::pin(async move {
            let (demo, client) = DemoHome::start(paths, Pace::from_env())
                .await
                .map_err(|e| format!("{e:#}"))?;
            Ok((
                Box::new(demo) as Box<dyn doorstep_core::session::RunningDemo>,
                client,
            ))
        })
    }

    fn remembered(&self, paths: &AppPaths) -> bool {
        Self::state_file(paths).exists()
    }

    fn forget(&self, paths: &AppPaths) -> Result<(), doorstep_core::CoreError> {
        let _ = std::fs::remove_file(Self::state_file(paths));
        doorstep_core::secrets::SecretStore::new(paths.app_id()).delete(DEMO_PASSWORD_ENTRY)?;
        Ok(())
    }
}

impl doorstep_core::session::RunningDemo for DemoHome {
    fn start_courier(&mut self) {
        DemoHome::start_courier(self);
    }

    fn stop(self: Box<Self>) -> futures_util::future::BoxFuture<'static, ()> {
        Box::pin(DemoHome::stop(*self))
    }
}

/// The demo carrier's shipment-signing key: kept in the keyring, registered with
/// the cloud (again, harmlessly, on every start).
async fn demo_shipment_key(
    paths: &doorstep_core::AppPaths,
    operator: doorstep_cloud::operator::Operator<'_>,
) -> anyhow::Result<SigningKey> {
    use base64::Engine;
    use secrecy::ExposeSecret;
    let store = doorstep_core::secrets::SecretStore::new(paths.app_id());
    let stored = store.get(DEMO_SHIPMENT_KEY_ENTRY)?.and_then(|text| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.expose_secret())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
    });
    let key = match stored {
        Some(seed) => SigningKey::from_seed(&seed),
        None => {
            let key = SigningKey::generate();
            store.set(
                DEMO_SHIPMENT_KEY_ENTRY,
                &SecretString::from(
                    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_seed()),
                ),
            )?;
            key
        }
    };
    operator
        .add_carrier_key(DEMO_CARRIER, &key.public_key(), SystemClock.read().now.0)
        .await?;
    Ok(key)
}

/// Where the demo carrier writes down the reroute notices its webhook received, one
/// JSON object per line — what a real carrier's dispatch would act on.
pub const CARRIER_INBOX: &str = "carrier-inbox.jsonl";

/// The demo carrier's webhook: a real signed-notice receiver on loopback (the one
/// `doorstep-courier` runs), pointed at by the carrier's record on every start since
/// its port changes.
async fn carrier_webhook(
    operator: doorstep_cloud::operator::Operator<'_>,
    dir: &std::path::Path,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let secret = operator.set_carrier_webhook(DEMO_CARRIER, &url).await?;
    let mut notices = doorstep_courier::webhook::serve(listener, secret);
    let inbox = dir.join(CARRIER_INBOX);
    Ok(tokio::spawn(async move {
        while let Some(notice) = notices.recv().await {
            let doorstep_api::CarrierNotice::Rerouted {
                tracking_id,
                address,
                ..
            } = &notice.body;
            tracing::info!(
                carrier = DEMO_CARRIER,
                tracking_id,
                to = address.as_ref().map_or("?", |a| a.label.as_str()),
                "the carrier received a reroute"
            );
            let line = serde_json::json!({
                "received_at": SystemClock.read().now.0,
                "idempotency_key": notice.key,
                "notice": notice.body,
            });
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&inbox)
                .and_then(|mut file| {
                    use std::io::Write;
                    writeln!(file, "{line}")
                });
            if let Err(e) = written {
                tracing::warn!(error = %e, file = %inbox.display(), "the demo carrier could not note a reroute");
            }
        }
    }))
}

/// The demo courier: announces a parcel, comes to the door, goes in.
#[derive(Debug)]
struct Courier {
    cloud: String,
    lock: String,
    household_id: String,
    carrier_key: String,
    /// Signs each shipment, as a real carrier's dispatch would.
    shipment_key: SigningKey,
    pace: Pace,
}

impl Courier {
    async fn run(self) {
        let http = reqwest::Client::new();
        let mut parcel = 0u32;
        loop {
            parcel += 1;
            if let Err(e) = self.one_parcel(&http, parcel).await {
                tracing::warn!(error = %e, "demo parcel did not go through");
            }
            tokio::time::sleep(self.pace.every).await;
        }
    }

    async fn one_parcel(&self, http: &reqwest::Client, parcel: u32) -> anyhow::Result<()> {
        let key = SigningKey::generate();
        let tracking_id = format!("DEMO-{}-{parcel:03}", random_hex(3).to_uppercase());
        let now = SystemClock.read().now.0;
        let arrival = now + i64::try_from(self.pace.arrival_after.as_millis()).unwrap_or(0);
        let window = (now - 60_000, now + 90 * 60_000);
        let shipment = doorstep_courier::sign_shipment(
            &doorstep_courier::ShipmentFacts {
                carrier: DEMO_CARRIER,
                household_id: &self.household_id,
                tracking_id: &tracking_id,
                courier: key.public_key(),
                not_before: window.0,
                not_after: window.1,
            },
            &self.shipment_key,
        );
        let response = http
            .post(format!("{}/v1/carrier/shipments", self.cloud))
            .bearer_auth(&self.carrier_key)
            .json(&serde_json::json!({
                "tracking_id": tracking_id,
                "household_id": self.household_id,
                "window": { "not_before": window.0, "not_after": window.1 },
                "courier_key": key.public_key().to_base64(),
                "eta": arrival,
                "shipment": shipment,
            }))
            .send()
            .await?;
        let delivery: doorstep_api::Delivery = response.error_for_status()?.json().await?;
        tokio::time::sleep(self.pace.arrival_after).await;
        let say = |line: &str| tracing::info!(courier = %tracking_id, "{line}");
        let visit = Visit {
            cloud: self.cloud.clone(),
            lock: self.lock.clone(),
            key: &key,
            visitor: Visitor::Courier {
                delivery_id: delivery.id,
                tracking_id: tracking_id.clone(),
                carrier_key: self.carrier_key.clone(),
            },
            inside: self.pace.inside,
            say: &say,
        };
        match visit.run().await? {
            Outcome::Delivered => tracing::info!(%tracking_id, "demo parcel delivered"),
            other => {
                tracing::info!(%tracking_id, outcome = ?other, "demo parcel not delivered inside")
            }
        }
        Ok(())
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand_core::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}
