//! Which events become popups, what they say, and what their buttons mean.
//!
//! A button's id encodes a typed [`Intent`] (`block:<delivery>`), so a click
//! coming back from the notification server turns into something the shell can act
//! on — navigate, or block — without parsing text.

use doorstep_api::{Delivery, Event};

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

/// The popup for `event`, if it deserves one. `delivery` is the delivery it is about.
pub fn alert_for(event: &Event, delivery: Option<&Delivery>) -> Option<Alert> {
    let delivery_id = delivery
        .map(|d| d.id.clone())
        .or_else(|| text(event, "delivery_id"))
        .or_else(|| text(event, "id"));
    let carrier = delivery.map_or("The courier", |d| d.carrier.as_str());
    let for_delivery = |popup: Popup, default: fn(String) -> Intent| {
        let id = delivery_id.clone()?;
        let mut popup = popup;
        // The body click first: some servers treat the first action as the default.
        popup.actions.insert(
            0,
            PopupAction {
                id: "default".into(),
                label: "Open".into(),
            },
        );
        Some(Alert {
            popup,
            default: default(id),
        })
    };
    let id = delivery_id.clone().unwrap_or_default();
    match event.kind.as_str() {
        "delivery.approaching" => {
            let minutes = event
                .data
                .get("minutes")
                .and_then(serde_json::Value::as_i64);
            let title = match minutes {
                Some(1) => "Courier arriving in 1 min".to_owned(),
                Some(m) => format!("Courier arriving in {m} min"),
                None => "Courier arriving soon".to_owned(),
            };
            for_delivery(
                Popup::new(title, format!("{carrier} is on the way to your door."))
                    .with_action(Intent::Block(id.clone()).action_id(), "Block access"),
                Intent::Open,
            )
        }
        "delivery.at_door" => for_delivery(
            Popup::new(
                "Courier at the door",
                format!("{carrier} is at your door and asking to come in."),
            )
            .urgency(Urgency::Critical)
            .with_action(Intent::WatchLive(id.clone()).action_id(), "Watch live")
            .with_action(Intent::Block(id.clone()).action_id(), "Block access"),
            Intent::WatchLive,
        ),
        "delivery.completed" => for_delivery(
            Popup::new(
                "Delivered",
                format!("{carrier} left the parcel inside; the door is locked."),
            )
            .with_action(Intent::WatchClip(id.clone()).action_id(), "Watch the clip"),
            Intent::WatchClip,
        ),
        "delivery.announced" if delivery.is_some_and(|d| !d.approved) => for_delivery(
            Popup::new(
                "Delivery announced",
                format!("{carrier} wants to deliver inside. Let them in?"),
            )
            .with_action(Intent::Approve(id.clone()).action_id(), "Approve")
            .with_action(Intent::Block(id.clone()).action_id(), "Decline"),
            Intent::Open,
        ),
        "delivery.failed" => for_delivery(
            Popup::new(
                "Delivery could not be made inside",
                format!(
                    "{} You can reroute it to an alternate address.",
                    failure_sentence(event)
                ),
            ),
            Intent::Open,
        ),
        "camera.feed_lost" => for_delivery(
            Popup::new(
                "Camera lost during delivery",
                "The camera stopped sending while the courier can enter. Block access if in doubt.",
            )
            .urgency(Urgency::Critical)
            .with_action(Intent::Block(id.clone()).action_id(), "Block access"),
            Intent::Open,
        ),
        "lock.jammed" => Some(alarm(
            "Lock jammed",
            "The lock's motor is stuck; check the door.",
        )),
        "lock.forced" => Some(alarm(
            "Door forced open",
            "The door opened while the lock was locked.",
        )),
        "lock.ajar" => Some(alarm(
            "Door left open",
            "The door has been open too long after a visit.",
        )),
        _ => None,
    }
}

fn alarm(title: &str, body: &str) -> Alert {
    Alert {
        popup: Popup::new(title, body)
            .urgency(Urgency::Critical)
            .with_action("default", "Open"),
        default: Intent::OpenLog,
    }
}

fn failure_sentence(event: &Event) -> String {
    match event.data.get("reason").and_then(serde_json::Value::as_str) {
        Some(reason) if !reason.is_empty() => {
            let mut sentence = reason.to_owned();
            if let Some(first) = sentence.get(..1) {
                sentence.replace_range(..1, &first.to_uppercase());
            }
            format!("{}.", sentence.trim_end_matches('.'))
        }
        _ => "The courier could not get in.".to_owned(),
    }
}

fn text(event: &Event, field: &str) -> Option<String> {
    event
        .data
        .get(field)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: serde_json::Value) -> Event {
        Event {
            seq: 1,
            kind: kind.into(),
            at: 0,
            device_id: None,
            data,
        }
    }

    #[test]
    fn at_the_door_offers_watching_and_blocking_and_the_clicks_come_back_typed() {
        let alert = alert_for(
            &event("delivery.at_door", serde_json::json!({ "id": "d1" })),
            None,
        )
        .unwrap();
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
            &event(
                "delivery.approaching",
                serde_json::json!({ "id": "d1", "minutes": 7 }),
            ),
            None,
        )
        .unwrap();
        assert_eq!(alert.popup.title, "Courier arriving in 7 min");
    }

    #[test]
    fn quiet_events_make_no_popup() {
        for kind in ["device.signed_in", "address.added", "delivery.granted"] {
            assert!(alert_for(&event(kind, serde_json::json!({ "id": "d1" })), None).is_none());
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
