//! The household's event log: what happened, typed per kind.
//!
//! On the wire an event is `{seq, at, device_id, kind, data}`; `kind` names the
//! variant of [`EventData`] and `data` is its payload. Every kind's name is written
//! once, in [`event_kinds!`] below; everything else matches on the enum.

use serde::{Deserialize, Serialize};

use crate::{Address, Delivery, DeliveryState, DoorState, Guest, ReportDetail, ReportKind};

/// One event as clients receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct Event {
    /// Position in the household's log: 1, 2, 3, … without gaps.
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// The household device that caused it, if one did.
    pub device_id: Option<String>,
    /// What happened: `kind` and its `data`.
    #[serde(flatten)]
    #[ts(flatten)]
    pub what: EventData,
}

impl Event {
    /// Its kind's name, e.g. `delivery.announced`.
    pub fn kind(&self) -> &str {
        self.what.name()
    }

    /// The delivery this event is about, if it is about one.
    pub fn delivery_id(&self) -> Option<&str> {
        self.what.delivery_id()
    }

    /// Whether this event signs out the device `device_id` (its streams close).
    pub fn signs_out(&self, device_id: &str) -> bool {
        matches!(&self.what, EventData::DeviceSignedOut(out) if out.device_id == device_id)
    }
}

/// A page of events.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventPage {
    /// Oldest first.
    pub events: Vec<Event>,
    /// The household's newest `seq` at the time of reading.
    pub last_seq: i64,
}

macro_rules! event_kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident($payload:ty) = $name:tt, )*) => {
        /// What happened, one variant per kind, each with its payload.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
        #[serde(tag = "kind", content = "data")]
        pub enum EventData {
            $( $(#[doc = $doc])* #[serde(rename = $name)] $variant($payload), )*
            /// A kind this build does not know (a newer cloud, or a line stored by
            /// an older one in another shape): listed, never acted on.
            #[serde(untagged)]
            #[ts(skip)]
            Unknown(UnknownEvent),
        }

        /// The OpenAPI shape of [`EventData`]: the known kinds only. `Unknown` is how a
        /// reader keeps what a newer cloud sends; this cloud sends none, and as an
        /// untagged member of `oneOf` it would match every event.
        #[derive(Serialize, utoipa::ToSchema)]
        #[serde(tag = "kind", content = "data")]
        #[schema(as = EventData)]
        #[allow(dead_code, reason = "only its schema is used")]
        enum EventDataSchema {
            $( $(#[doc = $doc])* #[serde(rename = $name)] $variant($payload), )*
        }

        impl utoipa::PartialSchema for EventData {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <EventDataSchema as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for EventData {
            fn name() -> std::borrow::Cow<'static, str> {
                <EventDataSchema as utoipa::ToSchema>::name()
            }

            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                <EventDataSchema as utoipa::ToSchema>::schemas(schemas)
            }
        }

        crate::wire_names! {
            /// The kinds of [`EventData`], without payloads.
            pub enum EventKind {
                $( $(#[doc = $doc])* $variant = $name, )*
            }
        }

        impl EventData {
            /// Reads a stored event: its kind and payload as written by
            /// [`Self::payload`]; a kind this build does not know, or a payload not
            /// in its shape, is kept as [`Self::Unknown`].
            pub fn from_stored(kind: &str, payload: &str) -> Self {
                let known = match kind {
                    $($name => serde_json::from_str(payload).ok().map(Self::$variant),)*
                    _ => None,
                };
                known.unwrap_or_else(|| {
                    Self::Unknown(UnknownEvent {
                        kind: kind.to_owned(),
                        data: serde_json::from_str(payload).unwrap_or_default(),
                    })
                })
            }

            /// Its kind, when this build knows it.
            pub fn kind(&self) -> Option<EventKind> {
                match self {
                    $(Self::$variant(_) => Some(EventKind::$variant),)*
                    Self::Unknown(_) => None,
                }
            }
        }
    };
}

event_kinds! {
    /// A carrier announced a shipment.
    DeliveryAnnounced(DeliverySnapshot) = "delivery.announced",
    /// A household device approved it.
    DeliveryApproved(DeliverySnapshot) = "delivery.approved",
    /// A household device blocked it.
    DeliveryBlocked(DeliverySnapshot) = "delivery.blocked",
    /// A household device sent it to another address.
    DeliveryRerouted(DeliverySnapshot) = "delivery.rerouted",
    /// The courier is a few minutes away (`eta`, `minutes`).
    DeliveryApproaching(DeliveryStep) = "delivery.approaching",
    /// The courier is at the door.
    DeliveryAtDoor(DeliveryStep) = "delivery.at_door",
    /// The cloud issued the lock a grant for the courier.
    DeliveryGranted(DeliveryGranted) = "delivery.granted",
    /// The door opened for the courier.
    DeliveryDoorOpen(DeliveryStep) = "delivery.door_open",
    /// The lock confirmed the bolt thrown after the courier left.
    DeliveryCompleted(DeliveryStep) = "delivery.completed",
    /// The entry failed (`reason`).
    DeliveryFailed(DeliveryStep) = "delivery.failed",
    /// A grant went unused; the courier may ask again (`reason`).
    DeliveryGrantLapsed(DeliveryStep) = "delivery.grant_lapsed",
    /// The window ended with nobody inside.
    DeliveryExpired(DeliveryStep) = "delivery.expired",
    /// What the lock says about the door during the entry.
    DeliveryDoor(DeliveryDoor) = "delivery.door",
    /// The camera went silent during an entry.
    CameraFeedLost(CameraFeed) = "camera.feed_lost",
    /// The camera is back.
    CameraFeedRestored(CameraFeed) = "camera.feed_restored",
    /// A lock joined the household.
    LockPaired(LockPaired) = "lock.paired",
    /// The lock did not confirm the bolt thrown in time: the door may NOT be locked.
    LockRelockUnconfirmed(RelockUnconfirmed) = "lock.relock_unconfirmed",
    /// The lock's clock disagrees with the cloud's.
    LockClockOff(LockClockOff) = "lock.clock_off",
    /// Nothing heard from the lock for longer than the cloud's alarm time.
    LockOffline(LockConnectivity) = "lock.offline",
    /// The lock is heard from again.
    LockOnline(LockConnectivity) = "lock.online",
    /// The lock is alive but its camera is silent or not recording.
    CameraOffline(LockConnectivity) = "camera.offline",
    /// The camera records again.
    CameraOnline(LockConnectivity) = "camera.online",
    /// The lock restarted.
    LockRebooted(LockReported) = "lock.rebooted",
    /// The lock refused the cloud's time.
    LockClockUntrusted(LockReported) = "lock.clock_untrusted",
    /// The lock refused a message on its channel (a forgery, or a breached cloud).
    LockMessageRefused(LockReported) = "lock.message_refused",
    /// The lock's journal on disk was older than what it had uploaded.
    LockJournalRewound(LockReported) = "lock.journal_rewound",
    /// The motor did not move: the door is NOT locked.
    LockJammed(LockReported) = "lock.jammed",
    /// The door opened with the bolt thrown.
    LockForced(LockReported) = "lock.forced",
    /// The door stayed open too long.
    LockAjar(LockReported) = "lock.ajar",
    /// The lock refused an entry.
    LockEntryRefused(LockReported) = "lock.entry_refused",
    /// An entry the household was not told of.
    LockUnexpectedEntry(UnexpectedEntry) = "lock.unexpected_entry",
    /// The lock's journal skipped numbers.
    LockEventGap(EventGap) = "lock.event_gap",
    /// The lock reported a different line under a number it had used.
    LockJournalConflict(JournalConflict) = "lock.journal_conflict",
    /// A guest was invited.
    GuestAdded(Guest) = "guest.added",
    /// A guest's invitation was revoked.
    GuestRevoked(GuestRef) = "guest.revoked",
    /// A guest redeemed their invitation code; a household device signs them in.
    GuestRedeemed(GuestRedeemed) = "guest.redeemed",
    /// A guest was let in.
    GuestGranted(GuestGranted) = "guest.granted",
    /// A guest was refused.
    GuestRefused(GuestRefused) = "guest.refused",
    /// The door opened for a guest.
    GuestDoorOpen(GuestVisitStep) = "guest.door_open",
    /// The door closed behind a guest.
    GuestDoorClosed(GuestVisitStep) = "guest.door_closed",
    /// The lock confirmed the bolt thrown after a guest's visit.
    GuestVisitEnded(GuestVisitStep) = "guest.visit_ended",
    /// A guest's visit ended with the door NOT locked.
    GuestDoorNotLocked(GuestVisitStep) = "guest.door_not_locked",
    /// Guests whose hours are in another time zone than the household's new one.
    GuestsTimeZoneDiffers(GuestsTimeZoneDiffers) = "guests.time_zone_differs",
    /// A device signed in.
    DeviceSignedIn(DeviceSignedIn) = "device.signed_in",
    /// A device confirmed its sign-in.
    DeviceConfirmed(DeviceRef) = "device.confirmed",
    /// A device was signed out.
    DeviceSignedOut(DeviceSignedOut) = "device.signed_out",
    /// The password was reset with the recovery key; the device is the one signed in by it.
    AccountPasswordReset(DeviceRef) = "account.password_reset",
    /// A new recovery key was made on a device; the one before no longer works.
    AccountRecoveryKeySet(DeviceRef) = "account.recovery_key_set",
    /// An alternate address was added.
    AddressAdded(Address) = "address.added",
    /// An alternate address was removed.
    AddressRemoved(AddressRemoved) = "address.removed",
    /// The household's time zone or lead time changed.
    HouseholdSettingsChanged(SettingsChanged) = "household.settings_changed",
    /// A new delivery policy was signed.
    HouseholdPolicyChanged(PolicyChanged) = "household.policy_changed",
}

impl EventData {
    /// Its kind's name (an unknown kind's own).
    pub fn name(&self) -> &str {
        match (self.kind(), self) {
            (Some(kind), _) => kind.as_str(),
            (None, Self::Unknown(unknown)) => &unknown.kind,
            (None, _) => "",
        }
    }

    /// Its payload, as stored and sent under `data`.
    pub fn payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("data").unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }

    /// The delivery after a household's or carrier's action, when the event carries it.
    pub fn snapshot(&self) -> Option<&DeliverySnapshot> {
        match self {
            Self::DeliveryAnnounced(d)
            | Self::DeliveryApproved(d)
            | Self::DeliveryBlocked(d)
            | Self::DeliveryRerouted(d) => Some(d),
            _ => None,
        }
    }

    /// The step, when the event moved a delivery on (timers, lock reports).
    pub fn step(&self) -> Option<&DeliveryStep> {
        match self {
            Self::DeliveryApproaching(s)
            | Self::DeliveryAtDoor(s)
            | Self::DeliveryDoorOpen(s)
            | Self::DeliveryCompleted(s)
            | Self::DeliveryFailed(s)
            | Self::DeliveryGrantLapsed(s)
            | Self::DeliveryExpired(s) => Some(s),
            _ => None,
        }
    }

    /// The journal line, when the event reports one the household hears of.
    pub fn lock_report(&self) -> Option<&LockReported> {
        match self {
            Self::LockRebooted(r)
            | Self::LockClockUntrusted(r)
            | Self::LockMessageRefused(r)
            | Self::LockJournalRewound(r)
            | Self::LockJammed(r)
            | Self::LockForced(r)
            | Self::LockAjar(r)
            | Self::LockEntryRefused(r) => Some(r),
            _ => None,
        }
    }

    /// The delivery this is about, if it is about one.
    pub fn delivery_id(&self) -> Option<&str> {
        if let Some(snapshot) = self.snapshot() {
            return Some(&snapshot.delivery_id);
        }
        if let Some(step) = self.step() {
            return Some(&step.delivery_id);
        }
        if let Some(report) = self.lock_report() {
            return report.delivery_id.as_deref();
        }
        match self {
            Self::DeliveryGranted(g) => Some(&g.delivery_id),
            Self::DeliveryDoor(d) => Some(&d.delivery_id),
            Self::CameraFeedLost(f) | Self::CameraFeedRestored(f) => Some(&f.delivery_id),
            Self::LockRelockUnconfirmed(r) => Some(&r.delivery_id),
            Self::LockUnexpectedEntry(e) => e.delivery_id.as_deref(),
            _ => None,
        }
    }

    /// The whole delivery, when the event carries it.
    pub fn delivery(&self) -> Option<&Delivery> {
        self.snapshot().map(|snapshot| &snapshot.delivery)
    }

    /// The state the delivery moved to, when the event says.
    pub fn delivery_state(&self) -> Option<DeliveryState> {
        self.step()
            .map(|step| step.state)
            .or_else(|| self.delivery().map(|d| d.state))
            .or_else(|| matches!(self, Self::DeliveryGranted(_)).then_some(DeliveryState::Granted))
    }

    /// The lock this is about, if it is about one.
    pub fn lock_id(&self) -> Option<&str> {
        if let Some(snapshot) = self.snapshot() {
            return snapshot.delivery.lock_id.as_deref();
        }
        if let Some(step) = self.step() {
            return step.lock_id.as_deref();
        }
        if let Some(report) = self.lock_report() {
            return Some(&report.lock_id);
        }
        match self {
            Self::DeliveryGranted(g) => Some(&g.lock_id),
            Self::DeliveryDoor(d) => Some(&d.lock_id),
            Self::CameraFeedLost(f) | Self::CameraFeedRestored(f) => Some(&f.lock_id),
            Self::LockPaired(p) => Some(&p.lock_id),
            Self::LockRelockUnconfirmed(r) => Some(&r.lock_id),
            Self::LockClockOff(c) => Some(&c.lock_id),
            Self::LockOffline(c)
            | Self::LockOnline(c)
            | Self::CameraOffline(c)
            | Self::CameraOnline(c) => Some(&c.lock_id),
            Self::LockUnexpectedEntry(e) => Some(&e.lock_id),
            Self::LockEventGap(g) => Some(&g.lock_id),
            Self::LockJournalConflict(c) => Some(&c.lock_id),
            Self::GuestGranted(g) => Some(&g.lock_id),
            Self::GuestDoorOpen(v)
            | Self::GuestDoorClosed(v)
            | Self::GuestVisitEnded(v)
            | Self::GuestDoorNotLocked(v) => Some(&v.lock_id),
            _ => None,
        }
    }
}

/// A kind this build does not know, kept as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnknownEvent {
    /// Its kind's name.
    pub kind: String,
    /// Its payload.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The whole delivery after a household's or carrier's action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeliverySnapshot {
    /// The delivery (also its `id`).
    pub delivery_id: String,
    /// All of it.
    #[serde(flatten)]
    #[ts(flatten)]
    pub delivery: Delivery,
}

impl From<Delivery> for DeliverySnapshot {
    fn from(delivery: Delivery) -> Self {
        Self {
            delivery_id: delivery.id.clone(),
            delivery,
        }
    }
}

/// A delivery moved on by the cloud's timers or the lock's reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeliveryStep {
    /// The delivery.
    pub delivery_id: String,
    /// Its state now.
    pub state: DeliveryState,
    /// The lock, when one was involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub lock_id: Option<String>,
    /// Why, for failures and lapsed grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    /// `delivery.approaching`: the expected arrival (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub eta: Option<i64>,
    /// `delivery.approaching`: minutes until then, rounded up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub minutes: Option<i64>,
}

impl DeliveryStep {
    /// `delivery_id` moved to `state`, with nothing more to say.
    pub fn new(delivery_id: impl Into<String>, state: DeliveryState) -> Self {
        Self {
            delivery_id: delivery_id.into(),
            state,
            lock_id: None,
            reason: None,
            eta: None,
            minutes: None,
        }
    }
}

/// The cloud issued a grant for a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeliveryGranted {
    /// The delivery.
    pub delivery_id: String,
    /// The grant.
    pub grant_id: String,
    /// The lock it opens.
    pub lock_id: String,
}

/// The door during a delivery's entry, as the lock reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeliveryDoor {
    /// The delivery.
    pub delivery_id: String,
    /// The lock.
    pub lock_id: String,
    /// The door now.
    pub door: DoorState,
}

/// The camera's feed during an entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct CameraFeed {
    /// The delivery being entered.
    pub delivery_id: String,
    /// The lock whose camera it is.
    pub lock_id: String,
    /// The last heartbeat the cloud received (ms), if any.
    pub last_heartbeat_at: Option<i64>,
}

/// A lock joined the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct LockPaired {
    /// The lock.
    pub lock_id: String,
    /// Its name.
    pub name: String,
    /// `door` or `garage`.
    pub kind: String,
}

/// The bolt was not confirmed thrown in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct RelockUnconfirmed {
    /// The lock.
    pub lock_id: String,
    /// The delivery it was entering.
    pub delivery_id: String,
    /// The door's last reported state.
    pub last_reported: String,
}

/// The lock's clock disagrees with the cloud's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct LockClockOff {
    /// The lock.
    pub lock_id: String,
    /// What was refused, in a sentence.
    pub detail: String,
}

/// A lock, or its camera, went quiet or came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct LockConnectivity {
    /// The lock.
    pub lock_id: String,
    /// Its name ("Front door").
    pub name: String,
    /// Offline: when it was last heard (ms); back online: since when it was quiet.
    pub since: i64,
}

/// A line of the lock's journal the household hears of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct LockReported {
    /// The lock.
    pub lock_id: String,
    /// The delivery it concerns, if any.
    #[serde(default)]
    pub delivery_id: Option<String>,
    /// When, by the lock's clock (ms).
    pub at: i64,
    /// What the lock said beside the kind.
    #[ts(type = "Record<string, unknown>")]
    pub detail: ReportDetail,
}

/// An entry the household was not told of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct UnexpectedEntry {
    /// The lock.
    pub lock_id: String,
    /// The delivery the lock named, if any.
    #[serde(default)]
    pub delivery_id: Option<String>,
    /// The guest the lock named, if any.
    #[serde(default)]
    pub guest_id: Option<String>,
    /// When, by the lock's clock (ms).
    pub at: i64,
    /// Why it was unexpected, in a sentence.
    pub reason: String,
    /// What the lock said.
    #[ts(type = "Record<string, unknown>")]
    pub detail: ReportDetail,
}

/// Journal numbers the lock skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct EventGap {
    /// The lock.
    pub lock_id: String,
    /// The first missing number.
    pub missing_from: i64,
    /// The last missing number.
    pub missing_to: i64,
}

/// A journal number reused for a different line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct JournalConflict {
    /// The lock.
    pub lock_id: String,
    /// The number.
    pub seq: i64,
    /// The kind of the new line.
    pub kind: ReportKind,
}

/// A guest, by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestRef {
    /// The guest.
    pub guest_id: String,
}

/// A guest redeemed their invitation code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestRedeemed {
    /// The code's name (its first two groups).
    pub invitation_id: String,
    /// The guest's id to be.
    pub guest_id: String,
    /// Their name.
    pub name: String,
}

/// A guest was let in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestGranted {
    /// The guest.
    pub guest_id: String,
    /// Their name.
    pub name: String,
    /// The lock.
    pub lock_id: String,
    /// The visit this starts.
    pub visit_id: String,
    /// The grant.
    pub grant_id: String,
}

/// A guest was refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestRefused {
    /// The guest.
    pub guest_id: String,
    /// Their name.
    pub name: String,
    /// Why, in a sentence.
    pub reason: String,
}

/// A guest's visit moved on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestVisitStep {
    /// The guest.
    pub guest_id: String,
    /// The visit.
    pub visit_id: String,
    /// The lock.
    pub lock_id: String,
    /// What happened, in a sentence.
    pub detail: String,
}

/// Guests whose hours are in another time zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestsTimeZoneDiffers {
    /// The household's zone now.
    pub time_zone: String,
    /// The guests whose hours stay in their own.
    pub guests: Vec<GuestInZone>,
}

/// A guest whose hours are in another zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct GuestInZone {
    /// The guest.
    pub guest_id: String,
    /// Their name.
    pub name: String,
    /// The zone their hours are in.
    pub time_zone: String,
}

/// A device signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeviceSignedIn {
    /// The device.
    pub device_id: String,
    /// Its name.
    pub name: String,
}

/// A device, by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeviceRef {
    /// The device.
    pub device_id: String,
}

/// A device was signed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct DeviceSignedOut {
    /// The device.
    pub device_id: String,
    /// Why, in a few words.
    pub reason: String,
}

/// An address was removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AddressRemoved {
    /// The address.
    pub id: String,
}

/// The household's settings changed (only what changed is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct SettingsChanged {
    /// The new time zone.
    pub time_zone: Option<String>,
    /// The new lead time.
    pub lead_time_minutes: Option<i64>,
}

/// A new delivery policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct PolicyChanged {
    /// Its version.
    pub version: i64,
    /// The carriers it admits.
    pub carriers: Vec<String>,
    /// The locks it covers.
    pub locks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_name_and_round_trips_through_storage() {
        let names: std::collections::HashSet<&str> =
            EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), EventKind::ALL.len());
        for kind in EventKind::ALL {
            assert_eq!(EventKind::from_name(kind.as_str()), Some(*kind));
        }
        let gap = EventData::LockEventGap(EventGap {
            lock_id: "l1".into(),
            missing_from: 2,
            missing_to: 3,
        });
        let stored = EventData::from_stored(gap.name(), &gap.payload().to_string());
        assert_eq!(stored, gap);
        assert_eq!(stored.lock_id(), Some("l1"));
    }

    #[test]
    fn an_unknown_or_misshapen_kind_is_kept_not_refused() {
        let newer = EventData::from_stored("lock.melted", r#"{"lock_id":"l1"}"#);
        assert_eq!(newer.kind(), None);
        assert_eq!(newer.name(), "lock.melted");
        let odd = EventData::from_stored("lock.event_gap", r#"{"lock_id":"l1"}"#);
        assert_eq!((odd.kind(), odd.name()), (None, "lock.event_gap"));
        // And an event reads the same from the wire as it was written.
        let event = Event {
            seq: 1,
            at: 2,
            device_id: None,
            what: newer,
        };
        let wire = serde_json::to_value(&event).unwrap();
        assert_eq!(wire["kind"], "lock.melted");
        assert_eq!(wire["data"]["lock_id"], "l1");
        assert_eq!(serde_json::from_value::<Event>(wire).unwrap(), event);
    }
}
