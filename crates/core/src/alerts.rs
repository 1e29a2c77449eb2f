//! Which events become popups, what they say, and what their buttons mean.
//!
//! A button's id encodes a typed [`Intent`] (`block:<delivery>`), so a click
//! coming back from the notification server turns into something the shell can act
//! on — navigate, or block — without parsing text.

use doorstep_api::{Delivery, Event, EventData};

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
        "The lock refused to open: {reason}." => "Das Schloss hat nicht geöffnet: {reason}.",
        _ => return None,
    })
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
            Some(Alert {
                popup: Popup::new(
                    say(l, "Someone was let in that you were not told of", &[]),
                    say(
                        l,
                        "The lock opened for {why}. Check the door and the recording.",
                        &[("why", &why)],
                    ),
                )
                .urgency(Urgency::Critical)
                .with_action("default", say(l, "Open", &[])),
                default: Intent::OpenLog,
            })
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
            Some(Alert {
                popup: Popup::new(
                    say(l, "Guests keep their old time zone", &[]),
                    say(
                        l,
                        "The hours of {names} are still in the old time zone. Set them again if they should follow the move.",
                        &[("names", &names)],
                    ),
                )
                .with_action("default", say(l, "Open", &[])),
                default: Intent::OpenLog,
            })
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
        EventData::LockRebooted(rebooted) => {
            let open = rebooted.detail.door == Some(doorstep_api::DoorPosition::Open);
            let body = if open {
                "It locked itself as it started; its sensor says the door is open."
            } else {
                "It locked itself as it started."
            };
            Some(Alert {
                popup: Popup::new(say(l, "The lock restarted", &[]), say(l, body, &[]))
                    .with_action("default", say(l, "Open", &[])),
                default: Intent::OpenLog,
            })
        }
        EventData::LockEntryRefused(refused) => {
            let reason = refused
                .detail
                .reason
                .as_deref()
                .unwrap_or("no reason given");
            Some(Alert {
                popup: Popup::new(
                    say(l, "Entry refused at the door", &[]),
                    say(
                        l,
                        "The lock refused to open: {reason}.",
                        &[("reason", reason)],
                    ),
                )
                .with_action("default", say(l, "Open", &[])),
                default: Intent::OpenLog,
            })
        }
        _ => None,
    }
}

fn alarm(l: Language, title: &str, body: &str) -> Alert {
    Alert {
        popup: Popup::new(say(l, title, &[]), say(l, body, &[]))
            .urgency(Urgency::Critical)
            .with_action("default", say(l, "Open", &[])),
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
        Some(reason) if !reason.is_empty() => {
            let mut sentence = reason.to_owned();
            if let Some(first) = sentence.get(..1) {
                sentence.replace_range(..1, &first.to_uppercase());
            }
            format!("{}.", sentence.trim_end_matches('.'))
        }
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
