//! A household, a cloud, a lock with its camera and a courier, with fixed keys, and
//! a request that should open the door; tests change one thing and expect a refusal.
#![allow(dead_code, reason = "each test binary uses part of the fixture")]

use std::cell::RefCell;
use std::collections::HashSet;

use doorstep_proto::*;

pub const T0: Timestamp = Timestamp(1_790_000_000_000); // Monday 2026-09-21 14:13:20 UTC (16:13 in Berlin)

pub fn key(byte: u8) -> SigningKey {
    SigningKey::from_seed(&[byte; 32])
}

pub struct World {
    pub household_key: SigningKey,
    pub cloud_key: SigningKey,
    pub camera_key: SigningKey,
    pub courier_key: SigningKey,
    pub lock_key: SigningKey,
    pub carrier_key: SigningKey,
    pub trust: LockTrust,
    pub clock: ManualClock,
    pub ledger: Ledger,
}

#[derive(Default)]
pub struct Ledger {
    pub used: RefCell<HashSet<EntryKey>>,
    pub revoked: RefCell<Vec<RevocationTarget>>,
    pub policy_version: u64,
}

impl LockLedger for Ledger {
    fn entry_used(&self, key: &EntryKey) -> bool {
        self.used.borrow().contains(key)
    }
    fn revoked(&self, grant: &EntryGrant) -> bool {
        self.revoked
            .borrow()
            .iter()
            .any(|target| match (target, &grant.subject) {
                (RevocationTarget::Grant(id), _) => *id == grant.grant,
                (RevocationTarget::Delivery(id), GrantSubject::Delivery(d)) => id == d,
                (RevocationTarget::Guest(id), GrantSubject::Guest(g)) => id == g,
                _ => false,
            })
    }
    fn policy_version(&self) -> u64 {
        self.policy_version
    }
}

pub struct Presented {
    pub challenge: LockChallenge,
    pub grant: Signed<EntryGrant>,
    pub response: Signed<CourierResponse>,
    pub heartbeat: Signed<CameraHeartbeat>,
    /// How long ago the lock issued the challenge (its monotonic clock).
    pub challenge_age: std::time::Duration,
}

impl Presented {
    pub fn request(&self) -> EntryRequest<'_> {
        EntryRequest {
            challenge: &self.challenge,
            grant: &self.grant,
            response: &self.response,
            heartbeat: &self.heartbeat,
            challenge_age: self.challenge_age,
        }
    }
}

impl World {
    pub fn new() -> Self {
        let household_key = key(1);
        let cloud_key = key(2);
        let camera_key = key(3);
        let courier_key = key(4);
        let lock_key = key(5);
        let carrier_key = key(6);
        let trust = LockTrust {
            lock: LockId::from("lock-front"),
            household: HouseholdId::from("house-1"),
            household_key: household_key.public_key(),
            cloud_key: cloud_key.public_key(),
            camera_key: camera_key.public_key(),
        };
        Self {
            household_key,
            cloud_key,
            camera_key,
            courier_key,
            lock_key,
            carrier_key,
            trust,
            clock: ManualClock::at(T0),
            ledger: Ledger::default(),
        }
    }

    pub fn window(&self) -> TimeWindow {
        TimeWindow::new(T0.plus_millis(-10 * 60_000), T0.plus_millis(20 * 60_000))
    }

    pub fn approval(&self) -> DeliveryApproval {
        DeliveryApproval {
            household: self.trust.household.clone(),
            delivery: DeliveryId::from("delivery-1"),
            lock: self.trust.lock.clone(),
            carrier: "DHL".into(),
            courier: self.courier_key.public_key(),
            window: self.window(),
            device: DeviceId::from("laptop-1"),
            approved_at: T0.plus_millis(-3_600_000),
        }
    }

    pub fn grant_with(&self, authorization: Authorization) -> EntryGrant {
        EntryGrant {
            grant: GrantId::from("grant-1"),
            household: self.trust.household.clone(),
            lock: self.trust.lock.clone(),
            subject: GrantSubject::Delivery(DeliveryId::from("delivery-1")),
            holder: self.courier_key.public_key(),
            window: self.window(),
            challenge: self.challenge().nonce,
            authorization,
            carrier: Some("DHL".into()),
            issued_at: T0.plus_millis(-60_000),
        }
    }

    pub fn grant(&self) -> EntryGrant {
        self.grant_with(Authorization::Approval(Signed::sign(
            &self.approval(),
            &self.household_key,
        )))
    }

    /// DHL's signed shipment for the fixture's courier and window.
    pub fn shipment(&self) -> Shipment {
        Shipment {
            carrier: "DHL".into(),
            household: self.trust.household.clone(),
            tracking: "JJD0001".into(),
            courier: self.courier_key.public_key(),
            window: self.window(),
            issued_at: T0.plus_millis(-7_200_000),
        }
    }

    /// A weekday policy that pins the fixture's DHL key.
    pub fn policy(&self, version: u64) -> DeliveryPolicy {
        DeliveryPolicy {
            household: self.trust.household.clone(),
            version,
            locks: vec![self.trust.lock.clone()],
            carriers: vec![PinnedCarrier {
                name: "DHL".into(),
                keys: vec![self.carrier_key.public_key()],
            }],
            hours: WeeklyHours {
                time_zone: "Europe/Berlin".into(),
                days: vec![1, 2, 3, 4, 5],
                from_minute: 8 * 60,
                until_minute: 20 * 60,
            },
            max_window_minutes: 60,
            device: DeviceId::from("laptop-1"),
            issued_at: T0.plus_millis(-86_400_000),
        }
    }

    /// A grant under `policy` for `shipment` signed by `carrier`, with a window the policy allows.
    pub fn policy_grant(
        &self,
        policy: &DeliveryPolicy,
        shipment: &Shipment,
        carrier: &SigningKey,
    ) -> EntryGrant {
        let mut grant = self.grant_with(Authorization::Policy(PolicyEntry {
            policy: Signed::sign(policy, &self.household_key),
            shipment: Signed::sign(shipment, carrier),
        }));
        grant.window = TimeWindow::new(T0.plus_millis(-60_000), T0.plus_millis(19 * 60_000));
        grant
    }

    pub fn challenge(&self) -> LockChallenge {
        LockChallenge {
            lock: self.trust.lock.clone(),
            nonce: [7; 32],
            issued_at: T0.plus_millis(-5_000),
        }
    }

    pub fn response_to(&self, challenge: &LockChallenge, subject: GrantSubject) -> CourierResponse {
        CourierResponse {
            lock: challenge.lock.clone(),
            nonce: challenge.nonce,
            subject,
            responded_at: T0.plus_millis(-4_000),
        }
    }

    pub fn heartbeat(&self) -> CameraHeartbeat {
        CameraHeartbeat {
            lock: self.trust.lock.clone(),
            recording: true,
            frame_seq: 42,
            captured_at: T0.plus_millis(-500),
        }
    }

    /// Everything a genuine courier presents for a genuine, approved delivery.
    pub fn genuine(&self) -> Presented {
        self.presenting(self.grant())
    }

    pub fn presenting(&self, grant: EntryGrant) -> Presented {
        let challenge = self.challenge();
        let response = self.response_to(&challenge, grant.subject.clone());
        Presented {
            grant: Signed::sign(&grant, &self.cloud_key),
            response: Signed::sign(&response, &self.courier_key),
            heartbeat: Signed::sign(&self.heartbeat(), &self.camera_key),
            challenge,
            challenge_age: std::time::Duration::from_secs(5),
        }
    }

    pub fn verify(&self, presented: &Presented) -> Result<VerifiedEntry, Refusal> {
        verify_entry(&self.trust, &self.ledger, &self.clock, presented.request())
    }
}
