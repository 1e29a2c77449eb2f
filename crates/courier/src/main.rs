//! `doorstep-courier`: the carrier's and the courier's (and a guest's) command line.
//!
//! Exit codes: 0 delivered / done, 1 error, 3 entry refused (leave the parcel at the
//! door or take it back), 4 blocked while inside (left), 5 rerouted (go to the address
//! printed).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use doorstep_courier::door::{Outcome, Visit, Visitor, read_answer};

#[derive(Debug, Parser)]
#[command(
    name = "doorstep-courier",
    version,
    about = "Carrier and courier client for Doorstep"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a courier (or guest) key; prints its public key.
    Keygen {
        /// Where to write the key (created, 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Carrier: announce a shipment for a household.
    Announce {
        #[arg(long)]
        cloud: String,
        /// The carrier's API key (or DOORSTEP_CARRIER_KEY).
        #[arg(long, env = "DOORSTEP_CARRIER_KEY", hide_env_values = true)]
        api_key: String,
        #[arg(long)]
        household: String,
        #[arg(long)]
        tracking: String,
        /// The assigned courier's key file.
        #[arg(long)]
        courier_key: PathBuf,
        /// The delivery window starts now and lasts this long.
        #[arg(long, default_value_t = 60)]
        window_minutes: i64,
        /// ETA in minutes from now.
        #[arg(long)]
        eta_minutes: Option<i64>,
        /// The carrier's shipment-signing key file (the `shipment_signing_key`
        /// `doorstep-cloud carrier-add` printed, or DOORSTEP_SHIPMENT_KEY_FILE):
        /// without it only a per-delivery approval lets the courier in.
        #[arg(long, env = "DOORSTEP_SHIPMENT_KEY_FILE", requires = "carrier")]
        shipment_key: Option<PathBuf>,
        /// The carrier's name, as registered (signed into the shipment).
        #[arg(long)]
        carrier: Option<String>,
    },
    /// Carrier: receive reroute notices; prints each verified notice as a JSON line.
    Webhook {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        /// The webhook secret `doorstep-cloud carrier-add` printed (or DOORSTEP_WEBHOOK_SECRET).
        #[arg(long, env = "DOORSTEP_WEBHOOK_SECRET", hide_env_values = true)]
        secret: String,
    },
    /// Courier: deliver inside.
    Deliver {
        #[arg(long)]
        cloud: String,
        #[arg(long, env = "DOORSTEP_CARRIER_KEY", hide_env_values = true)]
        api_key: String,
        /// The lock's control interface (stands in for its keypad and radio).
        #[arg(long)]
        lock: String,
        #[arg(long)]
        tracking: String,
        #[arg(long)]
        key: PathBuf,
        /// Seconds inside with the door open.
        #[arg(long, default_value_t = 2)]
        inside_secs: u64,
    },
    /// Guest: redeem the invitation code the household gave you. Makes your key
    /// (written to --key-out) and prints your guest id, for `visit`.
    Guest {
        #[arg(long)]
        cloud: String,
        /// The code, as the household gave it (ABCD-EFGH-…; case and dashes aside).
        #[arg(long)]
        code: String,
        /// Where to write your new key (created, 0600).
        #[arg(long)]
        key_out: PathBuf,
    },
    /// Guest: open the door with an invitation.
    Visit {
        #[arg(long)]
        cloud: String,
        #[arg(long)]
        lock: String,
        #[arg(long)]
        guest: String,
        #[arg(long)]
        key: PathBuf,
        #[arg(long, default_value_t = 2)]
        inside_secs: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            #[allow(clippy::print_stderr, reason = "the person must see why it stopped")]
            {
                eprintln!("doorstep-courier: {e:#}");
            }
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout, reason = "this is a command-line program")]
fn say(line: &str) {
    println!("{line}");
}

#[allow(clippy::print_stdout, reason = "this is a command-line program")]
async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    match cli.command {
        Command::Keygen { out } => {
            let key = doorstep_courier::new_key(&out)?;
            println!("{}", key.public_key());
            Ok(ExitCode::SUCCESS)
        }
        Command::Announce {
            cloud,
            api_key,
            household,
            tracking,
            courier_key,
            window_minutes,
            eta_minutes,
            shipment_key,
            carrier,
        } => {
            let key = doorstep_courier::read_key(&courier_key)?;
            let now = doorstep_proto::Clock::read(&doorstep_proto::SystemClock)
                .now
                .0;
            let window_end = window_minutes
                .checked_mul(60_000)
                .and_then(|ms| now.checked_add(ms))
                .ok_or_else(|| anyhow::anyhow!("--window-minutes is too large"))?;
            let shipment = match (&shipment_key, &carrier) {
                (Some(path), Some(carrier)) => Some(doorstep_courier::sign_shipment(
                    &doorstep_courier::ShipmentFacts {
                        carrier,
                        household_id: &household,
                        tracking_id: &tracking,
                        courier: key.public_key(),
                        not_before: now,
                        not_after: window_end,
                    },
                    &doorstep_courier::read_key(path)?,
                )),
                _ => None,
            };
            let response = http
                .post(format!("{cloud}/v1/carrier/shipments"))
                .bearer_auth(&api_key)
                .json(&doorstep_api::Announce {
                    tracking_id: tracking,
                    household_id: household,
                    window: doorstep_api::Window {
                        not_before: now,
                        not_after: window_end,
                    },
                    courier_key: key.public_key().to_base64(),
                    eta: eta_minutes.map(|m| now.saturating_add(m.saturating_mul(60_000))),
                    shipment,
                })
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach the cloud: {}", e.without_url()))?;
            let delivery: doorstep_api::Delivery = read_answer(response)
                .await
                .map_err(|reason| anyhow::anyhow!("announcement refused: {reason}"))?;
            println!(
                "{}",
                serde_json::to_string(&Announced {
                    delivery_id: delivery.id,
                    state: delivery.state,
                })?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Webhook { listen, secret } => {
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            println!("listening on http://{}/hook", listener.local_addr()?);
            let mut notices = doorstep_courier::webhook::serve(listener, secret);
            while let Some(notice) = notices.recv().await {
                println!(
                    "{}",
                    serde_json::to_string(&Notice {
                        idempotency_key: notice.key,
                        notice: notice.body,
                    })?
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Deliver {
            cloud,
            api_key,
            lock,
            tracking,
            key,
            inside_secs,
        } => {
            let key = doorstep_courier::read_key(&key)?;
            let response = http
                .get(format!("{cloud}/v1/carrier/shipments/{tracking}"))
                .bearer_auth(&api_key)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("cannot reach the cloud: {}", e.without_url()))?;
            let delivery_id = read_answer::<doorstep_api::ShipmentStatus>(response)
                .await
                .map_err(|reason| {
                    anyhow::anyhow!("shipment {tracking} is unknown to the cloud: {reason}")
                })?
                .delivery_id;
            let visit = Visit {
                cloud,
                lock,
                key: &key,
                visitor: Visitor::Courier {
                    delivery_id,
                    tracking_id: tracking,
                    carrier_key: api_key,
                },
                inside: Duration::from_secs(inside_secs),
                say: &say,
            };
            finish(visit.run().await?)
        }
        Command::Guest {
            cloud,
            code,
            key_out,
        } => {
            let redeemed = doorstep_courier::redeem_invitation(&cloud, &code, &key_out).await?;
            say(&format!(
                "Redeemed: you are invited as {}. The household's Doorstep confirms it in a moment.",
                redeemed.name
            ));
            say(&format!("Your key: {}", key_out.display()));
            say(&format!("Your guest id: {}", redeemed.guest_id));
            say(&format!(
                "At the door: doorstep-courier visit --cloud {cloud} --lock <the lock> --guest {} --key {}",
                redeemed.guest_id,
                key_out.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Visit {
            cloud,
            lock,
            guest,
            key,
            inside_secs,
        } => {
            let key = doorstep_courier::read_key(&key)?;
            let visit = Visit {
                cloud,
                lock,
                key: &key,
                visitor: Visitor::Guest { guest_id: guest },
                inside: Duration::from_secs(inside_secs),
                say: &say,
            };
            finish(visit.run().await?)
        }
    }
}

#[allow(clippy::print_stdout, reason = "this is a command-line program")]
fn finish(outcome: Outcome) -> anyhow::Result<ExitCode> {
    Ok(match outcome {
        Outcome::Delivered => {
            println!("Delivered inside.");
            ExitCode::SUCCESS
        }
        Outcome::NotLocked(reason) => {
            println!(
                "The parcel is inside but the door did NOT lock ({reason}): stay at the door and call the carrier."
            );
            ExitCode::from(6)
        }
        Outcome::Refused(reason) => {
            println!("Entry refused: {reason}");
            ExitCode::from(3)
        }
        Outcome::Blocked => {
            println!("Access was blocked by the household; left the premises.");
            ExitCode::from(4)
        }
        Outcome::Rerouted(to) => {
            println!("Rerouted by the household: take the parcel to {to}.");
            ExitCode::from(5)
        }
    })
}

/// What `announce` prints.
#[derive(serde::Serialize)]
struct Announced {
    delivery_id: String,
    state: doorstep_api::DeliveryState,
}

/// What `webhook` prints for each notice.
#[derive(serde::Serialize)]
struct Notice {
    idempotency_key: String,
    notice: doorstep_api::CarrierNotice,
}
