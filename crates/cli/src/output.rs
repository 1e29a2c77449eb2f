//! What the CLI prints: sentences and tables for people, JSON with `--json`.
//! Results go to standard output; progress and errors to standard error.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command line prints"
)]

use std::io::IsTerminal;

use doorstep_api::{
    Address, AuditEntry, Delivery, Device, Event, Guest, Lock, PairingCode, Recording,
};
use doorstep_core::alerts::Intent;
use doorstep_core::{Account, Connection, CoreError};
use doorstep_proto::{DeliveryPolicy, GuestSchedule};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;

/// The printer.
#[derive(Debug)]
pub struct Out {
    json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    fn json<T: Serialize + ?Sized>(&self, value: &T) {
        match serde_json::to_string(value) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: cannot print JSON: {e}"),
        }
    }

    pub fn progress(&self, message: &str) {
        if std::io::stderr().is_terminal() {
            eprintln!("{message}");
        }
    }

    pub fn error(&self, error: &CoreError) {
        if self.json {
            self.json(&json!({ "error": { "kind": format!("{:?}", error.kind()), "message": error.to_string() } }));
        }
        eprintln!("error: {error}");
    }

    pub fn done(&self, message: &str) {
        if self.json {
            self.json(&json!({ "ok": true, "message": message }));
        } else {
            println!("{message}");
        }
    }

    pub fn signed_in(&self, account: &Account, created: bool) {
        if self.json {
            self.json(account);
        } else if created {
            println!(
                "Created the household login {} and signed in as \"{}\" (household {}).",
                account.email, account.device_name, account.household_id
            );
            println!("Next: pair a lock with `doorstep locks pair-code`.");
        } else {
            println!(
                "Signed in to {} as \"{}\" (device {}).",
                account.email, account.device_name, account.device_id
            );
        }
    }

    /// A household just made, and its recovery key, shown once to be written down.
    pub fn signed_up(&self, account: &Account, recovery_key: &SecretString) {
        if self.json {
            let mut answer = serde_json::to_value(account).unwrap_or_default();
            answer["recovery_key"] = json!(recovery_key.expose_secret());
            self.json(&answer);
        } else {
            self.signed_in(account, true);
            self.recovery_key(recovery_key, true);
        }
    }

    /// Signed in with a new password set by the recovery key.
    pub fn recovered(&self, account: &Account) {
        self.signed_in(account, false);
        if !self.json {
            println!("The new password is set; the recovery key stays the same.");
        }
    }

    /// The recovery key, shown once for the person to write down.
    pub fn recovery_key(&self, key: &SecretString, made_with_the_login: bool) {
        if self.json {
            self.json(&json!({ "recovery_key": key.expose_secret() }));
            return;
        }
        let when = if made_with_the_login {
            "This is the household's recovery key"
        } else {
            "This is the household's new recovery key (the one before no longer works)"
        };
        println!(
            "\n{when}. Write it down and keep it where you keep important papers;\n\
             it is shown only now. With it, a forgotten password can be replaced\n\
             (`doorstep recover`); nobody else, not even Doorstep, can do that.\n\n    {}\n",
            key.expose_secret()
        );
    }

    pub fn status(&self, account: &Account, locks: &[Lock], deliveries: &[Delivery]) {
        let open: Vec<&Delivery> = deliveries.iter().filter(|d| !d.state.is_final()).collect();
        if self.json {
            self.json(&json!({ "account": account, "locks": locks, "open_deliveries": open }));
            return;
        }
        println!(
            "Signed in to {} at {} as \"{}\".",
            account.email, account.cloud, account.device_name
        );
        if locks.is_empty() {
            println!("No lock paired yet.");
        }
        for lock in locks {
            println!("{}", lock_line(lock));
        }
        if open.is_empty() {
            println!("No delivery on its way.");
        } else {
            println!("On its way:");
            for delivery in open {
                println!("  {}", delivery_line(delivery));
            }
        }
    }

    pub fn deliveries(&self, deliveries: &[Delivery]) {
        if self.json {
            self.json(deliveries);
        } else if deliveries.is_empty() {
            println!("No deliveries yet.");
        } else {
            for delivery in deliveries {
                println!("{}", delivery_line(delivery));
            }
        }
    }

    pub fn delivery_changed(&self, delivery: &Delivery) {
        if self.json {
            self.json(delivery);
            return;
        }
        let what = match delivery.state.as_str() {
            "blocked" => "Blocked: the lock stays shut for this courier.".to_owned(),
            "rerouted" => format!(
                "Rerouted to {}.",
                delivery.rerouted_to.as_ref().map_or(
                    "the alternate address".to_owned(),
                    |a| format!("{} ({})", a.label, a.address)
                )
            ),
            _ if delivery.approved => {
                "Approved: the courier may come in during the window.".to_owned()
            }
            state => format!("The delivery is now {state}."),
        };
        println!("{what}");
        println!("  {}", delivery_line(delivery));
    }

    pub fn event(&self, event: &Event) {
        if self.json {
            self.json(event);
        } else {
            println!(
                "{}  #{:<5} {:<24} {}",
                local_time(event.at),
                event.seq,
                event.kind(),
                event_summary(event)
            );
        }
    }

    pub fn connection(&self, state: &Connection) {
        if self.json {
            self.json(&json!({ "connection": state }));
        } else {
            match state {
                Connection::Connecting => eprintln!("… connecting"),
                Connection::Online => {
                    eprintln!("● online — events appear as they happen (Ctrl-C to stop)")
                }
                Connection::Offline { reason } => eprintln!("○ offline: {reason}; retrying"),
                Connection::SignedOut { reason } => eprintln!("signed out: {reason}"),
            }
        }
    }

    pub fn intent(&self, intent: &Intent) {
        if self.json {
            self.json(&json!({ "intent": intent }));
            return;
        }
        match intent {
            Intent::WatchLive(id) | Intent::Open(id) => println!(
                "Popup clicked for delivery {id}: `doorstep snapshot --out door.jpg` saves what the camera sees."
            ),
            Intent::WatchClip(id) => println!(
                "Popup clicked: `doorstep recordings list --delivery {id}` lists the clip."
            ),
            Intent::OpenLog => println!("Popup clicked: `doorstep log` shows what happened."),
            Intent::Block(_) | Intent::Approve(_) => {}
        }
    }

    pub fn guests(&self, guests: &[Guest]) {
        if self.json {
            self.json(guests);
            return;
        }
        if guests.is_empty() {
            println!("No guests.");
        }
        for guest in guests {
            let when = match &guest.schedule {
                GuestSchedule::Weekly(hours) => format!(
                    "weekly, days {:?}, {:02}:{:02}–{:02}:{:02} ({})",
                    hours.days,
                    hours.from_minute / 60,
                    hours.from_minute % 60,
                    hours.until_minute / 60,
                    hours.until_minute % 60,
                    hours.time_zone
                ),
                GuestSchedule::Once(window) => format!(
                    "once, {} – {}",
                    local_time(window.not_before.0),
                    local_time(window.not_after.0)
                ),
            };
            println!(
                "{}  {}  {}{}",
                guest.id,
                guest.name,
                when,
                if guest.revoked { "  (revoked)" } else { "" }
            );
        }
    }

    pub fn addresses(&self, addresses: &[Address]) {
        if self.json {
            self.json(addresses);
            return;
        }
        if addresses.is_empty() {
            println!("No alternate addresses.");
        }
        for a in addresses {
            println!("{}  {}  ({:?})  {}", a.id, a.label, a.kind, a.address);
        }
    }

    pub fn devices(&self, devices: &[Device]) {
        if self.json {
            self.json(devices);
            return;
        }
        for d in devices {
            println!(
                "{}  {}{}{}",
                d.id,
                d.name,
                if d.this_device { "  (this device)" } else { "" },
                if d.signed_in { "" } else { "  (signed out)" }
            );
        }
    }

    pub fn locks(&self, locks: &[Lock]) {
        if self.json {
            self.json(locks);
            return;
        }
        if locks.is_empty() {
            println!("No lock paired yet: `doorstep locks pair-code`.");
        }
        for lock in locks {
            println!("{}", lock_line(lock));
        }
    }

    pub fn pairing_code(&self, code: &PairingCode) {
        if self.json {
            self.json(code);
        } else {
            println!(
                "Pairing code {} (valid until {}). On the lock: doorstep-lock pair --cloud <cloud> --code {} --data-dir <dir>",
                code.code,
                local_time(code.expires_at),
                code.code
            );
            if let Some((_, fingerprint)) = code.code.split_once('-') {
                println!(
                    "It ends in your household key's fingerprint {fingerprint}: the lock pins only that key, whatever the cloud sends it."
                );
            }
        }
    }

    pub fn policy(&self, policy: Option<&DeliveryPolicy>) {
        if self.json {
            self.json(&policy);
            return;
        }
        match policy {
            None => println!("No delivery policy: every delivery is asked about."),
            Some(p) => println!(
                "Policy v{}: carriers {}, days {:?}, {:02}:{:02}–{:02}:{:02} ({}), windows up to {} min, locks {}",
                p.version,
                p.carrier_names().join(", "),
                p.hours.days,
                p.hours.from_minute / 60,
                p.hours.from_minute % 60,
                p.hours.until_minute / 60,
                p.hours.until_minute % 60,
                p.hours.time_zone,
                p.max_window_minutes,
                p.locks
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        if let Some(p) = policy {
            for carrier in &p.carriers {
                for key in &carrier.keys {
                    println!(
                        "  pinned {} shipment key {} (compare with the fingerprint {} publishes)",
                        carrier.name,
                        key.fingerprint(),
                        carrier.name
                    );
                }
            }
        }
    }

    pub fn log(&self, entries: &[AuditEntry]) {
        if self.json {
            self.json(entries);
            return;
        }
        for e in entries {
            let who = e
                .device_name
                .as_deref()
                .map_or_else(|| e.actor.clone(), |name| format!("{name} ({})", e.actor));
            println!(
                "{}  {:<22} {:<40} {}",
                local_time(e.at),
                e.action.as_str(),
                who,
                e.detail
            );
        }
    }

    pub fn recordings(&self, recordings: &[Recording]) {
        if self.json {
            self.json(recordings);
            return;
        }
        if recordings.is_empty() {
            println!("No recordings.");
        }
        for r in recordings {
            println!(
                "{}  {}  {} frames  {:.1} s  delivery {}",
                r.id,
                local_time(r.started_at),
                r.frames,
                (r.last_frame_at - r.started_at) as f64 / 1000.0,
                r.delivery_id.as_deref().unwrap_or("-")
            );
        }
    }

    pub fn frame_saved(&self, file: &std::path::Path, seq: u64, captured_at: i64) {
        if self.json {
            self.json(&json!({ "file": file, "seq": seq, "captured_at": captured_at }));
        } else {
            println!(
                "Saved frame {seq} (captured {}) to {}",
                local_time(captured_at),
                file.display()
            );
        }
    }
}

fn local_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

fn delivery_line(d: &Delivery) -> String {
    format!(
        "{}  {:<10} {:<9} {}  window {} – {}{}",
        d.id,
        d.state.as_str(),
        d.carrier,
        d.tracking_id,
        local_time(d.window.not_before),
        local_time(d.window.not_after),
        if d.approved { "  approved" } else { "" }
    )
}

fn lock_line(lock: &Lock) -> String {
    format!(
        "{}  {} ({})  {}{}",
        lock.id,
        lock.name,
        lock.kind,
        if lock.online { "online" } else { "offline" },
        if lock.camera_recording {
            ", camera recording"
        } else {
            ""
        }
    )
}

fn event_summary(event: &Event) -> String {
    let what = &event.what;
    if let Some(snapshot) = what.snapshot() {
        return format!("{} {}", snapshot.delivery_id, snapshot.delivery.carrier);
    }
    if let Some(step) = what.step() {
        let mut parts = vec![step.delivery_id.clone()];
        if let Some(minutes) = step.minutes {
            parts.push(format!("in {minutes} min"));
        }
        if let Some(reason) = &step.reason {
            parts.push(format!("({reason})"));
        }
        return parts.join(" ");
    }
    if let doorstep_api::EventData::DeliveryGranted(_) | doorstep_api::EventData::DeliveryDoor(_) =
        what
    {
        return what.delivery_id().unwrap_or_default().to_owned();
    }
    match (what.lock_id(), what.delivery_id()) {
        (Some(lock_id), delivery) => format!("lock {lock_id} {}", delivery.unwrap_or_default())
            .trim()
            .to_owned(),
        (None, Some(delivery)) => delivery.to_owned(),
        (None, None) => String::new(),
    }
}
