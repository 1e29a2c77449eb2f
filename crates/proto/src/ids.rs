//! Identifiers of the things signed objects talk about. They are opaque strings
//! chosen by the cloud (UUIDs); the types keep one kind from standing in for another.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[doc = $doc:literal])* $name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    )*};
}

id_type! {
    /// A household: the account its members share.
    HouseholdId;
    /// One signed-in desktop (or the lock, or the camera).
    DeviceId;
    /// One lock (front door, garage).
    LockId;
    /// One announced shipment.
    DeliveryId;
    /// One grant the cloud issued.
    GrantId;
    /// A named guest (cleaner, dog sitter).
    GuestId;
}
