use serde::{Deserialize, Serialize};

use crate::EventKind;

/// One entry as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema, ts_rs::TS)]
pub struct AuditEntry {
    /// When.
    pub at: i64,
    /// `device:<id>`, `carrier:<id>`, `lock:<id>` or `system`.
    pub actor: String,
    /// The device, when a household device acted.
    pub device_id: Option<String>,
    /// Its name at the time of reading.
    pub device_name: Option<String>,
    /// What was done, e.g. `delivery.announce`, or what happened, e.g. `delivery.blocked`.
    pub action: AuditAction,
    /// What it was done to.
    pub object_id: Option<String>,
    /// A sentence.
    pub detail: String,
}

/// What an audit line records: something a party asked for, or an event the
/// cloud raised as it acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(untagged)]
pub enum AuditAction {
    /// A request.
    Did(AuditVerb),
    /// An event, logged under its kind.
    Happened(EventKind),
    /// A name this build does not know (written by a newer cloud).
    #[ts(skip)]
    Other(String),
}

impl AuditAction {
    /// Its name as stored and sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Did(verb) => verb.as_str(),
            Self::Happened(kind) => kind.as_str(),
            Self::Other(name) => name,
        }
    }

    /// The action with this name.
    pub fn from_name(name: &str) -> Self {
        AuditVerb::from_name(name)
            .map(Self::Did)
            .or_else(|| EventKind::from_name(name).map(Self::Happened))
            .unwrap_or_else(|| Self::Other(name.to_owned()))
    }
}

/// One string of the names this cloud writes (`Other` is only for reading what a
/// newer one wrote; as a member of a `oneOf` it would match every name twice).
impl utoipa::PartialSchema for AuditAction {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let names = AuditVerb::ALL
            .iter()
            .map(|verb| verb.as_str())
            .chain(EventKind::ALL.iter().map(|kind| kind.as_str()));
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "What was done (a request) or what happened (the event it raised).",
            ))
            .enum_values(Some(names))
            .into()
    }
}

impl utoipa::ToSchema for AuditAction {
    fn name() -> std::borrow::Cow<'static, str> {
        "AuditAction".into()
    }
}

impl From<AuditVerb> for AuditAction {
    fn from(verb: AuditVerb) -> Self {
        Self::Did(verb)
    }
}

impl From<EventKind> for AuditAction {
    fn from(kind: EventKind) -> Self {
        Self::Happened(kind)
    }
}

crate::wire_names! {
    /// What a party asked the cloud to do.
    pub enum AuditVerb {
        /// A device of another household named one of this household's objects.
        AccessForeignRefused = "access.foreign_refused",
        /// A household was created.
        AccountCreate = "account.create",
        /// Two-factor sign-in was turned on.
        AccountTotpOn = "account.totp_on",
        /// An alternate address was added.
        AddressAdd = "address.add",
        /// An alternate address was removed.
        AddressRemove = "address.remove",
        /// A carrier announced a shipment.
        DeliveryAnnounce = "delivery.announce",
        /// The cloud issued a grant to a courier.
        DeliveryGrant = "delivery.grant",
        /// A device signed in.
        DeviceSignIn = "device.sign_in",
        /// A device was signed out.
        DeviceSignOut = "device.sign_out",
        /// A guest was invited.
        GuestAdd = "guest.add",
        /// An invitation code was made for a guest.
        GuestInvite = "guest.invite",
        /// The cloud issued a grant to a guest.
        GuestGrant = "guest.grant",
        /// A guest was revoked.
        GuestRevoke = "guest.revoke",
        /// A delivery policy was signed.
        HouseholdPolicy = "household.policy",
        /// The household's settings changed.
        HouseholdSettings = "household.settings",
        /// A lock paired.
        LockPair = "lock.pair",
        /// A pairing code was made.
        LockPairingCode = "lock.pairing_code",
        /// Someone watched a lock's camera live.
        VideoLiveView = "video.live_view",
        /// Someone played a recording.
        VideoPlayback = "video.playback",
        /// Someone deleted a recording.
        VideoDelete = "video.delete",
        /// A device took a still from a camera (a popup's or a thumbnail's picture).
        VideoSnapshot = "video.snapshot",
    }
}
