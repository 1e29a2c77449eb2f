//! Rate limits in memory per cloud process (`governor`'s keyed GCRA limiters):
//! per client address for account creation, pairing and access requests, and
//! per household for pairing codes. Failed sign-ins are counted in the
//! database instead (see `accounts::sign_in`), so they survive a restart.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::Settings;
use crate::error::ApiError;

/// One keyed limit; `None` when switched off (0 in the settings).
#[derive(Debug)]
struct Limit<K: std::hash::Hash + Eq + Clone> {
    limiter: Option<DefaultKeyedRateLimiter<K>>,
    what: &'static str,
}

impl<K: std::hash::Hash + Eq + Clone> Limit<K> {
    fn new(count: u32, per: Duration, what: &'static str) -> Self {
        let limiter = NonZeroU32::new(count).and_then(|burst| {
            Quota::with_period(per / burst.get())
                .map(|quota| RateLimiter::keyed(quota.allow_burst(burst)))
        });
        Self { limiter, what }
    }

    fn check(&self, key: &K) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            ApiError::rate_limited(format!(
                "too many {}; try again in {} seconds",
                self.what,
                wait.as_secs().max(1)
            ))
        })
    }

    fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
        }
    }
}

/// Every in-memory limit of the cloud.
#[derive(Debug)]
pub struct Limits {
    accounts: Limit<IpAddr>,
    pairings: Limit<IpAddr>,
    redemptions: Limit<IpAddr>,
    pairing_codes: Limit<String>,
    access_requests: Limit<IpAddr>,
    clock_alarms: Limit<String>,
    foreign_audits: Limit<String>,
}

impl Limits {
    /// From the settings.
    pub fn new(settings: &Settings) -> Self {
        const MINUTE: Duration = Duration::from_secs(60);
        const HOUR: Duration = Duration::from_secs(3600);
        Self {
            accounts: Limit::new(
                settings.accounts_per_address_per_hour,
                HOUR,
                "new accounts from this address",
            ),
            pairings: Limit::new(
                settings.pairings_per_address_per_minute,
                MINUTE,
                "pairing attempts from this address",
            ),
            redemptions: Limit::new(
                settings.pairings_per_address_per_minute,
                MINUTE,
                "invitation codes tried from this address",
            ),
            pairing_codes: Limit::new(
                settings.pairing_codes_per_household_per_hour,
                HOUR,
                "pairing codes for this household",
            ),
            access_requests: Limit::new(
                settings.access_requests_per_address_per_minute,
                MINUTE,
                "access requests from this address",
            ),
            clock_alarms: Limit::new(1, Duration::from_secs(600), "clock alarms"),
            foreign_audits: Limit::new(20, HOUR, "audit entries for requests across households"),
        }
    }

    /// Creating an account from `ip`.
    pub fn account(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.accounts.check(&ip)
    }

    /// Redeeming a pairing code from `ip`.
    pub fn pairing(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.pairings.check(&ip)
    }

    /// Redeeming a guest's invitation code from `ip` (as many as pairing attempts).
    pub fn redemption(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.redemptions.check(&ip)
    }

    /// Household `household_id` creating a pairing code.
    pub fn pairing_code(&self, household_id: &str) -> Result<(), ApiError> {
        self.pairing_codes.check(&household_id.to_owned())
    }

    /// A courier's or guest's access request from `ip`.
    pub fn access_request(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.access_requests.check(&ip)
    }

    /// Whether the household may be told again that `lock_id`'s clock is off.
    pub fn clock_alarm(&self, lock_id: &str) -> bool {
        self.clock_alarms.check(&lock_id.to_owned()).is_ok()
    }

    /// Whether `household`'s audit log may record another request for one of its
    /// objects by another household (a flood writes a few rows, not millions).
    pub fn foreign_audit(&self, household: &str) -> bool {
        self.foreign_audits.check(&household.to_owned()).is_ok()
    }

    /// Drops the state of keys that are back at their full allowance, so the
    /// maps do not grow with every address ever seen.
    pub fn forget_idle(&self) {
        self.accounts.forget_idle();
        self.pairings.forget_idle();
        self.redemptions.forget_idle();
        self.pairing_codes.forget_idle();
        self.access_requests.forget_idle();
        self.clock_alarms.forget_idle();
        self.foreign_audits.forget_idle();
    }
}
