//! `doorstep`: the household's command line over `doorstep-core`.
//!
//! Exit codes (also in `doorstep --help`): 0 done · 1 failed (a bug or the cloud's
//! fault) · 2 wrong usage · 3 not signed in / signed out · 4 wrong password or code ·
//! 5 not found · 6 not possible now (conflict) · 7 invalid input · 8 cloud unreachable ·
//! 9 something on this computer (keyring, notifications, files).

mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_api::AddressKind;
use doorstep_core::alerts::Intent;
use doorstep_core::popup::{Notifier, Popup};
use doorstep_core::video::{LiveUpdate, LiveView};
use doorstep_core::{
    AppPaths, Client, Connection, CoreError, Credentials, ErrorKind, Feed, FeedOptions, FeedUpdate,
    schedule_text,
};
use doorstep_proto::{GuestSchedule, LockKind};
use secrecy::{ExposeSecret, SecretString};

use crate::output::Out;

const EXIT_CODES: &str = "Exit codes: 0 done, 1 failed, 2 wrong usage, 3 not signed in, \
4 wrong password or code, 5 not found, 6 not possible now, 7 invalid input, \
8 cloud unreachable, 9 a problem on this computer (keyring, notifications, files).";

#[derive(Debug, Parser)]
#[command(name = "doorstep", version, about = "Doorstep for the household: deliveries inside your home, under your control.", after_help = EXIT_CODES)]
struct Cli {
    /// Print JSON instead of sentences (one JSON value per line for `watch`).
    #[arg(long, global = true)]
    json: bool,
    /// Keyring namespace and folder name of this client's sign-in.
    #[arg(
        long,
        global = true,
        env = "DOORSTEP_APP_ID",
        default_value = "dev.doorstep.cli"
    )]
    app_id: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a household login; this computer becomes its first device.
    Signup {
        /// The cloud, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "DOORSTEP_CLOUD")]
        cloud: String,
        /// The household's shared login.
        #[arg(long)]
        email: String,
        /// The home's time zone (IANA, e.g. Europe/Berlin).
        #[arg(long, default_value = "Europe/Berlin")]
        time_zone: String,
        /// What to call this computer.
        #[arg(long)]
        device_name: Option<String>,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sign this computer in to the household's login.
    Login {
        #[command(flatten)]
        to: SignInTo,
        /// Read the password from the first line of standard input instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forgot the password: set a new one with the recovery key made at sign-up,
    /// and sign this computer in.
    Recover {
        #[command(flatten)]
        to: SignInTo,
        /// Read the recovery key, then the new password, from the first two lines
        /// of standard input instead of asking.
        #[arg(long)]
        stdin: bool,
    },
    /// Make a new recovery key to write down; the one before stops working.
    RecoveryKey,
    /// Sign this computer out (the other devices stay signed in).
    Logout,
    /// Who is signed in, the locks, and what is coming.
    Status,
    /// Every delivery, newest first.
    Deliveries,
    /// Print events as they happen, show popups, and approve what the household's policy admits.
    Watch {
        /// No desktop popups.
        #[arg(long)]
        no_popups: bool,
        /// Do not approve deliveries by the household's policy.
        #[arg(long)]
        no_auto_approve: bool,
    },
    /// Let the courier of a delivery in (signed with the household key).
    Approve {
        /// The delivery.
        delivery: String,
        /// Which lock (name or id), when the household has several.
        #[arg(long)]
        lock: Option<String>,
    },
    /// Block access: the lock refuses the courier, or relocks at once.
    Block {
        /// The delivery.
        delivery: String,
    },
    /// The `doorstep://` link that opens a delivery in the desktop app (to paste or
    /// hand to `xdg-open`).
    Open {
        /// The delivery.
        delivery: String,
        /// Open it in the app now (through `xdg-open`).
        #[arg(long)]
        launch: bool,
    },
    /// Send a delivery to an alternate address.
    Reroute {
        /// The delivery.
        delivery: String,
        /// The alternate address (label or id).
        #[arg(long)]
        to: String,
    },
    /// Guests who may let themselves in at set times.
    #[command(subcommand)]
    Guests(GuestsCommand),
    /// Alternate addresses for reroutes.
    #[command(subcommand)]
    Addresses(AddressesCommand),
    /// Computers signed in to this login.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// Locks of the household.
    #[command(subcommand)]
    Locks(LocksCommand),
    /// The standing delivery policy (signed with the household key).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// How many minutes before the courier's arrival "Courier arriving" pops up.
    LeadTime {
        /// 1–120 minutes.
        minutes: i64,
    },
    /// Who did what, from which device, newest first.
    Log {
        /// Only actions starting with this (e.g. `delivery.`, `video.`).
        #[arg(long)]
        filter: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Save the camera's current live frame as a JPEG.
    Snapshot {
        /// The lock whose camera to look through (name or id; the only one by default).
        #[arg(long)]
        lock: Option<String>,
        /// Where to save it.
        #[arg(long, short)]
        out: std::path::PathBuf,
        /// Give up after this many seconds without a frame.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
    },
    /// Recordings of visits.
    #[command(subcommand)]
    Recordings(RecordingsCommand),
    /// Show a test popup (check that notifications work).
    PopupTest,
}

/// When a guest may come, and where.
#[derive(Debug, clap::Args)]
struct GuestWhen {
    /// Weekly days, e.g. mon-fri (with --hours).
    #[arg(long, requires = "hours", conflicts_with_all = ["from", "until"])]
    days: Option<String>,
    /// Weekly hours, e.g. 08:00-12:00 (with --days).
    #[arg(long, requires = "days")]
    hours: Option<String>,
    /// One-time window start (RFC 3339, with --until).
    #[arg(long, requires = "until")]
    from: Option<String>,
    /// One-time window end (RFC 3339).
    #[arg(long, requires = "from")]
    until: Option<String>,
    /// Locks they may open (all by default).
    #[arg(long)]
    lock: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum GuestsCommand {
    /// List guests.
    List,
    /// Invite a guest: their public key (from `doorstep-courier keygen`) and when.
    Add {
        /// Their name, for the log.
        #[arg(long)]
        name: String,
        /// Their public key (base64url; it may start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        key: String,
        #[command(flatten)]
        when: GuestWhen,
    },
    /// Invite a guest by code: prints the code to give them, which they redeem with
    /// `doorstep-courier guest`; the household's devices then sign them in.
    Invite {
        /// Their name, for the log.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        when: GuestWhen,
    },
    /// Sign in the guests who redeemed their code (the app does it by itself).
    Admit,
    /// Revoke a guest at once (name or id).
    Revoke {
        /// The guest.
        guest: String,
    },
}

#[derive(Debug, Subcommand)]
enum AddressesCommand {
    /// List alternate addresses.
    List,
    /// Add one.
    Add {
        /// Short name, e.g. "Mrs Weber next door".
        #[arg(long)]
        label: String,
        /// neighbour, pickup-point, locker or other.
        #[arg(long, value_parser = parse_kind, default_value = "neighbour")]
        kind: AddressKind,
        /// The postal address.
        #[arg(long)]
        address: String,
    },
    /// Remove one (label or id).
    Remove {
        /// The address.
        address: String,
    },
}

#[derive(Debug, Subcommand)]
enum DevicesCommand {
    /// List the computers signed in to this login.
    List,
    /// Sign another computer out (a lost laptop).
    SignOut {
        /// Its id (from `doorstep devices list`).
        device: String,
    },
}

#[derive(Debug, Subcommand)]
enum LocksCommand {
    /// List locks.
    List,
    /// A one-time code to pair a new lock (`doorstep-lock pair --code …`).
    PairCode {
        /// What to call it.
        #[arg(long, default_value = "Front door")]
        name: String,
        /// door or garage.
        #[arg(long, default_value = "door", value_parser = ["door", "garage"])]
        kind: String,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Show the policy (verified against the household key).
    Show,
    /// Say yes in advance to deliveries that match.
    Set {
        /// Carriers allowed, as announced (repeat for several).
        #[arg(long = "carrier", required = true)]
        carriers: Vec<String>,
        /// Days, e.g. mon-fri.
        #[arg(long, default_value = "mon-sat")]
        days: String,
        /// Hours, e.g. 08:00-18:00.
        #[arg(long, default_value = "08:00-18:00")]
        hours: String,
        /// The longest entry window in minutes.
        #[arg(long, default_value_t = 120)]
        max_window: u32,
        /// Locks deliveries may use (all by default).
        #[arg(long)]
        lock: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RecordingsCommand {
    /// List recordings, newest first.
    List {
        /// Of one delivery.
        #[arg(long)]
        delivery: Option<String>,
    },
    /// Save one frame of a recording (seek with --at).
    Frame {
        /// The recording.
        recording: String,
        /// Time in the recording (RFC 3339 or ms since the epoch); the start by default.
        #[arg(long)]
        at: Option<String>,
        /// Where to save it.
        #[arg(long, short)]
        out: std::path::PathBuf,
    },
}

fn parse_kind(text: &str) -> Result<AddressKind, String> {
    match text {
        "neighbour" | "neighbor" => Ok(AddressKind::Neighbour),
        "pickup-point" | "pickup_point" => Ok(AddressKind::PickupPoint),
        "locker" => Ok(AddressKind::Locker),
        "other" => Ok(AddressKind::Other),
        _ => Err("use neighbour, pickup-point, locker or other".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOORSTEP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let out = Out::new(cli.json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            out.error(&CoreError::local("async runtime", e));
            return ExitCode::from(9);
        }
    };
    match runtime.block_on(run(cli, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::from(exit_code(&e))
        }
    }
}

fn exit_code(error: &CoreError) -> u8 {
    match error.kind() {
        ErrorKind::Internal => 1,
        ErrorKind::NeedsSignIn => 3,
        ErrorKind::Credentials | ErrorKind::ReauthRequired => 4,
        ErrorKind::NotFound => 5,
        ErrorKind::Conflict => 6,
        ErrorKind::Invalid => 7,
        ErrorKind::Unreachable => 8,
        ErrorKind::Environment => 9,
    }
}

/// What to call this computer in the household's device list: the name given, or
/// the computer's own.
fn this_computer(named: Option<String>) -> String {
    named.unwrap_or_else(|| doorstep_core::client::default_device_name("doorstep CLI"))
}

/// Which login to sign this computer in to, and as what.
#[derive(Debug, clap::Args)]
struct SignInTo {
    /// The cloud, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "DOORSTEP_CLOUD")]
    cloud: String,
    /// The household's shared login.
    #[arg(long)]
    email: String,
    /// The 6-digit code from the authenticator app, if the login has one.
    #[arg(long)]
    totp: Option<String>,
    /// What to call this computer.
    #[arg(long)]
    device_name: Option<String>,
}

async fn run(cli: Cli, out: &Out) -> Result<(), CoreError> {
    let paths = AppPaths::resolve(&cli.app_id).map_err(|e| CoreError::Invalid(e.to_string()))?;
    match cli.command {
        Command::Signup {
            cloud,
            email,
            time_zone,
            device_name,
            password_stdin,
        } => {
            let password = read_password(password_stdin, true)?;
            out.progress("Deriving keys from your password…");
            let (client, recovery_key) = Client::create_account(
                &paths,
                Credentials {
                    cloud,
                    email,
                    password,
                    totp: None,
                    device_name: this_computer(device_name),
                },
                &time_zone,
            )
            .await?;
            out.signed_up(client.account(), &recovery_key.to_text());
        }
        Command::Recover {
            to:
                SignInTo {
                    cloud,
                    email,
                    totp,
                    device_name,
                },
            stdin,
        } => {
            let recovery_key = read_secret(stdin, "Recovery key: ", None)?;
            let recovery_key =
                doorstep_core::keys::RecoveryKey::parse(recovery_key.expose_secret())?;
            let new_password = read_secret(stdin, "New password: ", Some("New password again: "))?;
            out.progress("Opening the household key with the recovery key…");
            let client = Client::recover(
                &paths,
                doorstep_core::Recovery {
                    cloud,
                    email,
                    recovery_key,
                    new_password,
                    totp,
                    device_name: this_computer(device_name),
                },
            )
            .await?;
            out.recovered(client.account());
        }
        Command::RecoveryKey => {
            let client = Client::restore_or_fail(&paths)?;
            let recovery_key =
                with_confirmation(&client, out, || client.new_recovery_key()).await?;
            out.recovery_key(&recovery_key.to_text(), false);
        }
        Command::Login {
            to:
                SignInTo {
                    cloud,
                    email,
                    totp,
                    device_name,
                },
            password_stdin,
        } => {
            let password = read_password(password_stdin, false)?;
            out.progress("Deriving keys from your password…");
            let client = Client::sign_in(
                &paths,
                Credentials {
                    cloud,
                    email,
                    password,
                    totp,
                    device_name: this_computer(device_name),
                },
            )
            .await?;
            out.signed_in(client.account(), false);
        }
        Command::Logout => {
            match Client::restore(&paths)? {
                Some(client) => client.sign_out().await?,
                None => {
                    let store = doorstep_core::secrets::SecretStore::new(paths.app_id());
                    doorstep_core::client::forget(&paths, &store)?;
                }
            }
            out.done("Signed out. Other devices of the household stay signed in.");
        }
        Command::Open { delivery, launch } => {
            let link = doorstep_core::ipc::Navigate {
                page: "delivery".into(),
                delivery_id: Some(delivery.clone()),
            }
            .link();
            if doorstep_core::ipc::Navigate::from_link(&link).is_none() {
                return Err(CoreError::Invalid(format!(
                    "{delivery:?} is not a delivery id (letters, digits, - and _, at most 64)"
                )));
            }
            if launch {
                let opened = std::process::Command::new("xdg-open")
                    .arg(&link)
                    .status()
                    .map_err(|e| CoreError::Invalid(format!("could not run xdg-open: {e}")))?;
                if !opened.success() {
                    return Err(CoreError::Invalid(format!(
                        "xdg-open could not open {link} ({opened}); is the Doorstep app installed?"
                    )));
                }
            }
            out.done(&link);
        }
        Command::Status => {
            let client = Client::restore_or_fail(&paths)?;
            let locks = client.locks().await?;
            let deliveries = client.deliveries().await?;
            out.status(client.account(), &locks, &deliveries);
        }
        Command::Deliveries => {
            let client = Client::restore_or_fail(&paths)?;
            out.deliveries(&client.deliveries().await?);
        }
        Command::Watch {
            no_popups,
            no_auto_approve,
        } => {
            let client = Client::restore_or_fail(&paths)?;
            watch(&client, out, !no_popups, !no_auto_approve).await?;
        }
        Command::Approve { delivery, lock } => {
            let client = Client::restore_or_fail(&paths)?;
            out.delivery_changed(&client.approve(&delivery, lock.as_deref()).await?);
        }
        Command::Block { delivery } => {
            let client = Client::restore_or_fail(&paths)?;
            out.delivery_changed(&client.block(&delivery).await?);
        }
        Command::Reroute { delivery, to } => {
            let client = Client::restore_or_fail(&paths)?;
            out.delivery_changed(&client.reroute(&delivery, &to).await?);
        }
        Command::Guests(command) => {
            let client = Client::restore_or_fail(&paths)?;
            match command {
                GuestsCommand::List => out.guests(&client.guests().await?),
                GuestsCommand::Add { name, key, when } => {
                    let lock = when.lock.clone();
                    let schedule = guest_schedule(&client, when).await?;
                    let guest = with_confirmation(&client, out, || {
                        client.add_guest(&name, &key, schedule.clone(), &lock)
                    })
                    .await?;
                    out.guests(std::slice::from_ref(&guest));
                }
                GuestsCommand::Invite { name, when } => {
                    let lock = when.lock.clone();
                    let schedule = guest_schedule(&client, when).await?;
                    let invitation = with_confirmation(&client, out, || {
                        client.invite_guest(&name, schedule.clone(), &lock)
                    })
                    .await?;
                    out.done(&format!(
                        "Give {} this code: {}\nIt works once, for a week. They redeem it with:\n  doorstep-courier guest --cloud {} --code {} --key-out guest.key",
                        invitation.name,
                        invitation.code,
                        client.session().cloud().base(),
                        invitation.code
                    ));
                }
                GuestsCommand::Admit => {
                    let added = client.complete_redeemed().await?;
                    out.guests(&added);
                }
                GuestsCommand::Revoke { guest } => {
                    client.revoke_guest(&guest).await?;
                    out.done("Revoked: the locks refuse this guest from now on.");
                }
            }
        }
        Command::Addresses(command) => {
            let client = Client::restore_or_fail(&paths)?;
            match command {
                AddressesCommand::List => out.addresses(&client.addresses().await?),
                AddressesCommand::Add {
                    label,
                    kind,
                    address,
                } => {
                    let added = client.add_address(&label, kind, &address).await?;
                    out.addresses(std::slice::from_ref(&added));
                }
                AddressesCommand::Remove { address } => {
                    client.remove_address(&address).await?;
                    out.done("Removed.");
                }
            }
        }
        Command::Devices(command) => {
            let client = Client::restore_or_fail(&paths)?;
            match command {
                DevicesCommand::List => out.devices(&client.devices().await?),
                DevicesCommand::SignOut { device } => {
                    with_confirmation(&client, out, || client.sign_out_device(&device)).await?;
                    out.done("That device is signed out; this one stays signed in.");
                }
            }
        }
        Command::Locks(command) => {
            let client = Client::restore_or_fail(&paths)?;
            match command {
                LocksCommand::List => out.locks(&client.locks().await?),
                LocksCommand::PairCode { name, kind } => {
                    let kind = if kind == "garage" {
                        LockKind::Garage
                    } else {
                        LockKind::Door
                    };
                    let code = with_confirmation(&client, out, || client.pairing_code(&name, kind))
                        .await?;
                    out.pairing_code(&code);
                }
            }
        }
        Command::Policy(command) => {
            let client = Client::restore_or_fail(&paths)?;
            match command {
                PolicyCommand::Show => out.policy(client.policy().await?.as_ref()),
                PolicyCommand::Set {
                    carriers,
                    days,
                    hours,
                    max_window,
                    lock,
                } => {
                    let zone = client.household_settings().await?.time_zone;
                    let hours = schedule_text::weekly(&days, &hours, &zone)?;
                    let policy = with_confirmation(&client, out, || {
                        client.set_policy(carriers.clone(), lock.clone(), hours.clone(), max_window)
                    })
                    .await?;
                    out.policy(Some(&policy));
                }
            }
        }
        Command::LeadTime { minutes } => {
            let client = Client::restore_or_fail(&paths)?;
            let household = client.set_lead_time(minutes).await?;
            out.done(&format!(
                "\"Courier arriving\" now pops up {} min before the courier's arrival.",
                household.lead_time_minutes
            ));
        }
        Command::Log { filter, limit } => {
            let client = Client::restore_or_fail(&paths)?;
            out.log(&client.audit(filter.as_deref(), limit).await?);
        }
        Command::Snapshot {
            lock,
            out: file,
            timeout,
        } => {
            let client = Client::restore_or_fail(&paths)?;
            let lock = client.choose_lock(lock.as_deref()).await?.0;
            out.progress("Waiting for a live frame…");
            let frame = snapshot(&client, &lock, std::time::Duration::from_secs(timeout)).await?;
            frame.save(&file)?;
            out.frame_saved(&file, frame.seq, frame.captured_at);
        }
        Command::Recordings(command) => {
            let client = Client::restore_or_fail(&paths)?;
            match command {
                RecordingsCommand::List { delivery } => {
                    out.recordings(&client.recordings(delivery.as_deref()).await?);
                }
                RecordingsCommand::Frame {
                    recording,
                    at,
                    out: file,
                } => {
                    let at = match at {
                        None => None,
                        Some(text) => Some(match text.parse::<i64>() {
                            Ok(ms) => ms,
                            Err(_) => schedule_text::parse_instant(&text)?.0,
                        }),
                    };
                    let frame = client.recording_frame(&recording, at).await?;
                    frame.save(&file)?;
                    out.frame_saved(&file, frame.seq, frame.captured_at);
                }
            }
        }
        Command::PopupTest => {
            Notifier::new("Doorstep")
                .show(&Popup::new(
                    "Doorstep test popup",
                    "Popups work: you will see one when a courier is on the way or at the door.",
                ))
                .map_err(|e| CoreError::local("notifications", e))?;
            out.done("A test popup was sent to the desktop's notification service.");
        }
    }
    Ok(())
}

#[allow(
    clippy::disallowed_methods,
    reason = "popups speak the terminal's locale (LC_ALL, LANG), read only here"
)]
async fn watch(
    client: &Client,
    out: &Out,
    popups: bool,
    auto_approve: bool,
) -> Result<(), CoreError> {
    let options = FeedOptions {
        popups: popups.then(|| Notifier::new("Doorstep")),
        auto_approve,
        language: {
            let language = doorstep_core::alerts::SharedLanguage::default();
            let tag = std::env::var("LC_ALL")
                .or_else(|_| std::env::var("LANG"))
                .unwrap_or_default();
            language.set(doorstep_core::alerts::Language::from_tag(&tag));
            language
        },
        muted: Default::default(),
    };
    out.progress("Syncing with the cloud…");
    let mut feed = Feed::start(client, options);
    let mut updates = feed.subscribe();
    let mut intents = feed
        .take_intents()
        .ok_or_else(|| CoreError::local("watch", "intents already taken"))?;
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                Ok(FeedUpdate::Event(event)) => out.event(&event),
                Ok(FeedUpdate::Connection(state)) => {
                    out.connection(&state);
                    if let Connection::SignedOut { reason } = state {
                        return Err(CoreError::SignedOut { detail: reason });
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "the terminal fell behind; see `doorstep log`");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            },
            Some(intent) = intents.recv() => {
                // A popup button was clicked.
                let result = match &intent {
                    Intent::Block(id) => client.block(id).await.map(|d| out.delivery_changed(&d)),
                    Intent::Approve(id) => client.approve(id, None).await.map(|d| out.delivery_changed(&d)),
                    other => {
                        out.intent(other);
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    out.error(&e);
                }
            }
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

async fn snapshot(
    client: &Client,
    lock: &str,
    timeout: std::time::Duration,
) -> Result<doorstep_core::video::Frame, CoreError> {
    let mut view = LiveView::open(client, lock).await?;
    let deadline = tokio::time::Instant::now() + timeout;
    // The first frame may be the relay's cached newest; "the current picture"
    // is one that arrived while we were watching, so the first is skipped.
    let mut first = true;
    loop {
        let next = tokio::time::timeout_at(deadline, view.next()).await;
        match next {
            Ok(Ok(Some(LiveUpdate::Frame { frame, .. }))) if !first => return Ok(frame),
            Ok(Ok(Some(LiveUpdate::Frame { .. }))) => first = false,
            Ok(Ok(Some(LiveUpdate::Stale { .. }))) => first = false,
            Ok(Ok(None)) | Err(_) => {
                return Err(CoreError::Invalid(
                    "the camera sent no live frame; it streams only during an entry".into(),
                ));
            }
            Ok(Err(e)) => return Err(e),
        }
    }
}

/// Runs a sensitive action; if the cloud wants the password confirmed first (it
/// was entered here more than five minutes ago), asks for it once and retries.
async fn with_confirmation<T, Fut>(
    client: &Client,
    out: &Out,
    mut action: impl FnMut() -> Fut,
) -> Result<T, CoreError>
where
    Fut: std::future::Future<Output = Result<T, CoreError>>,
{
    match action().await {
        Err(e) if e.kind() == ErrorKind::ReauthRequired => {
            out.progress("This needs your password again.");
            let password = read_password(false, false)?;
            match client.confirm_password(&password, None).await {
                Err(CoreError::TotpRequired) => {
                    let code = rpassword::prompt_password("Code from your authenticator app: ")
                        .map_err(|e| CoreError::local("terminal", e))?;
                    client
                        .confirm_password(&password, Some(code.trim()))
                        .await?;
                }
                other => other?,
            }
            action().await
        }
        other => other,
    }
}

fn read_password(from_stdin: bool, new: bool) -> Result<SecretString, CoreError> {
    read_secret(from_stdin, "Password: ", new.then_some("Password again: "))
}

/// A secret from the next line of standard input, or asked for without echo (twice,
/// with `again`, when it is being chosen).
fn read_secret(
    from_stdin: bool,
    prompt: &str,
    again: Option<&str>,
) -> Result<SecretString, CoreError> {
    let secret = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| CoreError::local("standard input", e))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first =
            rpassword::prompt_password(prompt).map_err(|e| CoreError::local("terminal", e))?;
        if let Some(again) = again {
            let second =
                rpassword::prompt_password(again).map_err(|e| CoreError::local("terminal", e))?;
            if second != first {
                return Err(CoreError::Invalid(format!(
                    "the two entries differ ({})",
                    prompt.trim_end_matches([':', ' '])
                )));
            }
        }
        first
    };
    if secret.is_empty() {
        return Err(CoreError::Invalid(format!(
            "nothing given for {}",
            prompt.trim_end_matches([':', ' '])
        )));
    }
    Ok(SecretString::from(secret))
}

/// A guest's schedule from the command line: weekly days and hours, or a one-time
/// window.
async fn guest_schedule(client: &Client, when: GuestWhen) -> Result<GuestSchedule, CoreError> {
    match (when.days, when.hours, when.from, when.until) {
        (Some(days), Some(hours), None, None) => {
            let zone = client.household_settings().await?.time_zone;
            Ok(GuestSchedule::Weekly(schedule_text::weekly(
                &days, &hours, &zone,
            )?))
        }
        (None, None, Some(from), Some(until)) => {
            Ok(GuestSchedule::Once(schedule_text::once(&from, &until)?))
        }
        _ => Err(CoreError::Invalid(
            "say when: --days and --hours (weekly) or --from and --until (once)".into(),
        )),
    }
}
