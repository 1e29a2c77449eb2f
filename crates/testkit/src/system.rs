//! The whole system as real processes on loopback: the cloud binary and lock
//! agents, started from cargo's target folder (`make test` builds them).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::app::target_dir;
use crate::process::Guarded;

/// Path of a workspace binary built with the same profile as the running program
/// (`target/debug` for the tests, `target/release` for the bench).
pub fn binary(name: &str) -> Result<PathBuf> {
    let path = profile_dir()?.join(name);
    if !path.is_file() {
        bail!(
            "{} is missing; `make test` builds it (or: cargo build -p {name})",
            path.display()
        );
    }
    Ok(path)
}

/// `target/<profile>` of the running program.
pub fn profile_dir() -> Result<PathBuf> {
    let target = target_dir()?;
    let exe = std::env::current_exe()?;
    exe.ancestors()
        .find(|dir| dir.parent() == Some(target.as_path()))
        .map(Path::to_path_buf)
        .with_context(|| format!("{} is not inside {}", exe.display(), target.display()))
}

/// Starts `command` and returns it with its first line of output.
fn spawn_with_first_line(name: &str, mut command: Command) -> Result<(Guarded, String)> {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .stdin(Stdio::null());
    let mut child = Guarded::spawn(name, command)?;
    let line = child.first_stdout_line(Duration::from_secs(30))?;
    Ok((child, line))
}

/// Settings for a load run from one address (the bench): every per-address and
/// per-household rate limit off.
pub const NO_RATE_LIMITS: &[(&str, &str)] = &[
    ("DOORSTEP_ACCOUNTS_PER_ADDRESS_PER_HOUR", "0"),
    ("DOORSTEP_PAIRINGS_PER_ADDRESS_PER_MINUTE", "0"),
    ("DOORSTEP_PAIRING_CODES_PER_HOUSEHOLD_PER_HOUR", "0"),
    ("DOORSTEP_ACCESS_REQUESTS_PER_ADDRESS_PER_MINUTE", "0"),
];

/// `doorstep-cloud serve` on SQLite in a temporary folder.
#[derive(Debug)]
pub struct CloudProcess {
    /// Base URL.
    pub url: String,
    /// Its data folder.
    pub data_dir: PathBuf,
    /// PostgreSQL instead of SQLite in `data_dir`, when set.
    pub database_url: Option<String>,
    process: Guarded,
}

impl CloudProcess {
    /// Starts the cloud in `data_dir` on a free port.
    pub fn start(data_dir: &Path) -> Result<Self> {
        Self::start_on(data_dir, "127.0.0.1:0")
    }

    /// Starts the cloud in `data_dir` listening on `listen` (a restart keeps its address).
    pub fn start_on(data_dir: &Path, listen: &str) -> Result<Self> {
        Self::start_with(data_dir, listen, &[])
    }

    /// Starts the cloud serving HTTPS with the given PEM certificate and key.
    pub fn start_tls(data_dir: &Path, cert: &Path, key: &Path) -> Result<Self> {
        let (cert, key) = (cert.display().to_string(), key.display().to_string());
        Self::start_with(
            data_dir,
            "127.0.0.1:0",
            &[("DOORSTEP_TLS_CERT", &cert), ("DOORSTEP_TLS_KEY", &key)],
        )
    }

    /// Starts the cloud on PostgreSQL at `database_url` (its signing key stays in `data_dir`).
    pub fn start_on_postgres(data_dir: &Path, database_url: &str) -> Result<Self> {
        Self::start_on_postgres_with(data_dir, database_url, &[])
    }

    /// [`CloudProcess::start_on_postgres`] with extra environment.
    pub fn start_on_postgres_with(
        data_dir: &Path,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let mut env = env.to_vec();
        env.push(("DOORSTEP_DATABASE_URL", database_url));
        let mut cloud = Self::start_with(data_dir, "127.0.0.1:0", &env)?;
        cloud.database_url = Some(database_url.to_owned());
        Ok(cloud)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Starts the cloud in `data_dir` on `listen` with extra environment (settings).
    pub fn start_with(data_dir: &Path, listen: &str, env: &[(&str, &str)]) -> Result<Self> {
        let mut command = Command::new(binary("doorstep-cloud")?);
        command
            .env_remove("DATABASE_URL")
            .env_remove("DOORSTEP_DATABASE_URL");
        command.envs(env.iter().copied());
        command
            .args(["serve", "--listen", listen, "--data-dir"])
            .arg(data_dir)
            .env("DOORSTEP_LOG", "warn")
            // The tests' webhook receivers listen on loopback.
            .env("DOORSTEP_WEBHOOKS_ALLOW_PRIVATE", "true");
        let (process, line) = spawn_with_first_line("doorstep-cloud", command)?;
        let url = line
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line from the cloud: {line}"))?
            .to_owned();
        Ok(Self {
            url,
            data_dir: data_dir.to_path_buf(),
            database_url: None,
            process,
        })
    }

    /// Stops the process (the data folder stays).
    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// SIGKILLs the process (the data folder stays).
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Starts the cloud binary on `data_dir` expecting it to refuse; returns
    /// its exit code and what it said, or fails if it served.
    pub fn start_expecting_refusal(data_dir: &Path, timeout: Duration) -> Result<(i32, String)> {
        let mut child = Command::new(binary("doorstep-cloud")?)
            .env_remove("DATABASE_URL")
            .env_remove("DOORSTEP_DATABASE_URL")
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("DOORSTEP_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait()? {
                let output = child.wait_with_output()?;
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
                return Ok((status.code().unwrap_or(-1), text));
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                bail!(
                    "the cloud kept running on {} for {timeout:?}",
                    data_dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Registers a carrier through the operator command; returns what it printed once.
    pub fn add_carrier(&self, name: &str, webhook: Option<&str>) -> Result<Carrier> {
        let mut command = Command::new(binary("doorstep-cloud")?);
        command
            .args(["carrier-add", name, "--data-dir"])
            .arg(&self.data_dir);
        if let Some(webhook) = webhook {
            command.args(["--webhook", webhook]);
        }
        command
            .env("DOORSTEP_LOG", "warn")
            .env("DOORSTEP_WEBHOOKS_ALLOW_PRIVATE", "true")
            .env_remove("DATABASE_URL")
            .env_remove("DOORSTEP_DATABASE_URL");
        if let Some(url) = &self.database_url {
            command.env("DOORSTEP_DATABASE_URL", url);
        }
        let output = command.output()?;
        if !output.status.success() {
            bail!(
                "carrier-add failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let field = |name: &str| {
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(name).map(str::to_owned))
                .with_context(|| format!("carrier-add printed no {name}"))
        };
        let seed = field("shipment_signing_key=")?;
        let seed: [u8; 32] = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            seed.trim(),
        )?
        .try_into()
        .map_err(|_| anyhow::anyhow!("carrier-add printed a shipment key that is not 32 bytes"))?;
        Ok(Carrier {
            name: name.to_owned(),
            api_key: field("api_key=")?,
            webhook_secret: field("webhook_secret=")?,
            shipment_key: doorstep_proto::SigningKey::from_seed(&seed),
        })
    }
}

/// A carrier as `doorstep-cloud carrier-add` registered it.
#[derive(Debug)]
pub struct Carrier {
    /// Its name.
    pub name: String,
    /// Its API key (`dck_…`).
    pub api_key: String,
    /// Its webhook HMAC key.
    pub webhook_secret: String,
    /// The key it signs shipments with.
    pub shipment_key: doorstep_proto::SigningKey,
}

impl Carrier {
    /// The signed `shipment` for an announcement.
    pub fn sign(
        &self,
        household_id: &str,
        tracking_id: &str,
        courier: &doorstep_proto::PublicKey,
        window: (i64, i64),
    ) -> String {
        doorstep_courier::sign_shipment(
            &doorstep_courier::ShipmentFacts {
                carrier: &self.name,
                household_id,
                tracking_id,
                courier: *courier,
                not_before: window.0,
                not_after: window.1,
            },
            &self.shipment_key,
        )
    }

    /// Writes the shipment-signing key as `doorstep-courier announce --shipment-key` reads it.
    pub fn write_shipment_key(&self, path: &std::path::Path) -> Result<()> {
        std::fs::write(path, self.shipment_key.to_seed())?;
        Ok(())
    }
}

/// A paired lock agent.
#[derive(Debug)]
pub struct LockProcess {
    /// Its control interface.
    pub control: String,
    /// Its folder.
    pub data_dir: PathBuf,
    process: Guarded,
}

impl LockProcess {
    /// Pairs a new lock with `code` and starts it.
    pub fn pair_and_run(cloud: &str, code: &str, data_dir: &Path) -> Result<Self> {
        Self::pair_and_run_trusting(cloud, code, data_dir, None)
    }

    /// Pairs a new lock that also trusts `ca_cert` for the cloud's HTTPS, and starts it.
    pub fn pair_and_run_trusting(
        cloud: &str,
        code: &str,
        data_dir: &Path,
        ca_cert: Option<&Path>,
    ) -> Result<Self> {
        let mut command = Command::new(binary("doorstep-lock")?);
        command
            .args(["pair", "--cloud", cloud, "--code", code, "--data-dir"])
            .arg(data_dir)
            .env("DOORSTEP_LOG", "warn");
        if let Some(ca) = ca_cert {
            command.arg("--ca-cert").arg(ca);
        }
        let output = command.output()?;
        if !output.status.success() {
            bail!(
                "doorstep-lock pair failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Self::run(data_dir)
    }

    /// Starts an already paired lock.
    pub fn run(data_dir: &Path) -> Result<Self> {
        Self::run_with_env(data_dir, &[])
    }

    /// Starts an already paired lock with extra environment (e.g. libfaketime's).
    pub fn run_with_env(data_dir: &Path, env: &[(&str, &str)]) -> Result<Self> {
        let mut command = Command::new(binary("doorstep-lock")?);
        command
            .args(["run", "--data-dir"])
            .arg(data_dir)
            .env("DOORSTEP_LOG", "warn")
            .envs(env.iter().copied());
        let (process, line) = spawn_with_first_line("doorstep-lock", command)?;
        let control = line
            .strip_prefix("control on ")
            .with_context(|| format!("unexpected first line from the lock: {line}"))?
            .to_owned();
        Ok(Self {
            control,
            data_dir: data_dir.to_path_buf(),
            process,
        })
    }

    /// Stops the agent (a power cut, as far as it knows: SIGTERM then SIGKILL).
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// libfaketime's preload library from Debian's `faketime` package, if installed.
pub fn libfaketime() -> Option<std::path::PathBuf> {
    [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
        "/usr/lib/faketime/libfaketime.so.1",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists())
}

/// A lock agent's own status (its control interface's `/status`), if it answers.
pub async fn lock_status(http: &reqwest::Client, control: &str) -> Option<serde_json::Value> {
    http.get(format!("{control}/status"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

/// Polls `check` every 20 ms for up to `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `doorstep-courier webhook`: the carrier's receiver, printing each verified notice.
#[derive(Debug)]
pub struct WebhookProcess {
    /// Where the cloud should POST.
    pub url: String,
    notices: std::sync::mpsc::Receiver<String>,
    _process: Guarded,
}

impl WebhookProcess {
    /// Starts a receiver on `port` that checks signatures with `secret`.
    pub fn start_on(port: u16, secret: &str) -> Result<Self> {
        let mut command = Command::new(binary("doorstep-courier")?);
        command
            .args(["webhook", "--listen", &format!("127.0.0.1:{port}")])
            .env("DOORSTEP_WEBHOOK_SECRET", secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .stdin(Stdio::null());
        let mut process = Guarded::spawn("doorstep-courier webhook", command)?;
        let stdout = process.take_stdout()?;
        let (tx, notices) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let first = notices
            .recv_timeout(Duration::from_secs(30))
            .context("the webhook receiver printed nothing")?;
        let url = first
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line from the webhook: {first}"))?
            .to_owned();
        Ok(Self {
            url,
            notices,
            _process: process,
        })
    }

    /// The next notice line, within `timeout`.
    pub fn next(&self, timeout: Duration) -> Result<String> {
        self.notices
            .recv_timeout(timeout)
            .context("no webhook notice arrived")
    }
}

/// Runs `doorstep-courier` with `args`; returns its exit code and output.
pub async fn courier(args: &[&str], carrier_key: Option<&str>) -> Result<(i32, String)> {
    let mut command = tokio::process::Command::new(binary("doorstep-courier")?);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    if let Some(key) = carrier_key {
        command.env("DOORSTEP_CARRIER_KEY", key);
    }
    let output = command.output().await?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.code().unwrap_or(-1), text))
}

/// A pairing code for a door lock called "Front door", made by a household
/// device: the cloud's status and answer.
#[allow(
    clippy::expect_used,
    reason = "a test helper fails its test by panicking"
)]
pub async fn pairing_code(
    http: &reqwest::Client,
    cloud: &str,
    access_token: &str,
) -> (u16, serde_json::Value) {
    let response = http
        .post(format!("{cloud}/v1/locks/pairing-codes"))
        .bearer_auth(access_token)
        .json(&serde_json::json!({ "name": "Front door", "kind": "door" }))
        .send()
        .await
        .expect("the cloud answers");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.expect("the cloud answers JSON"),
    )
}

/// Creates a household account with its first device; returns the cloud's answer.
#[allow(
    clippy::expect_used,
    reason = "a test helper fails its test by panicking"
)]
pub async fn create_account(
    http: &reqwest::Client,
    cloud: &str,
    email: &str,
    household_key: &doorstep_proto::SigningKey,
) -> serde_json::Value {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    http.post(format!("{cloud}/v1/accounts"))
        .json(&serde_json::json!({
            "email": email,
            "auth_key": b64(&[7; 32]),
            "kdf_salt": b64(&[1; 16]),
            "household_public_key": household_key.public_key().to_base64(),
            "wrapped_household_key": b64(&[9; 48]),
            "time_zone": "Europe/Berlin",
            "device": { "name": "Kitchen laptop", "public_key": doorstep_proto::SigningKey::generate().public_key().to_base64() },
        }))
        .send()
        .await
        .expect("the cloud answers")
        .json()
        .await
        .expect("the cloud answers JSON")
}

/// The pairing code as the household's device shows it: the cloud's code and the
/// household key's fingerprint.
#[allow(
    clippy::expect_used,
    reason = "a test helper fails its test by panicking"
)]
pub fn with_fingerprint(
    code: &serde_json::Value,
    household_key: &doorstep_proto::SigningKey,
) -> String {
    format!(
        "{}-{}",
        code["code"].as_str().expect("a pairing code"),
        household_key.public_key().fingerprint()
    )
}
