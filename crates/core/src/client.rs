//! A signed-in household device: account creation, sign-in and sign-out, and every
//! household action (approve, block, reroute, guests, addresses, policy, devices).
//!
//! Where things are kept:
//! - keyring (namespaced by the app identifier): the session tokens, the household's
//!   private key and this device's key;
//! - `config_dir/account.json`: what is not secret (cloud address, e-mail, ids).
//!
//! Every action is safe to repeat: the cloud makes them idempotent, and the client
//! signs with the household key it unwrapped at sign-in — the password itself is
//! never stored.

use std::path::PathBuf;
use std::sync::Arc;

use doorstep_api::{
    Address, AddressKind, AuditEntry, CarrierKeys, CreateAccount, Delivery, Device, Guest,
    Household, HouseholdChange, KdfParams, Lock, NewAddress, NewDevice, NewPairingCode,
    PairingCode, Policy, SignIn, SignedIn,
};
use doorstep_proto::{
    Clock, DeliveryApproval, DeliveryPolicy, DeviceId, GuestInvitation, GuestSchedule, HouseholdId,
    LockId, LockKind, PinnedCarrier, PublicKey, Revocation, RevocationTarget, Signed, SigningKey,
    SystemClock, TimeWindow, Timestamp, WeeklyHours,
};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::AppPaths;
use crate::cloud::{Cloud, SESSION_ENTRY, Session};
use crate::encoding::{b64, unb64};
use crate::error::{CoreError, CoreResult};
use crate::keys::{PasswordKeys, RecoveryKey};
use crate::secrets::SecretStore;

const HOUSEHOLD_KEY_ENTRY: &str = "household-key";
const DEVICE_KEY_ENTRY: &str = "device-key";
const ACCOUNT_FILE: &str = "account.json";

/// Where the account (cloud, login, device; no secret) is kept.
fn account_file(paths: &AppPaths) -> std::path::PathBuf {
    paths.config_dir().join(ACCOUNT_FILE)
}

/// What this device remembers about its sign-in outside the keyring (nothing secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The cloud's address.
    pub cloud: String,
    /// The shared login.
    pub email: String,
    /// The household.
    pub household_id: String,
    /// This device.
    pub device_id: String,
    /// This device's name.
    pub device_name: String,
    /// The household's public key, pinned at sign-in.
    pub household_public_key: String,
}

/// What to sign in with.
#[derive(Debug)]
pub struct Credentials {
    /// The cloud's address.
    pub cloud: String,
    /// The shared login.
    pub email: String,
    /// The password; only derived keys leave this device.
    pub password: SecretString,
    /// The authenticator code, when the login has the second factor on.
    pub totp: Option<String>,
    /// What to call this device in the household's device list and log.
    pub device_name: String,
}

/// What a forgotten password is replaced with: the recovery key from paper.
#[derive(Debug)]
pub struct Recovery {
    /// The cloud's address.
    pub cloud: String,
    /// The shared login.
    pub email: String,
    /// The recovery key as typed.
    pub recovery_key: RecoveryKey,
    /// The new password.
    pub new_password: SecretString,
    /// The authenticator code, when the login has the second factor on.
    pub totp: Option<String>,
    /// What to call this device.
    pub device_name: String,
}

/// A signed-in device of a household.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
    clock: SharedClock,
}

/// The clock the client's rules read (what it signs, which popups are fresh):
/// the system's unless a test or simulation sets another with [`Client::with_clock`].
#[derive(Clone)]
struct SharedClock(Arc<dyn Clock>);

impl std::fmt::Debug for SharedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedClock")
    }
}

#[derive(Debug)]
struct Inner {
    paths: AppPaths,
    account: Account,
    session: Session,
    store: SecretStore,
    household_key: SigningKey,
    household_public: PublicKey,
}

impl Client {
    /// Creates a new household login with this device as its first device, and its
    /// recovery key, for the person to write down (it is shown once, kept nowhere).
    pub async fn create_account(
        paths: &AppPaths,
        credentials: Credentials,
        time_zone: &str,
    ) -> CoreResult<(Self, RecoveryKey)> {
        let store = ready_store(paths)?;
        let cloud = Cloud::new(&credentials.cloud)?;
        let email = normalise_email(&credentials.email)?;
        check_password(&credentials.password)?;
        check_time_zone(time_zone)?;
        let (kdf_salt, keys) = new_password_keys(&cloud, &email, &credentials.password).await?;
        let household_key = SigningKey::generate();
        let device_key = SigningKey::generate();
        let recovery_key = RecoveryKey::generate();
        let request = CreateAccount {
            email: email.clone(),
            auth_key: keys.auth_key_text().expose_secret().to_owned(),
            kdf_salt,
            household_public_key: household_key.public_key().to_base64(),
            wrapped_household_key: keys.wrap(&household_key, &email),
            time_zone: time_zone.to_owned(),
            device: NewDevice {
                name: credentials.device_name.clone(),
                public_key: device_key.public_key().to_base64(),
            },
            recovery: Some(recovery_setup(&recovery_key, &household_key, &email)),
        };
        let signed_in: SignedIn = cloud
            .call(Method::POST, "/v1/accounts", Some(&request))
            .await?;
        let client = Self::finish_sign_in(
            paths,
            store,
            cloud,
            email,
            credentials.device_name,
            signed_in,
            household_key,
            device_key,
        )?;
        Ok((client, recovery_key))
    }

    /// Sets a new password with the recovery key and signs this device in. The
    /// household key comes out of the seal the recovery key made; the cloud only
    /// checked a proof of the key, and could not have opened the seal.
    pub async fn recover(paths: &AppPaths, recovery: Recovery) -> CoreResult<Self> {
        let store = ready_store(paths)?;
        let cloud = Cloud::new(&recovery.cloud)?;
        let email = normalise_email(&recovery.email)?;
        check_password(&recovery.new_password)?;
        let recovery_auth_key = recovery
            .recovery_key
            .auth_key_text()
            .expose_secret()
            .to_owned();
        let opened: doorstep_api::RecoveryOpened = cloud
            .call(
                Method::POST,
                "/v1/accounts/recovery/open",
                Some(&doorstep_api::OpenRecovery {
                    email: email.clone(),
                    recovery_auth_key: recovery_auth_key.clone(),
                }),
            )
            .await
            .map_err(wrong_recovery_key)?;
        let household_key = recovery
            .recovery_key
            .unwrap(&opened.wrapped_household_key, &email)
            .ok()
            .filter(|key| key.public_key().to_base64() == opened.household_public_key)
            .ok_or_else(|| {
                CoreError::Protocol(
                    "the recovery key did not open the household key the cloud kept: it was damaged or replaced".into(),
                )
            })?;
        let (kdf_salt, keys) = new_password_keys(&cloud, &email, &recovery.new_password).await?;
        let device_key = SigningKey::generate();
        let request = doorstep_api::ResetPassword {
            email: email.clone(),
            recovery_auth_key,
            totp: recovery.totp.as_deref().and_then(authenticator_code),
            auth_key: keys.auth_key_text().expose_secret().to_owned(),
            kdf_salt,
            wrapped_household_key: keys.wrap(&household_key, &email),
            device: NewDevice {
                name: recovery.device_name.clone(),
                public_key: device_key.public_key().to_base64(),
            },
        };
        let signed_in: SignedIn = cloud
            .call(Method::POST, "/v1/accounts/recovery/reset", Some(&request))
            .await
            .map_err(wrong_recovery_key)?;
        if signed_in.household_public_key != opened.household_public_key {
            return Err(CoreError::Protocol(
                "the household key does not match the household's public key".into(),
            ));
        }
        tracing::warn!(household = %signed_in.household_id, "password reset with the recovery key");
        Self::finish_sign_in(
            paths,
            store,
            cloud,
            email,
            recovery.device_name,
            signed_in,
            household_key,
            device_key,
        )
    }

    /// Makes a new recovery key (the one before stops working), for the person to
    /// write down. A sensitive action: needs a recent password on this device.
    pub async fn new_recovery_key(&self) -> CoreResult<RecoveryKey> {
        let recovery_key = RecoveryKey::generate();
        let setup = recovery_setup(
            &recovery_key,
            &self.inner.household_key,
            &self.inner.account.email,
        );
        self.session()
            .call::<_, ()>(Method::PUT, "/v1/accounts/recovery", Some(&setup))
            .await?;
        Ok(recovery_key)
    }

    /// Signs this device in to an existing login.
    pub async fn sign_in(paths: &AppPaths, credentials: Credentials) -> CoreResult<Self> {
        let store = ready_store(paths)?;
        let cloud = Cloud::new(&credentials.cloud)?;
        let email = normalise_email(&credentials.email)?;
        let params = kdf(&cloud, &email).await?;
        let keys = derive(&credentials.password, params).await?;
        let device_key = SigningKey::generate();
        let request = SignIn {
            email: email.clone(),
            auth_key: keys.auth_key_text().expose_secret().to_owned(),
            totp: credentials.totp.as_deref().and_then(authenticator_code),
            device: NewDevice {
                name: credentials.device_name.clone(),
                public_key: device_key.public_key().to_base64(),
            },
        };
        let signed_in: SignedIn = match cloud
            .call(Method::POST, "/v1/sessions", Some(&request))
            .await
        {
            Err(CoreError::Api {
                code: doorstep_api::Code::Unauthenticated,
                ..
            }) => {
                return Err(CoreError::WrongPassword);
            }
            Err(CoreError::Api {
                code: doorstep_api::Code::TotpRequired,
                ..
            }) => {
                return Err(CoreError::TotpRequired);
            }
            other => other?,
        };
        let household_key = keys.unwrap(&signed_in.wrapped_household_key, &email)?;
        if household_key.public_key().to_base64() != signed_in.household_public_key {
            return Err(CoreError::Protocol(
                "the household key does not match the household's public key".into(),
            ));
        }
        Self::finish_sign_in(
            paths,
            store,
            cloud,
            email,
            credentials.device_name,
            signed_in,
            household_key,
            device_key,
        )
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one private step of two public ones"
    )]
    fn finish_sign_in(
        paths: &AppPaths,
        store: SecretStore,
        cloud: Cloud,
        email: String,
        device_name: String,
        signed_in: SignedIn,
        household_key: SigningKey,
        device_key: SigningKey,
    ) -> CoreResult<Self> {
        // Secrets first: an account file without its secrets reads as "signed out",
        // secrets without the file are overwritten by the next sign-in.
        Session::save_tokens(&store, &signed_in.session)?;
        store.set(
            HOUSEHOLD_KEY_ENTRY,
            &SecretString::from(b64(&household_key.to_seed())),
        )?;
        store.set(
            DEVICE_KEY_ENTRY,
            &SecretString::from(b64(&device_key.to_seed())),
        )?;
        let account = Account {
            cloud: cloud.base().to_owned(),
            email,
            household_id: signed_in.household_id,
            device_id: signed_in.device_id,
            device_name,
            household_public_key: signed_in.household_public_key,
        };
        write_json_atomically(&account_file(paths), &account)?;
        // A new sign-in starts a new event history for this device.
        crate::cache::Cache::remove(paths)?;
        tracing::info!(household = %account.household_id, device = %account.device_id, "signed in");
        Self::assemble(
            paths,
            store,
            cloud,
            account,
            signed_in.session,
            household_key,
        )
    }

    /// Whether this computer has a household's sign-in saved: without one, the app
    /// opens on the welcome screen without asking the keyring (the page is told so
    /// before it loads, and draws its first screen without waiting for an answer).
    pub fn has_saved_sign_in(paths: &AppPaths) -> bool {
        account_file(paths).exists()
    }

    /// The device's sign-in from an earlier run, or `None` when it has none.
    pub fn restore(paths: &AppPaths) -> CoreResult<Option<Self>> {
        let file = account_file(paths);
        let account: Account = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| CoreError::local(file.display().to_string(), e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CoreError::local(file.display().to_string(), e)),
        };
        let store = SecretStore::new(paths.app_id());
        let Some(tokens) = Session::load_tokens(&store)? else {
            return Ok(None);
        };
        let Some(seed) = store.get(HOUSEHOLD_KEY_ENTRY)? else {
            return Ok(None);
        };
        let seed: [u8; 32] = unb64(seed.expose_secret())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CoreError::SignedOut {
                detail: "the stored household key is unreadable".into(),
            })?;
        let cloud = Cloud::new(&account.cloud)?;
        Self::assemble(
            paths,
            store,
            cloud,
            account,
            tokens,
            SigningKey::from_seed(&seed),
        )
        .map(Some)
    }

    /// Like [`restore`](Self::restore), but "not signed in" is an error.
    pub fn restore_or_fail(paths: &AppPaths) -> CoreResult<Self> {
        Self::restore(paths)?.ok_or(CoreError::NotSignedIn)
    }

    fn assemble(
        paths: &AppPaths,
        store: SecretStore,
        cloud: Cloud,
        account: Account,
        tokens: doorstep_api::SessionTokens,
        household_key: SigningKey,
    ) -> CoreResult<Self> {
        let household_public = PublicKey::from_base64(&account.household_public_key)
            .map_err(|e| CoreError::Protocol(format!("household public key: {e}")))?;
        paths
            .create_all()
            .map_err(|e| CoreError::local(paths.data_dir().display().to_string(), e))?;
        let session = Session::new(
            cloud,
            store.clone(),
            tokens,
            paths.data_dir().join("session.lock"),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                paths: paths.clone(),
                account,
                session,
                store,
                household_key,
                household_public,
            }),
            clock: SharedClock(Arc::new(SystemClock)),
        })
    }

    /// This client reading `clock` instead of the system's.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            clock: SharedClock(clock),
            ..self
        }
    }

    /// Now, by the client's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.0.read().now
    }

    /// Signs this device out: the cloud ends its session and this computer forgets
    /// the tokens and keys. Works offline too (the local part always happens).
    pub async fn sign_out(self) -> CoreResult<()> {
        let remote: CoreResult<()> = self
            .inner
            .session
            .call::<(), ()>(Method::DELETE, "/v1/sessions/current", None)
            .await;
        forget(&self.inner.paths, &self.inner.store)?;
        match remote {
            Ok(()) | Err(CoreError::SignedOut { .. }) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "the cloud was not told about the sign-out");
                Ok(())
            }
        }
    }

    /// The account record.
    pub fn account(&self) -> &Account {
        &self.inner.account
    }
    /// The app folders.
    pub fn paths(&self) -> &AppPaths {
        &self.inner.paths
    }
    /// The authenticated connection.
    pub fn session(&self) -> &Session {
        &self.inner.session
    }
    /// The household's public key.
    pub fn household_public_key(&self) -> &PublicKey {
        &self.inner.household_public
    }

    pub(crate) fn household(&self) -> HouseholdId {
        HouseholdId(self.inner.account.household_id.clone())
    }
    pub(crate) fn device(&self) -> DeviceId {
        DeviceId(self.inner.account.device_id.clone())
    }

    // ---- reading ----

    /// Every delivery, newest first.
    pub async fn deliveries(&self) -> CoreResult<Vec<Delivery>> {
        self.session().get("/v1/deliveries").await
    }
    /// One delivery.
    pub async fn delivery(&self, id: &str) -> CoreResult<Delivery> {
        self.session()
            .get(&format!("/v1/deliveries/{}", path_part("delivery id", id)?))
            .await
    }
    /// The household's locks.
    pub async fn locks(&self) -> CoreResult<Vec<Lock>> {
        self.session().get("/v1/locks").await
    }
    /// Who did what, newest first; `prefix` filters by action (e.g. `delivery.`).
    pub async fn audit(&self, prefix: Option<&str>, limit: u32) -> CoreResult<Vec<AuditEntry>> {
        let mut url = reqwest::Url::parse("http://x/v1/audit")
            .map_err(|e| CoreError::Invalid(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("limit", &limit.to_string());
        if let Some(prefix) = prefix {
            url.query_pairs_mut().append_pair("action_prefix", prefix);
        }
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        self.session().get(&path).await
    }
    /// The household's settings.
    pub async fn household_settings(&self) -> CoreResult<Household> {
        self.session().get("/v1/household").await
    }
    /// Devices signed in to this login.
    pub async fn devices(&self) -> CoreResult<Vec<Device>> {
        self.session().get("/v1/devices").await
    }
    /// Alternate addresses.
    pub async fn addresses(&self) -> CoreResult<Vec<Address>> {
        self.session().get("/v1/addresses").await
    }
    /// Guests.
    pub async fn guests(&self) -> CoreResult<Vec<Guest>> {
        self.session().get("/v1/guests").await
    }

    /// The standing delivery policy, checked against the household key: a policy the
    /// cloud could have forged is treated as none.
    pub async fn policy(&self) -> CoreResult<Option<DeliveryPolicy>> {
        let policy: Policy = self.session().get("/v1/household/policy").await?;
        Ok(policy.policy.and_then(|text| {
            Signed::<DeliveryPolicy>::from_base64(&text)
                .ok()?
                .verify(&self.inner.household_public)
        }))
    }

    // ---- acting ----

    /// Approves entry for a delivery at `lock` (the only lock when `None`),
    /// for its whole announced window.
    pub async fn approve(&self, delivery_id: &str, lock: Option<&str>) -> CoreResult<Delivery> {
        let delivery = self.delivery(delivery_id).await?;
        let lock = self.pick_lock(lock, delivery.lock_id.as_deref()).await?;
        let window = TimeWindow::new(
            Timestamp(delivery.window.not_before),
            Timestamp(delivery.window.not_after),
        );
        self.send_approval(&delivery, lock, window).await
    }

    pub(crate) async fn send_approval(
        &self,
        delivery: &Delivery,
        lock: LockId,
        window: TimeWindow,
    ) -> CoreResult<Delivery> {
        let courier = PublicKey::from_base64(&delivery.courier_key)
            .map_err(|e| CoreError::Protocol(format!("courier key: {e}")))?;
        let approval = DeliveryApproval {
            household: self.household(),
            delivery: delivery.id.as_str().into(),
            lock,
            carrier: delivery.carrier.clone(),
            courier,
            window,
            device: self.device(),
            approved_at: self.now(),
        };
        self.post_signed(
            Method::POST,
            &format!("/v1/deliveries/{}/approve", delivery.id),
            "approval",
            &approval,
        )
        .await
    }

    /// **Block access**: a household-signed revocation; the lock refuses the courier,
    /// or relocks at once if the door is open. Pressing it twice blocks once.
    pub async fn block(&self, delivery_id: &str) -> CoreResult<Delivery> {
        let delivery = self.delivery(delivery_id).await?;
        let lock = self.pick_lock(None, delivery.lock_id.as_deref()).await?;
        self.send_revocation(
            lock,
            RevocationTarget::Delivery(delivery.id.as_str().into()),
            &format!("/v1/deliveries/{}/block", delivery.id),
        )
        .await
    }

    /// **Reroute** to an alternate address, given by id or by its label.
    pub async fn reroute(&self, delivery_id: &str, address: &str) -> CoreResult<Delivery> {
        let addresses = self.addresses().await?;
        let wanted = address.trim();
        let found = addresses
            .iter()
            .find(|a| a.id == wanted)
            .or_else(|| {
                addresses
                    .iter()
                    .find(|a| a.label.eq_ignore_ascii_case(wanted))
            })
            .ok_or_else(|| {
                let known: Vec<&str> = addresses.iter().map(|a| a.label.as_str()).collect();
                CoreError::Invalid(if known.is_empty() {
                    "there are no alternate addresses yet; add one first (`doorstep addresses add`)"
                        .to_owned()
                } else {
                    format!(
                        "no alternate address {wanted:?}; known: {}",
                        known.join(", ")
                    )
                })
            })?;
        self.session()
            .call(
                Method::POST,
                &format!(
                    "/v1/deliveries/{}/reroute",
                    path_part("delivery id", delivery_id)?
                ),
                Some(&serde_json::json!({ "address_id": found.id })),
            )
            .await
    }

    /// Adds an alternate address.
    pub async fn add_address(
        &self,
        label: &str,
        kind: AddressKind,
        address: &str,
    ) -> CoreResult<Address> {
        self.session()
            .call(
                Method::POST,
                "/v1/addresses",
                Some(&NewAddress {
                    label: label.to_owned(),
                    kind,
                    address: address.to_owned(),
                }),
            )
            .await
    }

    /// Removes an alternate address (by id or label); removing a missing one is fine.
    pub async fn remove_address(&self, address: &str) -> CoreResult<()> {
        let addresses = self.addresses().await?;
        let Some(found) = addresses
            .iter()
            .find(|a| a.id == address || a.label.eq_ignore_ascii_case(address))
        else {
            return Ok(());
        };
        self.session()
            .call::<(), ()>(Method::DELETE, &format!("/v1/addresses/{}", found.id), None)
            .await
    }

    /// Invites a guest holding `guest_key` to the given locks (all when empty).
    pub async fn add_guest(
        &self,
        name: &str,
        guest_key: &str,
        schedule: GuestSchedule,
        locks: &[String],
    ) -> CoreResult<Guest> {
        let guest_key = PublicKey::from_base64(guest_key.trim())
            .map_err(|e| CoreError::Invalid(format!("guest key: {e}")))?;
        check_schedule(&schedule)?;
        let locks = if locks.is_empty() {
            self.locks()
                .await?
                .into_iter()
                .map(|l| LockId(l.id))
                .collect()
        } else {
            locks.iter().map(|l| LockId(l.clone())).collect()
        };
        let invitation = GuestInvitation {
            household: self.household(),
            guest: uuid::Uuid::new_v4().to_string().as_str().into(),
            name: name.to_owned(),
            guest_key,
            locks,
            schedule,
            device: self.device(),
            issued_at: self.now(),
        };
        self.post_signed(Method::POST, "/v1/guests", "invitation", &invitation)
            .await
    }

    /// Revokes a guest (by id or name) on every lock at once.
    pub async fn revoke_guest(&self, guest: &str) -> CoreResult<()> {
        let guests = self.guests().await?;
        let found = guests
            .iter()
            .find(|g| g.id == guest)
            .or_else(|| guests.iter().find(|g| g.name.eq_ignore_ascii_case(guest)))
            .ok_or_else(|| CoreError::Invalid(format!("no guest {guest:?}")))?;
        let lock = found
            .locks
            .first()
            .cloned()
            .ok_or_else(|| CoreError::Protocol("a guest without locks".into()))?;
        self.send_revocation(
            LockId(lock),
            RevocationTarget::Guest(found.id.as_str().into()),
            &format!("/v1/guests/{}/revoke", found.id),
        )
        .await
    }

    /// Signs and stores a new delivery policy (its version one above the current).
    pub async fn set_policy(
        &self,
        carriers: Vec<String>,
        locks: Vec<String>,
        hours: WeeklyHours,
        max_window_minutes: u32,
    ) -> CoreResult<DeliveryPolicy> {
        hours
            .validate()
            .map_err(|e| CoreError::Invalid(format!("hours: {e}")))?;
        if !(1..=24 * 60).contains(&max_window_minutes) {
            return Err(CoreError::Invalid(
                "the longest window must be 1–1440 minutes".into(),
            ));
        }
        let locks = if locks.is_empty() {
            self.locks()
                .await?
                .into_iter()
                .map(|l| LockId(l.id))
                .collect()
        } else {
            locks.into_iter().map(LockId).collect()
        };
        let carriers = self.pin_carriers(&carriers).await?;
        let version = self.policy().await?.map_or(1, |p| p.version + 1);
        let policy = DeliveryPolicy {
            household: self.household(),
            version,
            locks,
            carriers,
            hours,
            max_window_minutes,
            device: self.device(),
            issued_at: self.now(),
        };
        let _: Policy = self
            .post_signed(Method::PUT, "/v1/household/policy", "policy", &policy)
            .await?;
        Ok(policy)
    }

    /// The carriers the cloud knows, by name, for a policy to choose from.
    pub async fn carrier_names(&self) -> CoreResult<Vec<String>> {
        let known: Vec<CarrierKeys> = self
            .session()
            .call::<(), _>(Method::GET, "/v1/carriers", None)
            .await?;
        Ok(known.into_iter().map(|c| c.name).collect())
    }

    /// The shipment-signing keys of the carriers named, to pin in a policy. They come
    /// from the cloud; the household compares the fingerprints shown with the ones
    /// the carrier publishes (docs/signed-formats.md, residual risks).
    async fn pin_carriers(&self, names: &[String]) -> CoreResult<Vec<PinnedCarrier>> {
        let known: Vec<CarrierKeys> = self
            .session()
            .call::<(), _>(Method::GET, "/v1/carriers", None)
            .await?;
        let mut pinned: Vec<PinnedCarrier> = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if pinned.iter().any(|p| p.name == name) {
                continue;
            }
            let carrier = known.iter().find(|c| c.name == name).ok_or_else(|| {
                let names: Vec<&str> = known.iter().map(|c| c.name.as_str()).collect();
                CoreError::Invalid(format!(
                    "no carrier named {name:?}; known: {}",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ))
            })?;
            let keys: Vec<PublicKey> = carrier
                .keys
                .iter()
                .filter_map(|k| PublicKey::from_base64(k).ok())
                .collect();
            if keys.is_empty() {
                return Err(CoreError::Invalid(format!(
                    "carrier {name:?} has no shipment-signing key yet, so a policy could admit none of its parcels"
                )));
            }
            pinned.push(PinnedCarrier {
                name: name.to_owned(),
                keys,
            });
        }
        Ok(pinned)
    }

    /// Moves the home to another time zone (IANA). Guests' hours and the delivery
    /// rules keep the zone they were signed in until they are saved again.
    pub async fn set_time_zone(&self, time_zone: &str) -> CoreResult<Household> {
        let time_zone = time_zone.trim();
        check_time_zone(time_zone)?;
        self.change_household(HouseholdChange {
            time_zone: Some(time_zone.to_owned()),
            lead_time_minutes: None,
        })
        .await
    }

    /// Changes the lead time for "courier arriving" (1–120 minutes).
    pub async fn set_lead_time(&self, minutes: i64) -> CoreResult<Household> {
        self.change_household(HouseholdChange {
            time_zone: None,
            lead_time_minutes: Some(minutes),
        })
        .await
    }

    async fn change_household(&self, change: HouseholdChange) -> CoreResult<Household> {
        self.session()
            .call(Method::PATCH, "/v1/household", Some(&change))
            .await
    }

    /// Confirms the household's password (and the authenticator's code, when the
    /// second factor is on) on this device, for the sensitive actions of the next
    /// five minutes: a stolen access token alone cannot take over the login.
    pub async fn confirm_password(
        &self,
        password: &SecretString,
        totp: Option<&str>,
    ) -> CoreResult<()> {
        let cloud = Cloud::new(&self.inner.account.cloud)?;
        let params = kdf(&cloud, &self.inner.account.email).await?;
        let keys = derive(password, params).await?;
        let request = doorstep_api::Confirm {
            auth_key: keys.auth_key_text().expose_secret().to_owned(),
            totp: totp.and_then(authenticator_code),
        };
        match self
            .session()
            .call::<_, ()>(Method::POST, "/v1/sessions/current/confirm", Some(&request))
            .await
        {
            Err(CoreError::Api {
                code: doorstep_api::Code::ReauthRequired,
                ..
            }) => Err(CoreError::WrongPassword),
            Err(CoreError::Api {
                code: doorstep_api::Code::TotpRequired,
                ..
            }) => Err(CoreError::TotpRequired),
            other => other,
        }
    }

    /// Signs another device of this login out (a lost laptop); this one stays in.
    pub async fn sign_out_device(&self, device_id: &str) -> CoreResult<()> {
        if device_id == self.inner.account.device_id {
            return Err(CoreError::Invalid(
                "that is this device; use sign-out (`doorstep logout`) instead".into(),
            ));
        }
        self.session()
            .call::<(), ()>(
                Method::DELETE,
                &format!("/v1/devices/{}", path_part("device id", device_id)?),
                None,
            )
            .await
    }

    /// A one-time code to type into a new lock (`doorstep-lock pair`): the cloud's
    /// code followed by the fingerprint of the household key this device holds, so
    /// that the lock refuses any other key a compromised cloud might send it.
    pub async fn pairing_code(&self, name: &str, kind: LockKind) -> CoreResult<PairingCode> {
        let mut code: PairingCode = self
            .session()
            .call(
                Method::POST,
                "/v1/locks/pairing-codes",
                Some(&NewPairingCode {
                    name: name.to_owned(),
                    kind,
                }),
            )
            .await?;
        code.code = format!("{}-{}", code.code, self.household_fingerprint());
        Ok(code)
    }

    /// The household key's fingerprint, from the key this device holds.
    pub fn household_fingerprint(&self) -> String {
        self.inner.household_key.public_key().fingerprint()
    }

    /// A household-signed revocation of `target` at `lock`, sent to `path`.
    async fn send_revocation<R: serde::de::DeserializeOwned>(
        &self,
        lock: LockId,
        target: RevocationTarget,
        path: &str,
    ) -> CoreResult<R> {
        let revocation = Revocation {
            household: self.household(),
            lock,
            target,
            device: self.device(),
            issued_at: self.now(),
        };
        self.post_signed(Method::POST, path, "revocation", &revocation)
            .await
    }

    /// Signs `object` with the household key and sends it as `{field: envelope}`.
    /// The household's signing key, for what only its devices may seal or sign.
    pub(crate) fn household_key(&self) -> &SigningKey {
        &self.inner.household_key
    }

    pub(crate) async fn post_signed<
        T: doorstep_proto::SignedObject,
        R: serde::de::DeserializeOwned,
    >(
        &self,
        method: Method,
        path: &str,
        field: &str,
        object: &T,
    ) -> CoreResult<R> {
        let signed = Signed::sign(object, &self.inner.household_key);
        let mut body = serde_json::Map::new();
        body.insert(field.to_owned(), signed.to_base64().into());
        self.session()
            .call(method, path, Some(&serde_json::Value::Object(body)))
            .await
    }

    /// The lock `wanted` names (by name or id), or the household's only lock.
    pub async fn choose_lock(&self, wanted: Option<&str>) -> CoreResult<LockId> {
        self.pick_lock(wanted, None).await
    }

    async fn pick_lock(&self, wanted: Option<&str>, assigned: Option<&str>) -> CoreResult<LockId> {
        if let Some(assigned) = assigned {
            return Ok(LockId(assigned.to_owned()));
        }
        let locks = self.locks().await?;
        match wanted {
            Some(wanted) => locks
                .iter()
                .find(|l| l.id == wanted || l.name.eq_ignore_ascii_case(wanted))
                .map(|l| LockId(l.id.clone()))
                .ok_or_else(|| CoreError::Invalid(format!("no lock {wanted:?}"))),
            None => match locks.as_slice() {
                [] => Err(CoreError::Invalid(
                    "the household has no lock yet; pair one first".into(),
                )),
                [only] => Ok(LockId(only.id.clone())),
                several => Err(CoreError::Invalid(format!(
                    "which lock? {}",
                    several
                        .iter()
                        .map(|l| l.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            },
        }
    }
}

/// What to call this computer in the household's device list: `<program> on <host>`.
pub fn default_device_name(program: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("{program} on {host}")
}

/// Forgets this device's sign-in locally (keyring entries, account file, cache).
pub fn forget(paths: &AppPaths, store: &SecretStore) -> CoreResult<()> {
    for entry in [SESSION_ENTRY, HOUSEHOLD_KEY_ENTRY, DEVICE_KEY_ENTRY] {
        store.delete(entry)?;
    }
    let file = account_file(paths);
    match std::fs::remove_file(&file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(CoreError::local(file.display().to_string(), e)),
    }
    crate::cache::Cache::remove(paths)
}

fn ready_store(paths: &AppPaths) -> CoreResult<SecretStore> {
    let store = SecretStore::new(paths.app_id());
    // Before anything is created in the cloud: failing afterwards would leave a
    // device registered whose tokens could not be kept.
    store.probe()?;
    paths
        .create_all()
        .map_err(|e| CoreError::local(paths.config_dir().display().to_string(), e))?;
    Ok(store)
}

async fn kdf(cloud: &Cloud, email: &str) -> CoreResult<KdfParams> {
    let mut url = reqwest::Url::parse("http://x/v1/accounts/kdf")
        .map_err(|e| CoreError::Invalid(e.to_string()))?;
    url.query_pairs_mut().append_pair("email", email);
    let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
    cloud.call::<(), _>(Method::GET, &path, None).await
}

/// Keys for a new password: the cloud's cost parameters, but a fresh random salt
/// (the one the cloud offers for an unknown e-mail is a decoy). The salt is returned
/// for the cloud to keep.
async fn new_password_keys(
    cloud: &Cloud,
    email: &str,
    password: &SecretString,
) -> CoreResult<(String, PasswordKeys)> {
    let mut params = kdf(cloud, email).await?;
    let mut salt = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    params.salt = b64(&salt);
    let kdf_salt = params.salt.clone();
    Ok((kdf_salt, derive(password, params).await?))
}

/// What the cloud keeps of `recovery_key`: its proof and the household key sealed
/// under it.
fn recovery_setup(
    recovery_key: &RecoveryKey,
    household_key: &SigningKey,
    email: &str,
) -> doorstep_api::RecoverySetup {
    doorstep_api::RecoverySetup {
        auth_key: recovery_key.auth_key_text().expose_secret().to_owned(),
        wrapped_household_key: recovery_key.wrap(household_key, email),
    }
}

/// The cloud's answers to a recovery that refused it, as credentials to retry
/// (an "unauthenticated" here is not a signed-out device).
fn wrong_recovery_key(error: CoreError) -> CoreError {
    match error {
        CoreError::Api {
            code: doorstep_api::Code::Unauthenticated,
            message,
            ..
        } => CoreError::RecoveryRefused(message),
        CoreError::Api {
            code: doorstep_api::Code::TotpRequired,
            ..
        } => CoreError::TotpRequired,
        other => other,
    }
}

async fn derive(password: &SecretString, params: KdfParams) -> CoreResult<PasswordKeys> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || PasswordKeys::derive(&password, &params))
        .await
        .map_err(|e| CoreError::local("key derivation", e))?
        .map_err(CoreError::from)
}

fn normalise_email(email: &str) -> CoreResult<String> {
    let email = email.trim().to_lowercase();
    let valid = email
        .split_once('@')
        .is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'));
    if valid {
        Ok(email)
    } else {
        Err(CoreError::Invalid(format!(
            "{email:?} is not an e-mail address"
        )))
    }
}

fn check_time_zone(time_zone: &str) -> CoreResult<()> {
    if doorstep_proto::is_time_zone(time_zone) {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!(
            "time zone {time_zone:?} is not an IANA time zone (e.g. Europe/Berlin)"
        )))
    }
}

fn check_password(password: &SecretString) -> CoreResult<()> {
    if password.expose_secret().chars().count() < 10 {
        return Err(CoreError::Invalid(
            "the password must have at least 10 characters".into(),
        ));
    }
    Ok(())
}

fn path_part<'a>(what: &str, value: &'a str) -> CoreResult<&'a str> {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    {
        Ok(value)
    } else {
        Err(CoreError::Invalid(format!("{what} {value:?} is not an id")))
    }
}

/// Writes `value` as JSON so a crash leaves the old file or the new one, never half.
pub fn write_json_atomically<T: Serialize>(path: &std::path::Path, value: &T) -> CoreResult<()> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| CoreError::local(path.display().to_string(), e))?;
    write_atomically(path, &bytes)
}

pub(crate) fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> CoreResult<()> {
    use std::io::Write;
    let fail = |e: std::io::Error| CoreError::local(path.display().to_string(), e);
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    let mut file = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    file.persist(path).map_err(|e| fail(e.error))?;
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// An authenticator code as the cloud takes it: the digits without the space
/// the apps show in the middle; nothing when nothing was typed.
fn authenticator_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (!code.is_empty()).then_some(code)
}

/// A guest's schedule the cloud and the lock would accept.
pub(crate) fn check_schedule(schedule: &GuestSchedule) -> CoreResult<()> {
    match schedule {
        GuestSchedule::Weekly(hours) => hours.validate(),
        GuestSchedule::Once(window) => {
            if window.is_valid() {
                Ok(())
            } else {
                Err(doorstep_proto::ScheduleError::BadWindow)
            }
        }
    }
    .map_err(|e| CoreError::Invalid(format!("schedule: {e}")))
}
