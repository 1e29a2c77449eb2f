//! Which events become popups, what they say, and what their buttons mean.
//!
//! A button's id encodes a typed [`Intent`] (`block:<delivery>`), so a click
//! coming back from the notification server turns into something the shell can act
//! on — navigate, or block — without parsing text.

use doorstep_api::{Delivery, Event, EventData};
use serde::{Deserialize, Serialize};

use crate::popup::{Popup, PopupAction, Urgency};

/// What a click on a popup asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "delivery_id", rename_all = "snake_case")]
pub enum Intent {
    /// Show the delivery's page.
    Open(String),
    /// Show the live video of the delivery.
    WatchLive(String),
    /// Block access now.
    Block(String),
    /// Play the recording of the visit.
    WatchClip(String),
    /// Approve the delivery.
    Approve(String),
    /// Show the activity log (alarms without a delivery).
    OpenLog,
}

impl Intent {
    /// The button id that carries this intent.
    pub fn action_id(&self) -> String {
        match self {
            Intent::Open(id) => format!("open:{id}"),
            Intent::WatchLive(id) => format!("watch:{id}"),
            Intent::Block(id) => format!("block:{id}"),
            Intent::WatchClip(id) => format!("clip:{id}"),
            Intent::Approve(id) => format!("approve:{id}"),
            Intent::OpenLog => "log".into(),
        }
    }

    /// The intent of a clicked button; `default` is a click on the popup itself.
    pub fn from_action(action: &str, default: Option<&Intent>) -> Option<Intent> {
        if action == "default" {
            return default.cloned();
        }
        if action == "log" {
            return Some(Intent::OpenLog);
        }
        let (kind, id) = action.split_once(':')?;
        let id = id.to_owned();
        Some(match kind {
            "open" => Intent::Open(id),
            "watch" => Intent::WatchLive(id),
            "block" => Intent::Block(id),
            "clip" => Intent::WatchClip(id),
            "approve" => Intent::Approve(id),
            _ => return None,
        })
    }
}

/// A popup and what a click on its body means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What to show.
    pub popup: Popup,
    /// A click on the popup itself.
    pub default: Intent,
}

/// Which popups a person may turn off on a computer, by what they are about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
pub enum PopupKind {
    /// A courier announced or on the way.
    OnTheWay,
    /// A courier at the door, being let in, or inside: the questions and Block.
    AtTheDoor,
    /// How a visit ended: delivered, blocked, rerouted, failed.
    Outcome,
    /// A guest let in, refused, or leaving.
    Guest,
    /// Locks, cameras and the household's sign-ins: jammed, forced, offline, a new device.
    Warning,
}

impl PopupKind {
    /// Every kind, in the order the settings list them.
    pub const ALL: [PopupKind; 5] = [
        PopupKind::OnTheWay,
        PopupKind::AtTheDoor,
        PopupKind::Outcome,
        PopupKind::Guest,
        PopupKind::Warning,
    ];

    /// The kind of a visit's popup while the delivery is in `state`.
    pub fn of_visit(state: doorstep_api::DeliveryState) -> Self {
        use doorstep_api::DeliveryState as S;
        match state {
            S::Announced | S::Approaching => PopupKind::OnTheWay,
            S::AtDoor | S::Granted | S::DoorOpen => PopupKind::AtTheDoor,
            S::Completed | S::Blocked | S::Rerouted | S::Failed | S::Expired => PopupKind::Outcome,
        }
    }

    /// The kind of an alarm's popup.
    pub fn of_alarm(event: &Event) -> Self {
        if event.kind().starts_with("guest") {
            PopupKind::Guest
        } else {
            PopupKind::Warning
        }
    }
}

/// The kinds of popup turned off on this computer, shared by the settings and the feed.
#[derive(Debug, Clone, Default)]
pub struct MutedPopups(std::sync::Arc<std::sync::RwLock<std::collections::BTreeSet<PopupKind>>>);

impl MutedPopups {
    /// These kinds off.
    pub fn new(off: impl IntoIterator<Item = PopupKind>) -> Self {
        Self(std::sync::Arc::new(std::sync::RwLock::new(
            off.into_iter().collect(),
        )))
    }

    /// Whether `kind` is shown.
    pub fn shows(&self, kind: PopupKind) -> bool {
        !self
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&kind)
    }

    /// Turns `kind` on or off.
    pub fn set(&self, kind: PopupKind, on: bool) {
        let mut off = self.0.write().unwrap_or_else(|e| e.into_inner());
        if on {
            off.remove(&kind);
        } else {
            off.insert(kind);
        }
    }

    /// The kinds turned off.
    pub fn off(&self) -> Vec<PopupKind> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect()
    }
}

/// The language popups are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// English.
    #[default]
    English,
    /// German.
    German,
}

impl Language {
    /// From a language tag (`de`, `de-DE`, `en`…); English for anything else.
    pub fn from_tag(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("de") {
            Language::German
        } else {
            Language::English
        }
    }
}

/// The popup language, shared between the shell (which changes it with the
/// settings) and the feed (which reads it for each popup).
#[derive(Debug, Clone, Default)]
pub struct SharedLanguage(std::sync::Arc<std::sync::RwLock<Language>>);

impl SharedLanguage {
    /// The language now.
    pub fn get(&self) -> Language {
        self.0.read().map(|l| *l).unwrap_or_default()
    }

    /// Changes it for the next popups.
    pub fn set(&self, language: Language) {
        if let Ok(mut current) = self.0.write() {
            *current = language;
        }
    }
}

/// The German for an English popup text; `{…}` placeholders are kept.
fn german(english: &str) -> Option<&'static str> {
    Some(match english {
        "Open" => "Öffnen",
        "Block access" => "Zutritt sperren",
        "Watch live" => "Live ansehen",
        "Watch the clip" => "Aufnahme ansehen",
        "Approve" => "Erlauben",
        "Decline" => "Ablehnen",
        "Courier arriving in 1 min" => "Kurier kommt in 1 Min.",
        "Courier arriving in {m} min" => "Kurier kommt in {m} Min.",
        "Courier arriving soon" => "Kurier kommt bald",
        "{carrier} is on the way to your door." => "{carrier} ist auf dem Weg zu Ihrer Tür.",
        "Courier at the door" => "Kurier an der Tür",
        "{carrier} is at your door and asking to come in." => {
            "{carrier} ist an Ihrer Tür und möchte hinein."
        }
        "Delivered" => "Zugestellt",
        "{carrier} left the parcel inside; the door is locked." => {
            "{carrier} hat das Paket drinnen abgelegt; die Tür ist verschlossen."
        }
        "Delivery announced" => "Lieferung angekündigt",
        "{carrier} wants to deliver inside. Let them in?" => {
            "{carrier} möchte drinnen zustellen. Einlassen?"
        }
        "Delivery could not be made inside" => "Lieferung konnte nicht drinnen zugestellt werden",
        "{reason} You can reroute it to an alternate address." => {
            "{reason} Sie können sie an eine Ausweichadresse umleiten."
        }
        "The courier could not get in." => "Der Kurier kam nicht hinein.",
        "Camera lost during delivery" => "Kamera während der Lieferung ausgefallen",
        "The camera stopped sending while the courier can enter. Block access if in doubt." => {
            "Die Kamera sendet nicht mehr, während der Kurier hinein kann. Im Zweifel Zutritt sperren."
        }
        "Lock jammed" => "Schloss blockiert",
        "The lock's motor is stuck; check the door." => {
            "Der Motor des Schlosses klemmt; bitte die Tür prüfen."
        }
        "Door forced open" => "Tür aufgebrochen",
        "The door opened while the lock was locked." => {
            "Die Tür ging auf, obwohl das Schloss verschlossen war."
        }
        "Door left open" => "Tür offen gelassen",
        "The household's password was changed" => "Das Passwort des Haushalts wurde geändert",
        "It was reset with the recovery key. If nobody in your household did this, make a new recovery key and sign out the devices you do not know." => {
            "Es wurde mit dem Wiederherstellungsschlüssel zurückgesetzt. Wenn das niemand in Ihrem Haushalt war, erstellen Sie einen neuen Wiederherstellungsschlüssel und melden Sie die Geräte ab, die Sie nicht kennen."
        }
        "A new recovery key was made" => "Ein neuer Wiederherstellungsschlüssel wurde erstellt",
        "The one before it no longer works. If nobody in your household did this, check your devices." => {
            "Der vorige gilt nicht mehr. Wenn das niemand in Ihrem Haushalt war, prüfen Sie Ihre Geräte."
        }
        "The door has been open too long after a visit." => {
            "Die Tür steht nach einem Besuch zu lange offen."
        }
        "The courier" => "Der Kurier",
        "Someone was let in that you were not told of" => {
            "Jemand wurde eingelassen, von dem Sie nichts wussten"
        }
        "The lock opened for {why}. Check the door and the recording." => {
            "Das Schloss öffnete für {why}. Bitte Tür und Aufnahme prüfen."
        }
        "a grant this cloud never issued" => "eine Freigabe, die die Cloud nie ausgestellt hat",
        "a delivery the household was never told of" => {
            "eine Lieferung, von der der Haushalt nie erfahren hat"
        }
        "a delivery the household blocked" => "eine Lieferung, die der Haushalt gesperrt hat",
        "an entry nobody announced" => "einen Zutritt, den niemand angekündigt hat",
        "The lock's clock is not set" => "Die Uhr des Schlosses ist nicht gestellt",
        "The lock refused the cloud's time, so it lets nobody in until its clock can be trusted." => {
            "Das Schloss hat die Zeit der Cloud abgelehnt und lässt niemanden hinein, bis seiner Uhr zu trauen ist."
        }
        "The lock received a message it does not understand" => {
            "Das Schloss hat eine Nachricht erhalten, die es nicht versteht"
        }
        "It ignored the message and stays as it was. Check for an update." => {
            "Es hat sie ignoriert und bleibt, wie es war. Bitte auf ein Update prüfen."
        }
        "Door NOT locked" => "Tür NICHT verschlossen",
        "The lock's clock is off" => "Die Uhr des Schlosses geht falsch",
        "Guests keep their old time zone" => "Gäste behalten ihre alte Zeitzone",
        "The hours of {names} are still in the old time zone. Set them again if they should follow the move." => {
            "Die Zeiten von {names} gelten noch in der alten Zeitzone. Bitte neu festlegen, wenn sie dem Umzug folgen sollen."
        }
        "It disagrees with the cloud by more than 30 seconds, so the door stays shut for everyone. Check the lock's network and time." => {
            "Sie weicht um mehr als 30 Sekunden von der Cloud ab, daher bleibt die Tür für alle zu. Bitte Netz und Uhrzeit des Schlosses prüfen."
        }
        "The lock's motor jammed: the door may NOT be locked. Check it now." => {
            "Der Motor des Schlosses klemmt: Die Tür ist womöglich NICHT verschlossen. Bitte sofort prüfen."
        }
        "The lock did not confirm that it locked: the door may NOT be locked. Check it now." => {
            "Das Schloss hat nicht bestätigt, dass es verschlossen ist: Die Tür ist womöglich NICHT verschlossen. Bitte sofort prüfen."
        }
        "The lock opened, but the courier never opened the door." => {
            "Das Schloss war offen, aber der Kurier hat die Tür nie geöffnet."
        }
        "The lock restarted during the visit and locked itself." => {
            "Das Schloss wurde während des Besuchs neu gestartet und hat sich verschlossen."
        }
        "The lock did not confirm that it locked after the visit. Check the door now." => {
            "Das Schloss hat nach dem Besuch nicht bestätigt, dass es verschlossen ist. Bitte sofort die Tür prüfen."
        }
        "The lock lost part of its memory" => {
            "Das Schloss hat einen Teil seines Gedächtnisses verloren"
        }
        "Entries approved before now must be approved again. Check the lock's storage." => {
            "Vorher genehmigte Zutritte müssen neu genehmigt werden. Bitte den Speicher des Schlosses prüfen."
        }
        "The lock's record disagrees with the cloud's" => {
            "Das Protokoll des Schlosses widerspricht dem der Cloud"
        }
        "Its journal was replaced or damaged. Check the lock." => {
            "Sein Protokoll wurde ersetzt oder beschädigt. Bitte das Schloss prüfen."
        }
        "The lock restarted" => "Das Schloss wurde neu gestartet",
        "It locked itself as it started." => "Es hat sich beim Start selbst verschlossen.",
        "It locked itself as it started; its sensor says the door is open." => {
            "Es hat sich beim Start selbst verschlossen; sein Sensor meldet die Tür offen."
        }
        "Entry refused at the door" => "Zutritt an der Tür abgelehnt",
        "Courier arriving now" => "Kurier kommt jetzt",
        "Approved" => "Erlaubt",
        "{carrier} will be let in when they arrive." => "{carrier} wird bei Ankunft eingelassen.",
        "{carrier} is at your door; the lock will let them in." => {
            "{carrier} ist an Ihrer Tür; das Schloss lässt den Kurier hinein."
        }
        "Opening the door for {carrier}" => "Die Tür öffnet sich für {carrier}",
        "The lock is letting the courier in." => "Das Schloss lässt den Kurier hinein.",
        "Courier inside now" => "Kurier ist jetzt drinnen",
        "{carrier} is inside your home; the door is open." => {
            "{carrier} ist in Ihrer Wohnung; die Tür ist offen."
        }
        "Door closed" => "Tür geschlossen",
        "Door closed and locked" => "Tür geschlossen und verschlossen",
        "{carrier} closed the door; the lock locked it." => {
            "{carrier} hat die Tür geschlossen; das Schloss hat sie verriegelt."
        }
        "{carrier} closed the door; the lock is locking it." => {
            "{carrier} hat die Tür geschlossen; das Schloss verriegelt sie."
        }
        "Delivered, but the door is NOT locked" => {
            "Zugestellt, aber die Tür ist NICHT verschlossen"
        }
        "Blocked — door locked" => "Gesperrt — Tür verschlossen",
        "{carrier} cannot get in; the lock confirmed the door is locked." => {
            "{carrier} kommt nicht hinein; das Schloss hat bestätigt, dass die Tür verschlossen ist."
        }
        "{carrier} cannot get in; the lock never opened for them." => {
            "{carrier} kommt nicht hinein; das Schloss hat nie für den Kurier geöffnet."
        }
        "Blocked — the courier is inside" => "Gesperrt — der Kurier ist drinnen",
        "The door is open; the lock locks it as soon as it closes." => {
            "Die Tür ist offen; das Schloss verriegelt sie, sobald sie zu ist."
        }
        "Blocked — locking the door" => "Gesperrt — Tür wird verriegelt",
        "Waiting for the lock to confirm the door is locked." => {
            "Warten auf die Bestätigung des Schlosses, dass die Tür verschlossen ist."
        }
        "Blocked, but the door is NOT locked" => "Gesperrt, aber die Tür ist NICHT verschlossen",
        "Rerouted" => "Umgeleitet",
        "{carrier} will take the parcel to {address}." => {
            "{carrier} bringt das Paket zu {address}."
        }
        "Could not block access" => "Zutritt konnte nicht gesperrt werden",
        "{error} Try again, or open Doorstep." => {
            "{error} Bitte erneut versuchen oder Doorstep öffnen."
        }
        "{lock} is offline" => "{lock} ist offline",
        "Nothing heard from the lock for {m} min. Nobody can be let in until it is back." => {
            "Seit {m} Min. nichts vom Schloss gehört. Niemand kann hinein, bis es wieder da ist."
        }
        "{lock} is back online" => "{lock} ist wieder online",
        "The lock was offline for {m} min." => "Das Schloss war {m} Min. offline.",
        "The camera of {lock} is down" => "Die Kamera von {lock} ist ausgefallen",
        "It is not recording, so no courier is let in until it is back." => {
            "Sie nimmt nicht auf, daher wird kein Kurier eingelassen, bis sie wieder läuft."
        }
        "The camera of {lock} is back" => "Die Kamera von {lock} ist wieder da",
        "It records again." => "Sie nimmt wieder auf.",
        "The lock refused to open: {reason}." => "Das Schloss hat nicht geöffnet: {reason}.",
        "Show Doorstep" => "Doorstep zeigen",
        "Quit Doorstep" => "Doorstep beenden",
        "Block access — {carrier} {tracking}" => "Zutritt sperren — {carrier} {tracking}",
        "Block access (nobody at the door)" => "Zutritt sperren (niemand an der Tür)",
        "Doorstep — {carrier} on the way" => "Doorstep — {carrier} unterwegs",
        "Doorstep — {carrier} at the door" => "Doorstep — {carrier} an der Tür",
        "Doorstep — {carrier} may come in" => "Doorstep — {carrier} darf herein",
        "Doorstep — {carrier} inside" => "Doorstep — {carrier} ist drinnen",
        _ => return None,
    })
}

/// What the tray shows, in the popups' language: its menu's words, the visit its
/// quick Block would block, and its hover text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayView {
    /// "Show Doorstep".
    pub show: String,
    /// The quick Block's words.
    pub block: String,
    /// The visit it blocks; `None` greys it out.
    pub block_delivery: Option<String>,
    /// "Quit Doorstep".
    pub quit: String,
    /// The hover text.
    pub tooltip: String,
}

/// The tray for `deliveries` (newest first): the first one a courier can still get
/// in by is the one its Block is for.
pub fn tray_view(l: Language, deliveries: &[Delivery]) -> TrayView {
    use doorstep_api::DeliveryState as S;
    let entry = deliveries.iter().find_map(|d| {
        let tooltip = match d.state {
            S::Approaching => "Doorstep — {carrier} on the way",
            S::AtDoor => "Doorstep — {carrier} at the door",
            S::Granted => "Doorstep — {carrier} may come in",
            S::DoorOpen => "Doorstep — {carrier} inside",
            _ => return None,
        };
        Some((d, tooltip))
    });
    let (block, block_delivery, tooltip) = match entry {
        Some((d, tooltip)) => (
            say(
                l,
                "Block access — {carrier} {tracking}",
                &[("carrier", &d.carrier), ("tracking", &d.tracking_id)],
            ),
            Some(d.id.clone()),
            say(l, tooltip, &[("carrier", &d.carrier)]),
        ),
        None => (
            say(l, "Block access (nobody at the door)", &[]),
            None,
            "Doorstep".to_owned(),
        ),
    };
    TrayView {
        show: say(l, "Show Doorstep", &[]),
        block,
        block_delivery,
        quit: say(l, "Quit Doorstep", &[]),
        tooltip,
    }
}

/// `english` in `language`, with `{name}` placeholders filled from `values`.
fn say(language: Language, english: &str, values: &[(&str, &str)]) -> String {
    let template = match language {
        Language::English => english,
        Language::German => german(english).unwrap_or(english),
    };
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The popup for `event` in English, if it deserves one.
pub fn alert_for(event: &Event, delivery: Option<&Delivery>) -> Option<Alert> {
    alert_in(Language::English, event, delivery)
}

/// The popup for `event` in `language`, if it deserves one. `delivery` is the
/// delivery it is about.
pub fn alert_in(language: Language, event: &Event, delivery: Option<&Delivery>) -> Option<Alert> {
    let l = language;
    let delivery_id = delivery
        .map(|d| d.id.clone())
        .or_else(|| event.delivery_id().map(str::to_owned));
    let someone = say(l, "The courier", &[]);
    let carrier = delivery.map_or(someone.as_str(), |d| d.carrier.as_str());
    let c = [("carrier", carrier)];
    let for_delivery = |popup: Popup, default: fn(String) -> Intent| {
        let id = delivery_id.clone()?;
        let mut popup = popup;
        // The body click first: some servers treat the first action as the default.
        popup.actions.insert(
            0,
            PopupAction {
                id: "default".into(),
                label: say(l, "Open", &[]),
            },
        );
        Some(Alert {
            popup,
            default: default(id),
        })
    };
    let id = delivery_id.clone().unwrap_or_default();
    match &event.what {
        EventData::DeliveryApproaching(step) => {
            let minutes = step.minutes;
            let title = match minutes {
                Some(1) => say(l, "Courier arriving in 1 min", &[]),
                Some(m) => say(l, "Courier arriving in {m} min", &[("m", &m.to_string())]),
                None => say(l, "Courier arriving soon", &[]),
            };
            for_delivery(
                Popup::new(title, say(l, "{carrier} is on the way to your door.", &c))
                    .with_action(
                        Intent::Block(id.clone()).action_id(),
                        say(l, "Block access", &[]),
                    ),
                Intent::Open,
            )
        }
        EventData::DeliveryAtDoor(_) => for_delivery(
            Popup::new(
                say(l, "Courier at the door", &[]),
                say(l, "{carrier} is at your door and asking to come in.", &c),
            )
            .urgency(Urgency::Critical)
            .with_action(
                Intent::WatchLive(id.clone()).action_id(),
                say(l, "Watch live", &[]),
            )
            .with_action(
                Intent::Block(id.clone()).action_id(),
                say(l, "Block access", &[]),
            ),
            Intent::WatchLive,
        ),
        EventData::DeliveryCompleted(_) => for_delivery(
            Popup::new(
                say(l, "Delivered", &[]),
                say(l, "{carrier} left the parcel inside; the door is locked.", &c),
            )
            .with_action(
                Intent::WatchClip(id.clone()).action_id(),
                say(l, "Watch the clip", &[]),
            ),
            Intent::WatchClip,
        ),
        EventData::DeliveryAnnounced(_) if delivery.is_some_and(|d| !d.approved) => for_delivery(
            Popup::new(
                say(l, "Delivery announced", &[]),
                say(l, "{carrier} wants to deliver inside. Let them in?", &c),
            )
            .with_action(
                Intent::Approve(id.clone()).action_id(),
                say(l, "Approve", &[]),
            )
            .with_action(Intent::Block(id.clone()).action_id(), say(l, "Decline", &[])),
            Intent::Open,
        ),
        EventData::DeliveryFailed(failed) => for_delivery(
            Popup::new(
                say(l, "Delivery could not be made inside", &[]),
                say(
                    l,
                    "{reason} You can reroute it to an alternate address.",
                    &[("reason", &failure_sentence(l, failed.reason.as_deref()))],
                ),
            ),
            Intent::Open,
        ),
        EventData::CameraFeedLost(_) => for_delivery(
            Popup::new(
                say(l, "Camera lost during delivery", &[]),
                say(
                    l,
                    "The camera stopped sending while the courier can enter. Block access if in doubt.",
                    &[],
                ),
            )
            .urgency(Urgency::Critical)
            .with_action(
                Intent::Block(id.clone()).action_id(),
                say(l, "Block access", &[]),
            ),
            Intent::Open,
        ),
        EventData::LockJammed(_) => Some(alarm(
            l,
            "Lock jammed",
            "The lock's motor is stuck; check the door.",
        )),
        EventData::LockForced(_) => Some(alarm(
            l,
            "Door forced open",
            "The door opened while the lock was locked.",
        )),
        EventData::LockUnexpectedEntry(entry) => {
            let why = match Some(entry.reason.as_str()) {
                Some(
                    reason @ ("a grant this cloud never issued"
                    | "a delivery the household was never told of"
                    | "a delivery the household blocked"),
                ) => say(l, reason, &[]),
                _ => say(l, "an entry nobody announced", &[]),
            };
            Some(opens_log(l, Popup::new(
                    say(l, "Someone was let in that you were not told of", &[]),
                    say(
                        l,
                        "The lock opened for {why}. Check the door and the recording.",
                        &[("why", &why)],
                    ),
                )
                .urgency(Urgency::Critical)))
        }
        EventData::LockClockUntrusted(_) => Some(alarm(
            l,
            "The lock's clock is not set",
            "The lock refused the cloud's time, so it lets nobody in until its clock can be trusted.",
        )),
        EventData::LockMessageRefused(_) => Some(alarm(
            l,
            "The lock received a message it does not understand",
            "It ignored the message and stays as it was. Check for an update.",
        )),
        EventData::AccountPasswordReset(_) => Some(alarm(
            l,
            "The household's password was changed",
            "It was reset with the recovery key. If nobody in your household did this, make a new recovery key and sign out the devices you do not know.",
        )),
        EventData::AccountRecoveryKeySet(_) => Some(opens_log(
            l,
            Popup::new(
                say(l, "A new recovery key was made", &[]),
                say(
                    l,
                    "The one before it no longer works. If nobody in your household did this, check your devices.",
                    &[],
                ),
            ),
        )),
        EventData::LockAjar(_) => Some(alarm(
            l,
            "Door left open",
            "The door has been open too long after a visit.",
        )),
        EventData::GuestsTimeZoneDiffers(differs) => {
            let names = differs
                .guests
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            Some(opens_log(l, Popup::new(
                    say(l, "Guests keep their old time zone", &[]),
                    say(
                        l,
                        "The hours of {names} are still in the old time zone. Set them again if they should follow the move.",
                        &[("names", &names)],
                    ),
                )))
        }
        EventData::LockClockOff(_) => Some(alarm(
            l,
            "The lock's clock is off",
            "It disagrees with the cloud by more than 30 seconds, so the door stays shut for everyone. Check the lock's network and time.",
        )),
        EventData::LockRelockUnconfirmed(_) => Some(alarm(
            l,
            "Door NOT locked",
            "The lock did not confirm that it locked after the visit. Check the door now.",
        )),
        EventData::LockJournalRewound(_) => Some(alarm(
            l,
            "The lock lost part of its memory",
            "Entries approved before now must be approved again. Check the lock's storage.",
        )),
        EventData::LockJournalConflict(_) => Some(alarm(
            l,
            "The lock's record disagrees with the cloud's",
            "Its journal was replaced or damaged. Check the lock.",
        )),
        EventData::LockOffline(quiet) => Some(opens_log(l, Popup::new(
                say(l, "{lock} is offline", &[("lock", &quiet.name)]),
                say(
                    l,
                    "Nothing heard from the lock for {m} min. Nobody can be let in until it is back.",
                    &[("m", &minutes_between(quiet.since, event.at).to_string())],
                ),
            )
            .urgency(Urgency::Critical))),
        EventData::LockOnline(back) => Some(opens_log(l, Popup::new(
                say(l, "{lock} is back online", &[("lock", &back.name)]),
                say(
                    l,
                    "The lock was offline for {m} min.",
                    &[("m", &minutes_between(back.since, event.at).to_string())],
                ),
            )
            .expires_after(OUTCOME_SHOWN_FOR))),
        EventData::CameraOffline(down) => Some(opens_log(l, Popup::new(
                say(l, "The camera of {lock} is down", &[("lock", &down.name)]),
                say(
                    l,
                    "It is not recording, so no courier is let in until it is back.",
                    &[],
                ),
            )
            .urgency(Urgency::Critical))),
        EventData::CameraOnline(back) => Some(opens_log(l, Popup::new(
                say(l, "The camera of {lock} is back", &[("lock", &back.name)]),
                say(l, "It records again.", &[]),
            )
            .expires_after(OUTCOME_SHOWN_FOR))),
        EventData::LockRebooted(rebooted) => {
            let open = rebooted.detail.door == Some(doorstep_api::DoorPosition::Open);
            let body = if open {
                "It locked itself as it started; its sensor says the door is open."
            } else {
                "It locked itself as it started."
            };
            Some(opens_log(l, Popup::new(say(l, "The lock restarted", &[]), say(l, body, &[]))))
        }
        EventData::LockEntryRefused(refused) => {
            let reason = refused
                .detail
                .reason
                .as_deref()
                .unwrap_or("no reason given");
            Some(opens_log(l, Popup::new(
                    say(l, "Entry refused at the door", &[]),
                    say(
                        l,
                        "The lock refused to open: {reason}.",
                        &[("reason", reason)],
                    ),
                )))
        }
        _ => None,
    }
}

/// What the one popup of a visit becomes after an event about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitPopup {
    /// Show this, in the place of what is up.
    Show(Alert),
    /// Show this only in the place of a popup that is up (the answer to a question
    /// it asked); with none up, show nothing.
    Settle(Alert),
    /// Take it down (the visit is over and nothing came of it).
    Withdraw,
}

/// How long an outcome nobody has to act on stays up.
pub const OUTCOME_SHOWN_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// Whether `event` is about the course of a delivery's visit (the visit's popup
/// follows it), rather than an alarm of its own.
pub fn is_visit_event(event: &Event) -> bool {
    event.what.snapshot().is_some()
        || event.what.step().is_some()
        || matches!(
            event.what,
            EventData::DeliveryGranted(_)
                | EventData::DeliveryDoor(_)
                | EventData::CameraFeedLost(_)
                | EventData::CameraFeedRestored(_)
        )
}

/// The popup of `delivery`'s visit after `event`, from the state it is in now (so
/// its text is the truth however many events it missed): a question only while
/// the household's yes is missing, the door as the lock reported it, and "Approve"
/// only where approval is still needed. `now` (ms) sets the minutes to arrival.
pub fn visit_popup(l: Language, event: &Event, delivery: &Delivery, now: i64) -> VisitPopup {
    use doorstep_api::{DeliveryState as S, DoorState as D};

    let id = delivery.id.clone();
    let c = [("carrier", delivery.carrier.as_str())];
    let approve = (!delivery.approved).then(|| PopupAction {
        id: Intent::Approve(id.clone()).action_id(),
        label: say(l, "Approve", &[]),
    });
    let watch = PopupAction {
        id: Intent::WatchLive(id.clone()).action_id(),
        label: say(l, "Watch live", &[]),
    };
    let block = PopupAction {
        id: Intent::Block(id.clone()).action_id(),
        label: say(l, "Block access", &[]),
    };
    let door_not_locked = matches!(delivery.door, Some(D::Jammed | D::Unconfirmed));
    // The body click first: some servers treat the first action as the default.
    let with_buttons = |popup: Popup, actions: Vec<PopupAction>, default: Intent| {
        let mut popup = popup;
        popup.actions = std::iter::once(PopupAction {
            id: "default".into(),
            label: say(l, "Open", &[]),
        })
        .chain(actions)
        .collect();
        Alert { popup, default }
    };
    let alert = |popup: Popup, actions: Vec<PopupAction>, default: Intent| {
        VisitPopup::Show(with_buttons(popup, actions, default))
    };
    if let EventData::CameraFeedLost(_) = event.what
        && matches!(delivery.state, S::AtDoor | S::Granted | S::DoorOpen)
    {
        return alert(
            Popup::new(
                say(l, "Camera lost during delivery", &[]),
                say(
                    l,
                    "The camera stopped sending while the courier can enter. Block access if in doubt.",
                    &[],
                ),
            )
            .urgency(Urgency::Critical),
            vec![block],
            Intent::Open(id),
        );
    }
    match delivery.state {
        S::Announced if delivery.approved => VisitPopup::Settle(with_buttons(
            Popup::new(
                say(l, "Approved", &[]),
                say(l, "{carrier} will be let in when they arrive.", &c),
            )
            .expires_after(OUTCOME_SHOWN_FOR),
            Vec::new(),
            Intent::Open(id),
        )),
        S::Announced => alert(
            Popup::new(
                say(l, "Delivery announced", &[]),
                say(l, "{carrier} wants to deliver inside. Let them in?", &c),
            ),
            approve
                .into_iter()
                .chain([PopupAction {
                    id: Intent::Block(id.clone()).action_id(),
                    label: say(l, "Decline", &[]),
                }])
                .collect(),
            Intent::Open(id),
        ),
        S::Approaching => {
            let eta = event.what.step().and_then(|step| step.eta).or(delivery.eta);
            let minutes =
                eta.map(|eta| eta.saturating_sub(now).max(0).saturating_add(59_999) / 60_000);
            let title = match minutes {
                Some(0) => say(l, "Courier arriving now", &[]),
                Some(1) => say(l, "Courier arriving in 1 min", &[]),
                Some(m) => say(l, "Courier arriving in {m} min", &[("m", &m.to_string())]),
                None => say(l, "Courier arriving soon", &[]),
            };
            alert(
                Popup::new(title, say(l, "{carrier} is on the way to your door.", &c)),
                approve.into_iter().chain([block]).collect(),
                Intent::Open(id),
            )
        }
        S::AtDoor => {
            let body = if delivery.approved {
                "{carrier} is at your door; the lock will let them in."
            } else {
                "{carrier} is at your door and asking to come in."
            };
            alert(
                Popup::new(say(l, "Courier at the door", &[]), say(l, body, &c))
                    .urgency(Urgency::Critical),
                approve.into_iter().chain([watch, block]).collect(),
                Intent::WatchLive(id),
            )
        }
        S::Granted => alert(
            Popup::new(
                say(l, "Opening the door for {carrier}", &c),
                say(l, "The lock is letting the courier in.", &[]),
            )
            .urgency(Urgency::Critical),
            vec![watch, block],
            Intent::WatchLive(id),
        ),
        S::DoorOpen if door_not_locked => alert(
            Popup::new(
                say(l, "Door NOT locked", &[]),
                failure_sentence(l, door_reason(delivery.door)),
            )
            .urgency(Urgency::Critical),
            vec![watch],
            Intent::WatchLive(id),
        ),
        S::DoorOpen if delivery.door == Some(D::Closed) => alert(
            Popup::new(
                say(l, "Door closed", &[]),
                say(l, "{carrier} closed the door; the lock is locking it.", &c),
            )
            .urgency(Urgency::Critical),
            vec![watch, block],
            Intent::WatchLive(id),
        ),
        S::DoorOpen if delivery.door == Some(D::Locked) => alert(
            Popup::new(
                say(l, "Door closed and locked", &[]),
                say(l, "{carrier} closed the door; the lock locked it.", &c),
            ),
            vec![watch],
            Intent::WatchLive(id),
        ),
        S::DoorOpen => alert(
            Popup::new(
                say(l, "Courier inside now", &[]),
                say(l, "{carrier} is inside your home; the door is open.", &c),
            )
            .urgency(Urgency::Critical),
            vec![watch, block],
            Intent::WatchLive(id),
        ),
        S::Completed if door_not_locked => alert(
            Popup::new(
                say(l, "Delivered, but the door is NOT locked", &[]),
                failure_sentence(l, door_reason(delivery.door)),
            )
            .urgency(Urgency::Critical),
            Vec::new(),
            Intent::Open(id),
        ),
        S::Completed => {
            let clip = PopupAction {
                id: Intent::WatchClip(id.clone()).action_id(),
                label: say(l, "Watch the clip", &[]),
            };
            alert(
                Popup::new(
                    say(l, "Delivered", &[]),
                    say(
                        l,
                        "{carrier} left the parcel inside; the door is locked.",
                        &c,
                    ),
                )
                .expires_after(OUTCOME_SHOWN_FOR),
                vec![clip],
                Intent::WatchClip(id),
            )
        }
        S::Blocked => {
            let (title, body) = match delivery.door {
                None => (
                    "Blocked — door locked",
                    "{carrier} cannot get in; the lock never opened for them.",
                ),
                Some(D::Locked) => (
                    "Blocked — door locked",
                    "{carrier} cannot get in; the lock confirmed the door is locked.",
                ),
                Some(D::Open) => (
                    "Blocked — the courier is inside",
                    "The door is open; the lock locks it as soon as it closes.",
                ),
                Some(D::Unlocking | D::Unlocked | D::Closed) => (
                    "Blocked — locking the door",
                    "Waiting for the lock to confirm the door is locked.",
                ),
                Some(D::Jammed | D::Unconfirmed) => ("Blocked, but the door is NOT locked", ""),
            };
            let body = if door_not_locked {
                failure_sentence(l, door_reason(delivery.door))
            } else {
                say(l, body, &c)
            };
            let confirmed = matches!(delivery.door, None | Some(D::Locked));
            let popup = Popup::new(say(l, title, &[]), body);
            if confirmed {
                alert(
                    popup.expires_after(OUTCOME_SHOWN_FOR),
                    Vec::new(),
                    Intent::Open(id),
                )
            } else {
                alert(
                    popup.urgency(Urgency::Critical),
                    vec![watch],
                    Intent::WatchLive(id),
                )
            }
        }
        S::Rerouted => {
            let address = delivery
                .rerouted_to
                .as_ref()
                .map_or_else(String::new, |a| a.label.clone());
            alert(
                Popup::new(
                    say(l, "Rerouted", &[]),
                    say(
                        l,
                        "{carrier} will take the parcel to {address}.",
                        &[("carrier", &delivery.carrier), ("address", &address)],
                    ),
                )
                .expires_after(OUTCOME_SHOWN_FOR),
                Vec::new(),
                Intent::Open(id),
            )
        }
        S::Failed => {
            let reason = event
                .what
                .step()
                .and_then(|step| step.reason.as_deref())
                .or(door_reason(delivery.door));
            let popup = Popup::new(
                say(l, "Delivery could not be made inside", &[]),
                say(
                    l,
                    "{reason} You can reroute it to an alternate address.",
                    &[("reason", &failure_sentence(l, reason))],
                ),
            );
            let popup = if door_not_locked {
                popup.urgency(Urgency::Critical)
            } else {
                popup
            };
            alert(popup, Vec::new(), Intent::Open(id))
        }
        S::Expired => VisitPopup::Withdraw,
    }
}

/// The popup that says a Block from a popup did not go through.
pub fn block_failed(l: Language, delivery_id: &str, error: &str) -> Alert {
    Alert {
        popup: Popup::new(
            say(l, "Could not block access", &[]),
            say(
                l,
                "{error} Try again, or open Doorstep.",
                &[("error", &sentence(error))],
            ),
        )
        .urgency(Urgency::Critical)
        .with_action("default", say(l, "Open", &[]))
        .with_action(
            Intent::Block(delivery_id.to_owned()).action_id(),
            say(l, "Block access", &[]),
        ),
        default: Intent::Open(delivery_id.to_owned()),
    }
}

/// Whole minutes from `from` to `to` (ms), at least 1.
fn minutes_between(from: i64, to: i64) -> i64 {
    (to.saturating_sub(from) / 60_000).max(1)
}

/// The alarm an event's popup belongs to: a lock going offline and coming back
/// share one popup (the second replaces the first), as do its camera's.
pub fn alarm_topic(event: &Event) -> &str {
    match event.what {
        EventData::LockOffline(_) | EventData::LockOnline(_) => "lock.connection",
        EventData::CameraOffline(_) | EventData::CameraOnline(_) => "camera.connection",
        _ => event.kind(),
    }
}

fn door_reason(door: Option<doorstep_api::DoorState>) -> Option<&'static str> {
    match door {
        Some(doorstep_api::DoorState::Jammed) => Some("jammed"),
        Some(doorstep_api::DoorState::Unconfirmed) => Some("relock unconfirmed"),
        _ => None,
    }
}

/// `text` as a sentence: capital first, one full stop.
fn sentence(text: &str) -> String {
    let mut sentence = text.trim().trim_end_matches('.').to_owned();
    if let Some(first) = sentence.get(..1) {
        sentence.replace_range(..1, &first.to_uppercase());
    }
    format!("{sentence}.")
}

fn alarm(l: Language, title: &str, body: &str) -> Alert {
    opens_log(
        l,
        Popup::new(say(l, title, &[]), say(l, body, &[])).urgency(Urgency::Critical),
    )
}

/// `popup` with a click on it opening the activity log (alarms without a delivery).
fn opens_log(l: Language, popup: Popup) -> Alert {
    Alert {
        popup: popup.with_action("default", say(l, "Open", &[])),
        default: Intent::OpenLog,
    }
}

fn failure_sentence(l: Language, reason: Option<&str>) -> String {
    let known = match reason {
        Some("jammed") => {
            Some("The lock's motor jammed: the door may NOT be locked. Check it now.")
        }
        Some("relock unconfirmed") => Some(
            "The lock did not confirm that it locked: the door may NOT be locked. Check it now.",
        ),
        Some("not opened") => Some("The lock opened, but the courier never opened the door."),
        Some("lock restarted") => Some("The lock restarted during the visit and locked itself."),
        _ => None,
    };
    if let Some(sentence) = known {
        return say(l, sentence, &[]);
    }
    match reason {
        Some(reason) if !reason.trim().is_empty() => sentence(reason),
        _ => say(l, "The courier could not get in.", &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use doorstep_api::{DeliveryState, DeliveryStep};

    fn event(what: EventData) -> Event {
        Event {
            seq: 1,
            at: 0,
            device_id: None,
            what,
        }
    }

    fn at_door() -> Event {
        event(EventData::DeliveryAtDoor(DeliveryStep::new(
            "d1",
            DeliveryState::AtDoor,
        )))
    }

    #[test]
    fn at_the_door_offers_watching_and_blocking_and_the_clicks_come_back_typed() {
        let alert = alert_for(&at_door(), None).unwrap();
        assert_eq!(alert.popup.title, "Courier at the door");
        let ids: Vec<&str> = alert.popup.actions.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["default", "watch:d1", "block:d1"]);
        assert_eq!(
            Intent::from_action("block:d1", Some(&alert.default)),
            Some(Intent::Block("d1".into()))
        );
        assert_eq!(
            Intent::from_action("default", Some(&alert.default)),
            Some(Intent::WatchLive("d1".into()))
        );
        assert_eq!(Intent::from_action("nonsense", None), None);
    }

    #[test]
    fn the_tray_names_the_visit_its_block_is_for_in_the_household_s_language() {
        let mut inside = delivery(DeliveryState::DoorOpen, true);
        inside.carrier = "DHL".into();
        inside.tracking_id = "JJD001".into();
        let mut done = delivery(DeliveryState::Completed, true);
        done.id = "d0".into();
        let tray = tray_view(Language::German, &[done.clone(), inside.clone()]);
        assert_eq!(tray.block, "Zutritt sperren — DHL JJD001");
        assert_eq!(tray.block_delivery.as_deref(), Some(inside.id.as_str()));
        assert_eq!(tray.tooltip, "Doorstep — DHL ist drinnen");
        assert_eq!(tray.show, "Doorstep zeigen");
        let idle = tray_view(Language::English, &[done]);
        assert_eq!(idle.block, "Block access (nobody at the door)");
        assert_eq!(idle.block_delivery, None);
        assert_eq!(idle.quit, "Quit Doorstep");
    }

    #[test]
    fn approaching_says_how_many_minutes() {
        let alert = alert_for(
            &event(EventData::DeliveryApproaching(DeliveryStep {
                minutes: Some(7),
                ..DeliveryStep::new("d1", DeliveryState::Approaching)
            })),
            None,
        )
        .unwrap();
        assert_eq!(alert.popup.title, "Courier arriving in 7 min");
    }

    #[test]
    fn popups_speak_german_too() {
        let alert = alert_in(Language::German, &at_door(), None).unwrap();
        assert_eq!(alert.popup.title, "Kurier an der Tür");
        assert_eq!(
            alert.popup.body,
            "Der Kurier ist an Ihrer Tür und möchte hinein."
        );
        let labels: Vec<&str> = alert
            .popup
            .actions
            .iter()
            .map(|a| a.label.as_str())
            .collect();
        assert_eq!(labels, ["Öffnen", "Live ansehen", "Zutritt sperren"]);
        assert_eq!(Language::from_tag("de-AT"), Language::German);
        assert_eq!(Language::from_tag("fr"), Language::English);
    }

    #[test]
    fn quiet_events_make_no_popup() {
        let quiet = [
            EventData::DeviceSignedIn(doorstep_api::DeviceSignedIn {
                device_id: "k".into(),
                name: "Kitchen".into(),
            }),
            EventData::AddressRemoved(doorstep_api::AddressRemoved { id: "a1".into() }),
            EventData::DeliveryGranted(doorstep_api::DeliveryGranted {
                delivery_id: "d1".into(),
                grant_id: "g1".into(),
                lock_id: "l1".into(),
            }),
        ];
        for what in quiet {
            assert!(alert_for(&event(what), None).is_none());
        }
    }

    fn delivery(state: DeliveryState, approved: bool) -> Delivery {
        Delivery {
            id: "d1".into(),
            tracking_id: "JJD1".into(),
            carrier: "DHL".into(),
            state,
            approved,
            approved_by: None,
            lock_id: Some("l1".into()),
            window: doorstep_api::Window {
                not_before: 0,
                not_after: 1,
            },
            eta: None,
            courier_key: "k".into(),
            shipment: None,
            rerouted_to: None,
            door: None,
            revision: 1,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn shown(popup: VisitPopup) -> Alert {
        match popup {
            VisitPopup::Show(alert) => alert,
            other => panic!("expected a popup, got {other:?}"),
        }
    }

    fn action_ids(alert: &Alert) -> Vec<&str> {
        alert.popup.actions.iter().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn a_visit_offers_approve_only_while_the_household_has_not_said_yes() {
        let step = event(EventData::DeliveryAtDoor(DeliveryStep::new(
            "d1",
            DeliveryState::AtDoor,
        )));
        let asking = shown(visit_popup(
            Language::English,
            &step,
            &delivery(DeliveryState::AtDoor, false),
            0,
        ));
        assert_eq!(
            action_ids(&asking),
            ["default", "approve:d1", "watch:d1", "block:d1"]
        );
        assert!(asking.popup.body.contains("asking to come in"));
        let approved = shown(visit_popup(
            Language::English,
            &step,
            &delivery(DeliveryState::AtDoor, true),
            0,
        ));
        assert_eq!(action_ids(&approved), ["default", "watch:d1", "block:d1"]);
        assert_eq!(
            approved.popup.body,
            "DHL is at your door; the lock will let them in."
        );
        // Once the courier is in, the popup says so.
        let inside = shown(visit_popup(
            Language::English,
            &step,
            &delivery(DeliveryState::DoorOpen, true),
            0,
        ));
        assert_eq!(inside.popup.title, "Courier inside now");
        assert_eq!(inside.popup.urgency, Urgency::Critical);
    }

    #[test]
    fn the_minutes_to_arrival_come_from_the_eta_at_the_time_of_showing() {
        let minute = 60_000;
        let approaching = |eta: i64| {
            event(EventData::DeliveryApproaching(DeliveryStep {
                eta: Some(eta),
                minutes: Some(1),
                ..DeliveryStep::new("d1", DeliveryState::Approaching)
            }))
        };
        let now = 1_000 * minute;
        let d = delivery(DeliveryState::Approaching, true);
        let title = |eta| {
            shown(visit_popup(Language::English, &approaching(eta), &d, now))
                .popup
                .title
        };
        assert_eq!(title(now + 25 * minute), "Courier arriving in 25 min");
        assert_eq!(title(now + 25 * minute - 1), "Courier arriving in 25 min");
        assert_eq!(title(now + 30_000), "Courier arriving in 1 min");
        assert_eq!(title(now - minute), "Courier arriving now");
        // Extremes from outside do not overflow.
        assert_eq!(title(i64::MIN), "Courier arriving now");
        assert!(title(i64::MAX).starts_with("Courier arriving in "));
    }

    #[test]
    fn a_block_says_what_the_lock_confirmed() {
        use doorstep_api::DoorState;
        let blocked = event(EventData::DeliveryBlocked(
            delivery(DeliveryState::Blocked, true).into(),
        ));
        let with_door = |door| {
            let mut d = delivery(DeliveryState::Blocked, true);
            d.door = door;
            shown(visit_popup(Language::English, &blocked, &d, 0))
        };
        let locked = with_door(Some(DoorState::Locked));
        assert_eq!(locked.popup.title, "Blocked — door locked");
        assert_eq!(locked.popup.expires_after, Some(OUTCOME_SHOWN_FOR));
        assert_eq!(with_door(None).popup.title, "Blocked — door locked");
        let open = with_door(Some(DoorState::Open));
        assert_eq!(open.popup.title, "Blocked — the courier is inside");
        assert_eq!(open.popup.expires_after, None);
        let jammed = with_door(Some(DoorState::Jammed));
        assert_eq!(jammed.popup.title, "Blocked, but the door is NOT locked");
        assert_eq!(jammed.popup.urgency, Urgency::Critical);
        assert!(
            jammed.popup.body.contains("NOT be locked"),
            "{}",
            jammed.popup.body
        );
        let failed = block_failed(Language::English, "d1", "the cloud is unreachable");
        assert_eq!(
            failed.popup.body,
            "The cloud is unreachable. Try again, or open Doorstep."
        );
    }

    #[test]
    fn an_answered_question_settles_and_an_expired_visit_is_withdrawn() {
        let approved = event(EventData::DeliveryApproved(
            delivery(DeliveryState::Announced, true).into(),
        ));
        assert!(matches!(
            visit_popup(
                Language::English,
                &approved,
                &delivery(DeliveryState::Announced, true),
                0
            ),
            VisitPopup::Settle(_)
        ));
        let expired = event(EventData::DeliveryExpired(DeliveryStep::new(
            "d1",
            DeliveryState::Expired,
        )));
        assert_eq!(
            visit_popup(
                Language::English,
                &expired,
                &delivery(DeliveryState::Expired, true),
                0
            ),
            VisitPopup::Withdraw
        );
    }

    #[test]
    fn every_visit_popup_has_its_german_words() {
        use doorstep_api::DoorState;
        let states = [
            DeliveryState::Announced,
            DeliveryState::Approaching,
            DeliveryState::AtDoor,
            DeliveryState::Granted,
            DeliveryState::DoorOpen,
            DeliveryState::Completed,
            DeliveryState::Blocked,
            DeliveryState::Rerouted,
            DeliveryState::Failed,
        ];
        let doors = [
            None,
            Some(DoorState::Open),
            Some(DoorState::Closed),
            Some(DoorState::Locked),
            Some(DoorState::Jammed),
            Some(DoorState::Unconfirmed),
        ];
        for state in states {
            for door in doors {
                for approved in [false, true] {
                    let mut d = delivery(state, approved);
                    d.door = door;
                    let step = event(EventData::DeliveryDoor(doorstep_api::DeliveryDoor {
                        delivery_id: "d1".into(),
                        lock_id: "l1".into(),
                        door: door.unwrap_or(DoorState::Locked),
                    }));
                    let text = |l| match visit_popup(l, &step, &d, 0) {
                        VisitPopup::Show(a) | VisitPopup::Settle(a) => {
                            let labels: Vec<String> =
                                a.popup.actions.iter().map(|a| a.label.clone()).collect();
                            Some((a.popup.title, a.popup.body, labels))
                        }
                        VisitPopup::Withdraw => None,
                    };
                    let (Some(en), Some(de)) = (text(Language::English), text(Language::German))
                    else {
                        continue;
                    };
                    assert_ne!(en.0, de.0, "{state:?} {door:?}: title not in German");
                    assert_ne!(en.1, de.1, "{state:?} {door:?}: text not in German");
                    for (en, de) in en.2.iter().zip(&de.2) {
                        assert_ne!(en, de, "{state:?} {door:?}: button not in German");
                    }
                }
            }
        }
    }

    #[test]
    fn a_password_reset_or_a_new_recovery_key_warns_every_device_in_its_language() {
        let by = doorstep_api::DeviceRef {
            device_id: "d9".into(),
        };
        for what in [
            EventData::AccountPasswordReset(by.clone()),
            EventData::AccountRecoveryKeySet(by.clone()),
        ] {
            let happened = event(what);
            let en = alert_for(&happened, None).unwrap();
            let de = alert_in(Language::German, &happened, None).unwrap();
            assert_eq!(en.default, Intent::OpenLog);
            assert_eq!(PopupKind::of_alarm(&happened), PopupKind::Warning);
            assert_ne!(en.popup.title, de.popup.title);
            assert_ne!(en.popup.body, de.popup.body);
        }
    }

    #[test]
    fn a_lock_going_offline_and_coming_back_share_one_popup() {
        let quiet = doorstep_api::LockConnectivity {
            lock_id: "l1".into(),
            name: "Front door".into(),
            since: 0,
        };
        let offline = Event {
            at: 3 * 60_000,
            ..event(EventData::LockOffline(quiet.clone()))
        };
        let online = Event {
            at: 10 * 60_000,
            ..event(EventData::LockOnline(quiet))
        };
        assert_eq!(alarm_topic(&offline), alarm_topic(&online));
        let down = alert_for(&offline, None).unwrap();
        assert_eq!(down.popup.title, "Front door is offline");
        assert!(down.popup.body.contains("for 3 min"), "{}", down.popup.body);
        assert_eq!(down.popup.urgency, Urgency::Critical);
        let back = alert_in(Language::German, &online, None).unwrap();
        assert_eq!(back.popup.title, "Front door ist wieder online");
        assert_eq!(back.popup.body, "Das Schloss war 10 Min. offline.");
        assert_eq!(back.popup.expires_after, Some(OUTCOME_SHOWN_FOR));
    }

    #[test]
    fn every_intent_survives_the_round_trip_through_a_button_id() {
        for intent in [
            Intent::Open("a".into()),
            Intent::WatchLive("a".into()),
            Intent::Block("a".into()),
            Intent::WatchClip("a".into()),
            Intent::Approve("a".into()),
            Intent::OpenLog,
        ] {
            assert_eq!(Intent::from_action(&intent.action_id(), None), Some(intent));
        }
    }
}

#[cfg(test)]
mod popup_kind_tests {
    use super::*;

    #[test]
    fn a_visit_popup_is_of_the_kind_of_the_state_it_is_in_and_muting_is_per_kind() {
        use doorstep_api::DeliveryState as S;
        assert_eq!(PopupKind::of_visit(S::Announced), PopupKind::OnTheWay);
        assert_eq!(PopupKind::of_visit(S::DoorOpen), PopupKind::AtTheDoor);
        assert_eq!(PopupKind::of_visit(S::Blocked), PopupKind::Outcome);
        let muted = MutedPopups::new([PopupKind::OnTheWay]);
        assert!(!muted.shows(PopupKind::OnTheWay) && muted.shows(PopupKind::AtTheDoor));
        muted.set(PopupKind::OnTheWay, true);
        muted.set(PopupKind::Guest, false);
        assert_eq!(muted.off(), vec![PopupKind::Guest]);
    }
}
