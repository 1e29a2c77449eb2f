//! The desktop UI's contract: every command it may call, declared once, and the
//! types that cross the boundary. `ui/src/lib/bindings.ts` is generated from this
//! file (`make bindings`); a test fails when the committed copy is stale.

use doorstep_api::{
    Address, AddressKind, AuditEntry, Delivery, DeliveryState, Device, DoorState, Event, Lock,
    Recording, Window,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, ErrorKind};

/// An error as the UI receives it: a closed code it can branch on and a sentence
/// for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    /// What kind of failure; the UI picks its reaction from this.
    pub code: ErrorCode,
    /// What went wrong and what to do, in a sentence (English).
    pub message: String,
    /// The errors a person meets most, for the page to word in its own language.
    pub worded: Option<Worded>,
}

/// Errors the page words itself, in its language, from these fields; `message`
/// beside it keeps the English sentence (logs, the CLI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum Worded {
    /// Wrong e-mail address or password.
    WrongPassword,
    /// The login has the second factor on; its code is needed.
    TotpRequired,
    /// The e-mail address, recovery key or code of a recovery is not right.
    RecoveryRefused,
    /// A typed recovery key has this many symbols, not 32.
    RecoveryKeyLength {
        /// How many it has.
        symbols: usize,
    },
    /// A typed recovery key has a character no key has.
    RecoveryKeySymbol {
        /// The character.
        symbol: String,
    },
    /// The household key did not open with this password.
    KeyNotOpened,
    /// The cloud cannot be reached.
    Unreachable {
        /// Where it was tried.
        url: String,
    },
    /// This computer has no sign-in.
    NotSignedIn,
    /// This computer was signed out.
    SignedOut,
}

impl Worded {
    fn of(error: &CoreError) -> Option<Self> {
        use crate::keys::{KeyError, RecoveryKeyError};
        Some(match error {
            CoreError::WrongPassword => Self::WrongPassword,
            CoreError::TotpRequired => Self::TotpRequired,
            CoreError::RecoveryRefused(_) => Self::RecoveryRefused,
            CoreError::RecoveryKey(RecoveryKeyError::Length(symbols)) => {
                Self::RecoveryKeyLength { symbols: *symbols }
            }
            CoreError::RecoveryKey(RecoveryKeyError::Symbol(symbol)) => Self::RecoveryKeySymbol {
                symbol: symbol.to_string(),
            },
            CoreError::Keys(KeyError::Unwrap) => Self::KeyNotOpened,
            CoreError::Unreachable { url, .. } => Self::Unreachable { url: url.clone() },
            CoreError::NotSignedIn => Self::NotSignedIn,
            CoreError::SignedOut { .. } => Self::SignedOut,
            _ => return None,
        })
    }
}

/// The failures the UI treats differently. Add one only when the UI branches on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an environment problem; show the message.
    Internal,
    /// Not signed in (any more): show the first screen.
    NeedsSignIn,
    /// Wrong e-mail, password or code: let the person retry.
    Credentials,
    /// A sensitive action: ask for the password (`confirm_password`), then retry.
    ReauthRequired,
    /// The cloud cannot be reached: the app is offline.
    Unreachable,
    /// What was typed or asked for is not acceptable; the message names it.
    Invalid,
}

impl From<CoreError> for IpcError {
    fn from(error: CoreError) -> Self {
        let code = match error.kind() {
            ErrorKind::NeedsSignIn => ErrorCode::NeedsSignIn,
            ErrorKind::Credentials => ErrorCode::Credentials,
            ErrorKind::ReauthRequired => ErrorCode::ReauthRequired,
            ErrorKind::Unreachable => ErrorCode::Unreachable,
            ErrorKind::Invalid | ErrorKind::NotFound | ErrorKind::Conflict => ErrorCode::Invalid,
            ErrorKind::Environment | ErrorKind::Internal => ErrorCode::Internal,
        };
        Self {
            code,
            worded: Worded::of(&error),
            message: error.to_string(),
        }
    }
}

/// The global the shell sets before the page loads: `true` when this computer has no
/// sign-in saved, so the page shows the welcome screen at once.
pub const SIGNED_OUT_AT_START: &str = "__doorstepSignedOutAtStart";

/// How the page came to its first screen, by its own clock (ms since its navigation
/// began): for the bench's breakdown of a start.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StartMarks {
    /// When the navigation began (ms since the epoch).
    pub time_origin: f64,
    /// The page's HTML had been read.
    pub html_ms: f64,
    /// The app's script began to run.
    pub script_ms: f64,
    /// The first screen was known: the shell had said who is signed in, or at once
    /// when it said before the page loaded that no sign-in is saved.
    pub session_ms: f64,
    /// Two frames after the first screen was in the DOM.
    pub painted_ms: f64,
}

/// Who is signed in on this device, as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Whether a household is signed in.
    pub signed_in: bool,
    /// Whether it is the demo home.
    pub demo: bool,
    /// The login.
    pub email: Option<String>,
    /// This device's name.
    pub device_name: Option<String>,
}

/// A household just made: who is signed in, and the recovery key to write down
/// (shown once; this computer keeps no copy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NewAccountView {
    /// Who is signed in.
    pub session: SessionInfo,
    /// The recovery key, in groups of four.
    pub recovery_key: String,
}

impl SessionInfo {
    /// Nobody is signed in.
    pub fn signed_out() -> Self {
        Self {
            signed_in: false,
            demo: false,
            email: None,
            device_name: None,
        }
    }
}

/// The connection to the cloud, for the status line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// `connecting`, `online`, `offline` or `signed_out`.
    pub state: String,
    /// Why, when not online.
    pub reason: Option<String>,
}

impl From<&crate::Connection> for ConnectionView {
    fn from(connection: &crate::Connection) -> Self {
        let (state, reason) = match connection {
            crate::Connection::Connecting => ("connecting", None),
            crate::Connection::Online => ("online", None),
            crate::Connection::Offline { reason } => ("offline", Some(reason.clone())),
            crate::Connection::SignedOut { reason } => ("signed_out", Some(reason.clone())),
        };
        Self {
            state: state.into(),
            reason,
        }
    }
}

/// The home screen.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HomeView {
    /// The household's locks.
    pub locks: Vec<Lock>,
    /// Deliveries, newest first (from the local cache when offline).
    pub deliveries: Vec<Delivery>,
    /// The connection.
    pub connection: ConnectionView,
}

/// One delivery's page.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    /// The delivery.
    pub delivery: Delivery,
    /// The lock whose camera shows the visit.
    pub lock_id: Option<String>,
    /// Its events, oldest first.
    pub timeline: Vec<Event>,
    /// Where it can be rerouted.
    pub addresses: Vec<Address>,
    /// The camera's recordings of its visit, newest first.
    pub recordings: Vec<Recording>,
}

/// What the shell pushes to the UI as the `feed` event.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedMessage {
    /// A household event, in order.
    Event {
        /// The event (boxed: it is much larger than the other variant).
        event: Box<Event>,
    },
    /// The connection changed.
    Connection {
        /// The new state.
        connection: ConnectionView,
    },
}

/// What a popup click asks the UI to show (the `intent` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Navigate {
    /// `delivery`, `live`, `clip` or `log`.
    pub page: String,
    /// The delivery, when the page is about one.
    pub delivery_id: Option<String>,
}

/// The scheme of the app's links (`doorstep://delivery/<id>`), which the desktop
/// hands to the app when one is opened.
pub const LINK_SCHEME: &str = "doorstep";

impl Navigate {
    /// The page a `doorstep://` link names: `doorstep://delivery/<id>`, `live/<id>`,
    /// `clip/<id>` or `log`. Anything else (another scheme, another page, an id that
    /// is not one) names none: a link comes from outside the app.
    pub fn from_link(link: &str) -> Option<Self> {
        let rest = link
            .strip_prefix(LINK_SCHEME)?
            .strip_prefix("://")?
            .trim_end_matches('/');
        let (page, id) = match rest.split_once('/') {
            Some((page, id)) => (page, Some(id)),
            None => (rest, None),
        };
        let id_is_one = |id: &str| {
            (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        match (page, id) {
            ("log", None) => Some(Self {
                page: "log".into(),
                delivery_id: None,
            }),
            ("delivery" | "live" | "clip", Some(id)) if id_is_one(id) => Some(Self {
                page: page.into(),
                delivery_id: Some(id.into()),
            }),
            _ => None,
        }
    }

    /// This page as a `doorstep://` link.
    pub fn link(&self) -> String {
        match &self.delivery_id {
            Some(id) => format!("{LINK_SCHEME}://{}/{id}", self.page),
            None => format!("{LINK_SCHEME}://{}", self.page),
        }
    }
}

impl From<&crate::alerts::Intent> for Navigate {
    fn from(intent: &crate::alerts::Intent) -> Self {
        use crate::alerts::Intent;
        let (page, id) = match intent {
            Intent::Open(id) | Intent::Approve(id) | Intent::Block(id) => ("delivery", Some(id)),
            Intent::WatchLive(id) => ("live", Some(id)),
            Intent::WatchClip(id) => ("clip", Some(id)),
            Intent::OpenLog => ("log", None),
        };
        Self {
            page: page.into(),
            delivery_id: id.cloned(),
        }
    }
}

/// One frame of a recording, ready for an `<img>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecordingFrame {
    /// The camera's frame number.
    pub seq: u64,
    /// When it was captured (ms).
    pub captured_at: i64,
    /// `data:image/jpeg;base64,…`.
    pub data_url: String,
}

impl From<&crate::video::Frame> for RecordingFrame {
    fn from(frame: &crate::video::Frame) -> Self {
        use base64::Engine;
        Self {
            seq: frame.seq,
            captured_at: frame.captured_at,
            data_url: format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&frame.jpeg)
            ),
        }
    }
}

/// The settings page.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SettingsView {
    /// Minutes before the ETA for "courier arriving".
    pub lead_time_minutes: i64,
    /// Alternate addresses.
    pub addresses: Vec<Address>,
    /// The home's time zone.
    pub time_zone: String,
}

/// The standing delivery policy as the settings page edits it (verified against the
/// household key before it is shown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// Its version (0 when there is none).
    pub version: u64,
    /// Carriers allowed, as announced.
    pub carriers: Vec<String>,
    /// Each pinned carrier key, as `DHL ABCD-EFGH-…` (its fingerprint), to compare
    /// with the one the carrier publishes.
    pub carrier_fingerprints: Vec<String>,
    /// Days, e.g. `mon-fri` style list: 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// `08:00-18:00`.
    pub hours: String,
    /// The longest entry window, minutes.
    pub max_window_minutes: u32,
    /// The zone its hours are read in, as signed (it stays when the home moves,
    /// until the rules are saved again); `None` without a policy.
    pub time_zone: Option<String>,
}

impl From<Option<&doorstep_proto::DeliveryPolicy>> for PolicyView {
    fn from(policy: Option<&doorstep_proto::DeliveryPolicy>) -> Self {
        match policy {
            Some(p) => Self {
                version: p.version,
                carriers: p.carrier_names(),
                carrier_fingerprints: p
                    .carriers
                    .iter()
                    .flat_map(|c| {
                        c.keys
                            .iter()
                            .map(|k| format!("{} {}", c.name, k.fingerprint()))
                    })
                    .collect(),
                days: p.hours.days.clone(),
                hours: format!(
                    "{:02}:{:02}-{:02}:{:02}",
                    p.hours.from_minute / 60,
                    p.hours.from_minute % 60,
                    p.hours.until_minute / 60,
                    p.hours.until_minute % 60
                ),
                max_window_minutes: p.max_window_minutes,
                time_zone: Some(p.hours.time_zone.clone()),
            },
            None => Self {
                version: 0,
                carriers: Vec::new(),
                carrier_fingerprints: Vec::new(),
                days: vec![1, 2, 3, 4, 5, 6],
                hours: "08:00-18:00".into(),
                max_window_minutes: 120,
                time_zone: None,
            },
        }
    }
}

/// A guest as the guests page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GuestView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When they may come.
    pub when: GuestWhen,
    /// Whether the household revoked them.
    pub revoked: bool,
}

/// When a guest may come, for the page to write in its language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GuestWhen {
    /// Every week on `days` (1 = Monday … 7 = Sunday) from `from` until `until`
    /// (`08:00`), in the household's time zone.
    Weekly {
        /// The weekdays.
        days: Vec<u8>,
        /// Start, `HH:MM`.
        from: String,
        /// End, `HH:MM`.
        until: String,
    },
    /// Once, from `from` until `until` (ms since the epoch), told in the household's
    /// `time_zone` (as they were chosen).
    Once {
        /// Start.
        from: i64,
        /// End (the minute it ends, not the window's last millisecond).
        until: i64,
        /// The household's time zone.
        time_zone: String,
    },
}

/// Whether a kind of popup is shown on this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PopupKindView {
    /// The kind.
    pub kind: crate::alerts::PopupKind,
    /// Shown.
    pub on: bool,
}

/// A pairing code for a new lock, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PairingView {
    /// The lock's name to be.
    pub name: String,
    /// The code to enter on the lock: the cloud's single-use code, then the
    /// household key's fingerprint.
    pub code: String,
    /// When it stops working (ms).
    pub expires_at: i64,
    /// The cloud the lock pairs with.
    pub cloud_url: String,
}

/// A guest invitation as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    /// The code's name (its first two groups).
    pub id: String,
    /// The code to give the guest.
    pub code: String,
    /// The guest's name.
    pub name: String,
    /// When they may come.
    pub when: GuestWhen,
    /// When an unredeemed code stops working (ms).
    pub expires_at: i64,
    /// Where it stands.
    pub state: crate::invitations::InvitationState,
    /// The cloud the guest redeems the code at.
    pub cloud_url: String,
}

impl InvitationView {
    /// The page's view of `invitation`, redeemed at `cloud_url`, one-time visits told
    /// in the household's `time_zone`.
    pub fn new(
        invitation: &crate::invitations::OpenInvitation,
        cloud_url: &str,
        time_zone: &str,
    ) -> Self {
        Self {
            id: invitation.id.clone(),
            code: invitation.code.clone(),
            name: invitation.name.clone(),
            when: GuestWhen::of(&invitation.schedule, time_zone),
            expires_at: invitation.expires_at,
            state: invitation.state,
            cloud_url: cloud_url.to_owned(),
        }
    }
}

impl GuestView {
    /// The page's view of `guest`, one-time visits told in the household's `time_zone`.
    pub fn new(guest: &doorstep_api::Guest, time_zone: &str) -> Self {
        Self {
            id: guest.id.clone(),
            name: guest.name.clone(),
            when: GuestWhen::of(&guest.schedule, time_zone),
            revoked: guest.revoked,
        }
    }
}

impl GuestWhen {
    /// The page's view of a schedule, one-time visits told in `time_zone`.
    pub fn of(schedule: &doorstep_proto::GuestSchedule, time_zone: &str) -> Self {
        let clock = |minute: u16| format!("{:02}:{:02}", minute / 60, minute % 60);
        match schedule {
            doorstep_proto::GuestSchedule::Weekly(hours) => GuestWhen::Weekly {
                days: hours.days.clone(),
                from: clock(hours.from_minute),
                until: clock(hours.until_minute),
            },
            doorstep_proto::GuestSchedule::Once(window) => GuestWhen::Once {
                from: window.not_before.0,
                until: window.not_after.plus_millis(1).0,
                time_zone: time_zone.to_owned(),
            },
        }
    }
}

/// The event carrying [`FeedMessage`]s.
pub const FEED_EVENT: &str = "feed";
/// The event carrying [`Navigate`] (a popup click).
pub const INTENT_EVENT: &str = "intent";

/// Events the shell emits to the UI: `(name, payload type)`; the UI's `events`
/// constant and `EventPayloads` type are generated from this list.
pub const EVENT_NAMES: &[(&str, &str)] = &[(FEED_EVENT, "FeedMessage"), (INTENT_EVENT, "Navigate")];

fn events_typescript() -> String {
    let names: Vec<String> = EVENT_NAMES
        .iter()
        .map(|(name, _)| format!("  {name}: \"{name}\","))
        .collect();
    let payloads: Vec<String> = EVENT_NAMES
        .iter()
        .map(|(name, payload)| format!("  {name}: {payload};"))
        .collect();
    format!(
        "/** The events the shell emits, by name. */\nexport const events = {{\n{}\n}} as const;\n\n\
         /** What each event carries. */\nexport type EventPayloads = {{\n{}\n}};\n\n\
         /** Set by the shell before the page loads: `true` when no sign-in is saved. */\n\
         export const SIGNED_OUT_AT_START = \"{SIGNED_OUT_AT_START}\";\n\n",
        names.join("\n"),
        payloads.join("\n")
    )
}

/// Every event kind and audit verb as a value (ts-rs exports only their types), so
/// the UI's tests can prove each has words in every language.
fn names_typescript() -> String {
    let list = |names: Vec<&str>| {
        names
            .iter()
            .map(|name| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "/** Every event kind. */\nexport const EVENT_KINDS: EventKind[] = [{}];\n\n\
         /** Every audit verb. */\nexport const AUDIT_VERBS: AuditVerb[] = [{}];\n\n",
        list(
            doorstep_api::EventKind::ALL
                .iter()
                .map(|k| k.as_str())
                .collect()
        ),
        list(
            doorstep_api::AuditVerb::ALL
                .iter()
                .map(|v| v.as_str())
                .collect()
        ),
    )
}

/// The one command that carries raw bytes, with a hand-written wrapper in the UI
/// (`ui/src/lib/live.ts`): `watch_live(lock_id, frames)` streams frame messages
/// (`seq u64 BE ‖ captured_at i64 BE ‖ JPEG`) to a Tauri channel; `stop_live()`
/// ends it. The shell builds the channel and calls [`HouseholdSession::watch_live`].
///
/// [`HouseholdSession::watch_live`]: crate::session::HouseholdSession::watch_live
pub const WATCH_LIVE: &str = "watch_live";

/// The other raw-bytes command: `play_recording(recording_id, from, frames)` streams a
/// recording's frame messages to a Tauri channel at the pace they were filmed, then
/// one empty message at its end; `stop_playback()` ends it. The shell builds the
/// channel and calls [`HouseholdSession::play_recording`].
///
/// [`HouseholdSession::play_recording`]: crate::session::HouseholdSession::play_recording
pub const PLAY_RECORDING: &str = "play_recording";

/// `play_recording`'s arguments; `Frames` is the shell's channel id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlayRecording<Frames> {
    /// The recording.
    pub recording_id: String,
    /// From the first frame captured at or after this (ms); the start when absent.
    #[serde(default)]
    pub from: Option<i64>,
    /// Where the frames go.
    pub frames: Frames,
}

/// `watch_live`'s arguments; `Frames` is the shell's channel id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchLive<Frames> {
    /// The lock whose camera to show.
    pub lock_id: String,
    /// Where the frames go.
    pub frames: Frames,
}

impl IpcError {
    /// An internal error carrying `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: message.into(),
            worded: None,
        }
    }

    /// What was asked for is not acceptable; `message` says what.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Invalid,
            message: message.into(),
            worded: None,
        }
    }
}

/// The outcome of one check of this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Probe {
    /// Whether the part works.
    pub ok: bool,
    /// What was found, or what is wrong and how to fix it (in English; the page
    /// words a working part in its own language from `found`).
    pub detail: String,
    /// The part that works, by name and version (e.g. the notification server).
    pub found: Option<String>,
}

/// What the first screen's "Check this computer" shows: whether the parts the app
/// relies on are here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SystemCheck {
    /// The app's version.
    pub app_version: String,
    /// The app identifier; also the keyring namespace.
    pub app_id: String,
    /// Where local data is kept.
    pub data_dir: String,
    /// The OS keyring, where sign-in tokens and keys go.
    pub secure_store: Probe,
    /// The desktop's notification service, which shows the popups.
    pub notifications: Probe,
}

/// Declares the UI's commands once. Each line names the command, its request (the
/// arguments, as a struct in [`request`]) and its answer; from that list come the
/// [`Command`] the shell parses an invoke into, [`HouseholdSession::call`] which runs
/// it (a method of the same name on [`HouseholdSession`], so a declared command
/// without a body, or a body of another shape, does not compile), and the
/// TypeScript `commands` object the UI calls. The wrappers send arguments by their
/// Rust (snake_case) names, which is what the request structs read.
///
/// [`HouseholdSession`]: crate::session::HouseholdSession
/// [`HouseholdSession::call`]: crate::session::HouseholdSession::call
macro_rules! ipc_commands {
    ($( $(#[doc = $doc:literal])* $name:ident => $request:ident { $($arg:ident : $arg_ty:ty),* $(,)? } -> $ret:ty; )*) => {
        /// The arguments of each command, as the UI sends them.
        pub mod request {
            $(
                #[doc = concat!("The arguments of `", stringify!($name), "`.")]
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(missing_docs, reason = "the fields are the command's documented arguments")]
                pub struct $request { $(pub $arg: $arg_ty),* }

                // The arguments may hold a password: only the name is shown.
                impl std::fmt::Debug for $request {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.debug_struct(stringify!($request)).finish_non_exhaustive()
                    }
                }
            )*
        }

        /// One call from the UI, parsed.
        #[allow(missing_docs, reason = "each variant is the command of its name")]
        pub enum Command {
            $($request(request::$request)),*
        }

        impl std::fmt::Debug for Command {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        /// The name of every command, as the UI invokes it.
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        impl Command {
            /// Parses an invoke of `name` with `args`; `None` when no such command is
            /// declared, an error naming the command when its arguments are not right.
            pub fn parse(name: &str, args: &serde_json::Value) -> Option<Result<Self, IpcError>> {
                match name {
                    $(stringify!($name) => Some(
                        <request::$request as serde::Deserialize>::deserialize(args)
                            .map(Self::$request)
                            .map_err(|e| IpcError::invalid(format!("{}: {e}", stringify!($name)))),
                    ),)*
                    _ => None,
                }
            }

            /// The command's name.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$request(_) => stringify!($name)),*
                }
            }
        }

        impl crate::session::HouseholdSession {
            /// Runs `command`; answers its result as JSON.
            pub async fn call(&self, command: Command) -> Result<String, IpcError> {
                match command {
                    $(Command::$request(request) => to_json(self.$name(request).await?)),*
                }
            }
        }

        /// TypeScript for the `commands` object the UI calls.
        pub fn commands_typescript(cfg: &ts_rs::Config) -> String {
            let mut out = String::from("export const commands = {\n");
            $(
                let docs: &[&str] = &[$($doc),*];
                if !docs.is_empty() {
                    out.push_str("  /**");
                    for line in docs { out.push_str("\n   *"); out.push_str(line); }
                    out.push_str("\n   */\n");
                }
                let params: Vec<String> = vec![$(format!("{}: {}", stringify!($arg), <$arg_ty as TS>::name(cfg))),*];
                let args: Vec<&str> = vec![$(stringify!($arg)),*];
                out.push_str(&format!(
                    "  {camel}: ({params}): Promise<{ret}> => invoke<{ret}>(\"{name}\"{args}),\n",
                    camel = snake_to_camel(stringify!($name)),
                    params = params.join(", "),
                    ret = <$ret as TS>::name(cfg),
                    name = stringify!($name),
                    args = if args.is_empty() { String::new() } else { format!(", {{ {} }}", args.join(", ")) },
                ));
            )*
            out.push_str("};\n");
            out
        }
    };
}

fn to_json(answer: impl Serialize) -> Result<String, IpcError> {
    serde_json::to_string(&answer)
        .map_err(|e| IpcError::internal(format!("the answer could not be written: {e}")))
}

ipc_commands! {
    /// Checks the keyring and the notification service this app needs.
    system_check => SystemCheck {} -> SystemCheck;
    /// Who is signed in on this device.
    session => Session {} -> SessionInfo;
    /// Starts the demo home (a local cloud, lock, camera and courier) and signs in to it.
    start_demo => StartDemo {} -> SessionInfo;
    /// Signs this device in to a household login.
    sign_in => SignIn { cloud: String, email: String, password: String, totp: Option<String> } -> SessionInfo;
    /// Creates a household login with this device as its first.
    /// `time_zone`: the home's IANA zone, as this computer's clock is set.
    create_account => CreateAccount { cloud: String, email: String, password: String, time_zone: String } -> NewAccountView;
    /// Sets a new password with the recovery key and signs this device in.
    recover_account => RecoverAccount { cloud: String, email: String, recovery_key: String, new_password: String, totp: Option<String> } -> SessionInfo;
    /// Makes a new recovery key (the one before stops working); needs a recent password.
    new_recovery_key => NewRecoveryKey {} -> String;
    /// Signs this device out.
    sign_out => SignOut {} -> ();
    /// The home screen: locks, deliveries, connection.
    home => Home {} -> HomeView;
    /// One delivery with its timeline and the addresses it can go to.
    delivery_view => DeliveryView { id: String } -> DeliveryView;
    /// Block access (signed with the household key).
    block => Block { id: String } -> Delivery;
    /// Reroute to an alternate address.
    reroute => Reroute { id: String, address_id: String } -> Delivery;
    /// Approve entry.
    approve => Approve { id: String } -> Delivery;
    /// Who did what, newest first; `prefix` filters by action (`delivery.`, `video.` …).
    activity => Activity { prefix: Option<String> } -> Vec<AuditEntry>;
    /// Recordings, newest first.
    recordings => Recordings {} -> Vec<Recording>;
    /// Seeks a recording: the first frame at or after `at` (ms).
    recording_frame => RecordingFrame { id: String, at: Option<i64> } -> RecordingFrame;
    /// Devices signed in to this login.
    devices => Devices {} -> Vec<Device>;
    /// Signs another device out.
    sign_out_device => SignOutDevice { id: String } -> ();
    /// Confirms the password (and code) for the sensitive actions of the next minutes.
    confirm_password => ConfirmPassword { password: String, totp: Option<String> } -> ();
    /// The settings page.
    settings => Settings {} -> SettingsView;
    /// Minutes before arrival for "courier arriving".
    set_lead_time => SetLeadTime { minutes: i64 } -> ();
    /// The home's time zone (IANA, e.g. `Europe/Berlin`): the wall clock the rules and guests' hours are read by.
    set_time_zone => SetTimeZone { time_zone: String } -> ();
    /// Adds an alternate address (a neighbour).
    add_address => AddAddress { label: String, address: String } -> Address;
    /// Removes an alternate address.
    remove_address => RemoveAddress { id: String } -> ();
    /// Shows a test popup.
    test_popup => TestPopup {} -> ();
    /// Whether the app starts when the person logs in (`null`: it cannot here).
    autostart => Autostart {} -> Option<bool>;
    /// Starts the app at login, or stops doing so (remembered as the person's choice).
    set_autostart => SetAutostart { enabled: bool } -> ();
    /// The standing delivery policy.
    policy => Policy {} -> PolicyView;
    /// The carriers a policy can let in (those the cloud knows), by name.
    carriers => Carriers {} -> Vec<String>;
    /// Signs and saves a new delivery policy (`days` like `mon-fri`, `hours` like `08:00-18:00`).
    set_policy => SetPolicy { carriers: Vec<String>, days: String, hours: String, max_window_minutes: u32 } -> PolicyView;
    /// The language popups are written in (`en` or `de`), from the page's setting.
    set_language => SetLanguage { language: String } -> ();
    /// Guests.
    guests => Guests {} -> Vec<GuestView>;
    /// Invites a guest by code: every week on `days` (`mon-fri`) during `hours`
    /// (`08:00-12:00`), or, when `once_on` names a day (`2026-12-24`), once: from
    /// that day at the start of `hours` until `until_day` (that same day when
    /// absent) at their end; wall times in the household's time zone. The code
    /// works for a week; the guest redeems it with `doorstep-courier guest`.
    invite_guest => InviteGuest { name: String, days: String, hours: String, once_on: Option<String>, until_day: Option<String> } -> InvitationView;
    /// Invitations not yet signed in as guests.
    guest_invitations => GuestInvitations {} -> Vec<InvitationView>;
    /// Withdraws an invitation; its code stops working.
    cancel_invitation => CancelInvitation { id: String } -> ();
    /// The lock's camera picture now (for a thumbnail); not found while it is not filming.
    snapshot => Snapshot { lock_id: String } -> RecordingFrame;
    /// Which kinds of popup this computer shows.
    popup_kinds => PopupKinds {} -> Vec<PopupKindView>;
    /// Turns a kind of popup on or off on this computer (remembered there).
    set_popup_kind => SetPopupKind { kind: crate::alerts::PopupKind, on: bool } -> ();
    /// A single-use code to pair a new lock (`kind`: `door` or `garage`).
    pairing_code => PairingCode { name: String, kind: String } -> PairingView;
    /// Revokes a guest.
    revoke_guest => RevokeGuest { id: String } -> ();
    /// Stops the live view `watch_live` started.
    stop_live => StopLive {} -> ();
    /// Stops the playback `play_recording` started.
    stop_playback => StopPlayback {} -> ();
    /// Deletes a recording for good.
    delete_recording => DeleteRecording { id: String } -> ();
    /// The page has drawn its first screen; the shell logs the time since it started
    /// and how the page got there (what the bench's cold-start measurement waits for).
    first_screen_shown => FirstScreenShown { marks: crate::ipc::StartMarks } -> ();
}

fn snake_to_camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The whole generated `bindings.ts`.
pub fn bindings_typescript() -> String {
    // Times are milliseconds since the epoch: exact in a JavaScript number.
    let cfg = ts_rs::Config::default().with_large_int("number");
    let decls = [
        ErrorCode::decl(&cfg),
        IpcError::decl(&cfg),
        Worded::decl(&cfg),
        Probe::decl(&cfg),
        SystemCheck::decl(&cfg),
        SessionInfo::decl(&cfg),
        NewAccountView::decl(&cfg),
        StartMarks::decl(&cfg),
        ConnectionView::decl(&cfg),
        HomeView::decl(&cfg),
        DeliveryView::decl(&cfg),
        FeedMessage::decl(&cfg),
        Navigate::decl(&cfg),
        Delivery::decl(&cfg),
        DeliveryState::decl(&cfg),
        DoorState::decl(&cfg),
        Window::decl(&cfg),
        Address::decl(&cfg),
        AddressKind::decl(&cfg),
        Lock::decl(&cfg),
        doorstep_api::BoltPosition::decl(&cfg),
        doorstep_api::DoorPosition::decl(&cfg),
        Event::decl(&cfg),
        doorstep_api::EventData::decl(&cfg),
        doorstep_api::EventKind::decl(&cfg),
        doorstep_api::DeliverySnapshot::decl(&cfg),
        doorstep_api::DeliveryStep::decl(&cfg),
        doorstep_api::DeliveryGranted::decl(&cfg),
        doorstep_api::DeliveryDoor::decl(&cfg),
        doorstep_api::CameraFeed::decl(&cfg),
        doorstep_api::LockPaired::decl(&cfg),
        doorstep_api::RelockUnconfirmed::decl(&cfg),
        doorstep_api::LockClockOff::decl(&cfg),
        doorstep_api::LockConnectivity::decl(&cfg),
        doorstep_api::LockReported::decl(&cfg),
        doorstep_api::UnexpectedEntry::decl(&cfg),
        doorstep_api::EventGap::decl(&cfg),
        doorstep_api::JournalConflict::decl(&cfg),
        doorstep_api::ReportKind::decl(&cfg),
        doorstep_api::Guest::decl(&cfg),
        doorstep_api::GuestRef::decl(&cfg),
        doorstep_api::GuestGranted::decl(&cfg),
        doorstep_api::GuestRedeemed::decl(&cfg),
        doorstep_api::GuestRefused::decl(&cfg),
        doorstep_api::GuestVisitStep::decl(&cfg),
        doorstep_api::GuestsTimeZoneDiffers::decl(&cfg),
        doorstep_api::GuestInZone::decl(&cfg),
        doorstep_api::DeviceSignedIn::decl(&cfg),
        doorstep_api::DeviceRef::decl(&cfg),
        doorstep_api::DeviceSignedOut::decl(&cfg),
        doorstep_api::AddressRemoved::decl(&cfg),
        doorstep_api::SettingsChanged::decl(&cfg),
        doorstep_api::PolicyChanged::decl(&cfg),
        doorstep_api::AuditAction::decl(&cfg),
        doorstep_api::AuditVerb::decl(&cfg),
        AuditEntry::decl(&cfg),
        Recording::decl(&cfg),
        Device::decl(&cfg),
        RecordingFrame::decl(&cfg),
        SettingsView::decl(&cfg),
        GuestView::decl(&cfg),
        GuestWhen::decl(&cfg),
        InvitationView::decl(&cfg),
        PairingView::decl(&cfg),
        PopupKindView::decl(&cfg),
        crate::alerts::PopupKind::decl(&cfg),
        crate::invitations::InvitationState::decl(&cfg),
        PolicyView::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from crates/core/src/ipc.rs by `make bindings`. Do not edit.\n\
         import { invoke } from \"@tauri-apps/api/core\";\n\n\
         export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;\n\n",
    );
    for decl in decls {
        out.push_str("export ");
        out.push_str(&decl);
        out.push_str("\n\n");
    }
    out.push_str(&names_typescript());
    out.push_str(&events_typescript());
    out.push_str(&commands_typescript(&cfg));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_names_a_page_and_nothing_else_does() {
        let to = Navigate::from_link("doorstep://delivery/0193-abc_D").unwrap();
        assert_eq!(to.page, "delivery");
        assert_eq!(to.delivery_id.as_deref(), Some("0193-abc_D"));
        assert_eq!(to.link(), "doorstep://delivery/0193-abc_D");
        assert_eq!(
            Navigate::from_link("doorstep://log/").unwrap().link(),
            "doorstep://log"
        );
        for stranger in [
            "",
            "doorstep:",
            "doorstep://",
            "https://delivery/d1",
            "doorstep://delivery",
            "doorstep://delivery/",
            "doorstep://delivery/../../etc",
            "doorstep://delivery/a b",
            "doorstep://settings/d1",
            "doorstep://log/d1",
            &format!("doorstep://clip/{}", "a".repeat(65)),
            "--no-sandbox",
        ] {
            assert_eq!(Navigate::from_link(stranger), None, "{stranger:?}");
        }
    }

    use super::*;
    use std::path::PathBuf;

    fn committed_path() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/bindings.ts")
    }

    #[test]
    #[allow(clippy::disallowed_methods, reason = "`make bindings` sets the switch")]
    fn committed_typescript_bindings_match_the_rust_types() {
        let generated = bindings_typescript();
        let path = committed_path();
        if std::env::var_os("DOORSTEP_UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is stale: run `make bindings` and commit the result",
            path.display()
        );
    }

    #[test]
    fn errors_serialize_as_code_and_message() {
        let json = serde_json::to_string(&IpcError::internal("boom")).unwrap();
        assert_eq!(
            json,
            r#"{"code":"internal","message":"boom","worded":null}"#
        );
        // The errors a person meets most carry what the page words them from, and
        // nothing of the network's own text.
        let unreachable = IpcError::from(CoreError::Unreachable {
            url: "http://127.0.0.1:1".into(),
            detail: "os error 111".into(),
        });
        assert_eq!(unreachable.code, ErrorCode::Unreachable);
        assert_eq!(
            serde_json::to_value(&unreachable.worded).unwrap(),
            serde_json::json!({ "what": "unreachable", "url": "http://127.0.0.1:1" })
        );
        let typed = crate::keys::RecoveryKey::parse("ABCD-EFG0").unwrap_err();
        let worded = IpcError::from(CoreError::from(typed)).worded.unwrap();
        assert_eq!(worded, Worded::RecoveryKeySymbol { symbol: "0".into() });
    }

    #[test]
    fn command_wrappers_use_camel_case_and_the_registered_name() {
        let ts = commands_typescript(&ts_rs::Config::default());
        assert!(
            ts.contains(
                r#"systemCheck: (): Promise<SystemCheck> => invoke<SystemCheck>("system_check")"#
            ),
            "{ts}"
        );
        assert_eq!(COMMAND_NAMES[0], "system_check");
    }

    #[test]
    fn every_declared_command_parses_by_its_name_and_nothing_else_does() {
        for name in COMMAND_NAMES {
            // With no arguments: a command that takes none parses, one that does
            // answers an error naming itself; neither is unknown.
            match Command::parse(name, &serde_json::json!({})) {
                Some(Ok(command)) => assert_eq!(command.name(), *name),
                Some(Err(e)) => {
                    assert_eq!(e.code, ErrorCode::Invalid);
                    assert!(
                        e.message.starts_with(&format!("{name}: missing field")),
                        "{e}"
                    );
                }
                None => panic!("{name} is declared but does not parse"),
            }
        }
        assert!(Command::parse("no_such_command", &serde_json::json!({})).is_none());
        assert!(
            Command::parse(WATCH_LIVE, &serde_json::json!({})).is_none()
                && Command::parse(PLAY_RECORDING, &serde_json::json!({})).is_none(),
            "the shell streams it"
        );
        let ts = commands_typescript(&ts_rs::Config::default());
        assert_eq!(ts.matches("=> invoke<").count(), COMMAND_NAMES.len());
    }

    #[test]
    fn arguments_are_read_by_their_snake_case_names_and_strangers_are_refused() {
        let args = serde_json::json!({
            "name": "Anna", "days": "mon", "hours": "08:00-09:00", "once_on": "2026-12-24"
        });
        let Some(Ok(Command::InviteGuest(guest))) = Command::parse("invite_guest", &args) else {
            panic!("invite_guest did not parse");
        };
        assert_eq!(guest.once_on.as_deref(), Some("2026-12-24"));
        // Tauri's camelCase default would send `onceOn`: refused, not read as None.
        let camel = serde_json::json!({
            "name": "Anna", "days": "mon", "hours": "08:00-09:00", "onceOn": "2026-12-24"
        });
        let Some(Err(e)) = Command::parse("invite_guest", &camel) else {
            panic!("a camelCase argument was accepted");
        };
        assert!(e.message.contains("onceOn"), "{e}");
        let Some(Err(e)) = Command::parse("block", &serde_json::json!({"id": 7})) else {
            panic!("a number for an id was accepted");
        };
        assert!(e.message.starts_with("block: invalid type"), "{e}");
    }
}
