//! The operator's interface: what `doorstep-cloud carrier-add` and `carrier-key-add`
//! do, for that command, the demo home and tests. Carriers are registered by whoever
//! runs the cloud, never over the public API, so this reaches the database directly
//! (the rest of the cloud's modules are its own business).

use crate::db::Db;

pub use crate::carriers::NewCarrier;

/// The operator's hands on one cloud's database.
#[derive(Debug, Clone, Copy)]
pub struct Operator<'a> {
    db: &'a Db,
}

impl<'a> Operator<'a> {
    /// On `db` (the binary opens it from the settings; a running cloud lends its own).
    pub fn new(db: &'a Db) -> Self {
        Self { db }
    }

    /// Registers a carrier; its API key and webhook secret are shown once.
    pub async fn add_carrier(
        &self,
        name: &str,
        webhook_url: Option<&str>,
        allow_private_webhook: bool,
        now: i64,
    ) -> anyhow::Result<NewCarrier> {
        crate::carriers::create(self.db, name, webhook_url, allow_private_webhook, now).await
    }

    /// Adds a shipment-signing key to a carrier (rotation keeps the old ones).
    pub async fn add_carrier_key(
        &self,
        name: &str,
        key: &doorstep_proto::PublicKey,
        now: i64,
    ) -> anyhow::Result<()> {
        crate::carriers::add_key(self.db, name, key, now).await
    }

    /// Points a carrier's reroute notices at `webhook_url`; returns its webhook secret.
    pub async fn set_carrier_webhook(
        &self,
        name: &str,
        webhook_url: &str,
    ) -> anyhow::Result<String> {
        crate::carriers::set_webhook(self.db, name, webhook_url).await
    }
}
