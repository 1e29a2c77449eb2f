//! At the door: ask the lock for a challenge, sign the answer, get the grant from
//! the cloud, present both to the lock, deliver, and leave when told to.

use std::time::Duration;

use doorstep_api::{
    AccessGranted, AccessRequest, BoltPosition, Challenge, DeliveryState, Enter, ErrorBody,
    LockStatus, ShipmentStatus,
};
use doorstep_proto::{
    Clock, CourierResponse, GrantSubject, LockChallenge, Signed, SigningKey, SystemClock,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How a visit ended. Each has its own exit code in the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered inside; the door closed and the lock reported its bolt thrown.
    Delivered,
    /// The parcel is inside but the lock did NOT report its bolt thrown (a jam,
    /// or no answer): the courier must not walk away from an unlocked door.
    NotLocked(String),
    /// The door stayed shut; the sentence says why and what to do.
    Refused(String),
    /// The household blocked access while the courier was inside: it left.
    Blocked,
    /// The household sent the parcel elsewhere.
    Rerouted(String),
}

/// Who is at the door, and for what.
#[derive(Clone)]
pub enum Visitor {
    /// A courier for a delivery; the carrier's key lets it read the shipment's state.
    Courier {
        /// The delivery.
        delivery_id: String,
        /// The carrier's tracking id.
        tracking_id: String,
        /// The carrier's API key.
        carrier_key: String,
    },
    /// A guest with an invitation.
    Guest {
        /// The guest's id.
        guest_id: String,
    },
}

impl std::fmt::Debug for Visitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the carrier's key.
        match self {
            Visitor::Courier {
                delivery_id,
                tracking_id,
                ..
            } => {
                write!(
                    f,
                    "Courier {{ delivery_id: {delivery_id}, tracking_id: {tracking_id} }}"
                )
            }
            Visitor::Guest { guest_id } => write!(f, "Guest {{ guest_id: {guest_id} }}"),
        }
    }
}

/// A visit to one door.
pub struct Visit<'a> {
    /// The cloud's URL.
    pub cloud: String,
    /// The lock's control interface (stands in for the lock's keypad/radio).
    pub lock: String,
    /// The courier's or guest's key.
    pub key: &'a SigningKey,
    /// Who.
    pub visitor: Visitor,
    /// How long to stay inside with the door open.
    pub inside: Duration,
    /// Printed progress.
    pub say: &'a (dyn Fn(&str) + Sync),
}

impl std::fmt::Debug for Visit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visit")
            .field("lock", &self.lock)
            .field("visitor", &self.visitor)
            .finish()
    }
}

/// What a party answered: its body, or its error's sentence.
type Answer<T> = Result<T, String>;

impl Visit<'_> {
    /// Posts `body` and reads the answer; `Err` only when `url` cannot be reached.
    async fn post<T: DeserializeOwned>(
        http: &reqwest::Client,
        url: String,
        body: &impl Serialize,
    ) -> anyhow::Result<Answer<T>> {
        let response = http
            .post(&url)
            .json(body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", url, e.without_url()))?;
        Ok(read_answer(response).await)
    }

    /// Presses one of the lock's door switches (the courier's hand on the door).
    async fn press(http: &reqwest::Client, url: String) -> anyhow::Result<()> {
        http.post(&url)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", url, e.without_url()))?;
        Ok(())
    }

    async fn lock_status(&self, http: &reqwest::Client) -> Option<LockStatus> {
        answer_if_any(http.get(format!("{}/status", self.lock))).await
    }

    async fn shipment(&self, http: &reqwest::Client) -> Option<ShipmentStatus> {
        let Visitor::Courier {
            tracking_id,
            carrier_key,
            ..
        } = &self.visitor
        else {
            return None;
        };
        let request = http
            .get(format!("{}/v1/carrier/shipments/{tracking_id}", self.cloud))
            .bearer_auth(carrier_key);
        answer_if_any(request).await
    }

    /// Delivered only once the lock itself says the bolt is thrown.
    async fn confirm_locked(&self, http: &reqwest::Client) -> Outcome {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut last = String::from("no answer from the lock");
        while tokio::time::Instant::now() < deadline {
            if let Some(status) = self.lock_status(http).await {
                match (status.bolt, status.motor_jammed) {
                    (BoltPosition::Locked, _) => return Outcome::Delivered,
                    (_, true) | (BoltPosition::Jammed, _) => {
                        return Outcome::NotLocked("the lock's motor is jammed".to_owned());
                    }
                    (bolt, false) => last = format!("the bolt is {}", bolt_words(bolt)),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Outcome::NotLocked(last)
    }

    fn rerouted(status: &ShipmentStatus) -> Option<String> {
        if status.state != DeliveryState::Rerouted {
            return None;
        }
        Some(status.rerouted_to.as_ref().map_or_else(
            || "another address (ask the carrier)".to_owned(),
            |to| format!("{} ({})", to.label, to.address),
        ))
    }

    /// Runs the visit to its end.
    pub async fn run(&self) -> anyhow::Result<Outcome> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()?;
        if let Some(status) = self.shipment(&http).await {
            if let Some(to) = Self::rerouted(&status) {
                return Ok(Outcome::Rerouted(to));
            }
            if status.state == DeliveryState::Blocked {
                return Ok(Outcome::Refused(
                    "the household blocked this delivery: do not enter".into(),
                ));
            }
        }
        (self.say)("At the door: asking the lock for a challenge");
        let envelope = match Self::post::<Challenge>(
            &http,
            format!("{}/challenge", self.lock),
            &serde_json::Map::new(),
        )
        .await?
        {
            Ok(answer) => answer.challenge,
            Err(reason) => anyhow::bail!("the lock gave no challenge: {reason}"),
        };
        let challenge = Signed::<LockChallenge>::from_base64(&envelope)
            .ok()
            .and_then(|s| s.peek())
            .ok_or_else(|| anyhow::anyhow!("the lock's challenge is unreadable"))?;
        let (subject, access_url) = match &self.visitor {
            Visitor::Courier { delivery_id, .. } => (
                GrantSubject::Delivery(delivery_id.as_str().into()),
                format!("{}/v1/courier/deliveries/{delivery_id}/access", self.cloud),
            ),
            Visitor::Guest { guest_id } => (
                GrantSubject::Guest(guest_id.as_str().into()),
                format!("{}/v1/guest/{guest_id}/access", self.cloud),
            ),
        };
        let response = Signed::sign(
            &CourierResponse {
                lock: challenge.lock,
                nonce: challenge.nonce,
                subject,
                // The courier's own device clock: the lock judges it against its own.
                responded_at: SystemClock.read().now,
            },
            self.key,
        )
        .to_base64();
        (self.say)("Asking the cloud for entry");
        let Ok(granted) = Self::post::<AccessGranted>(
            &http,
            access_url,
            &AccessRequest {
                challenge: envelope,
                response: response.clone(),
            },
        )
        .await
        else {
            // Without the cloud there is no grant and no household to ask.
            return Ok(Outcome::Refused(
                "the Doorstep cloud cannot be reached, so the door stays shut: leave the parcel at the door or take it back".into(),
            ));
        };
        let granted = match granted {
            Ok(granted) => granted,
            Err(reason) => {
                if let Some(to) = self.shipment(&http).await.as_ref().and_then(Self::rerouted) {
                    return Ok(Outcome::Rerouted(to));
                }
                return Ok(Outcome::Refused(reason));
            }
        };
        (self.say)("Presenting the grant to the lock");
        let entered = Self::post::<doorstep_api::Entered>(
            &http,
            format!("{}/enter", self.lock),
            &Enter {
                grant: granted.grant,
                response,
            },
        )
        .await?;
        if let Err(reason) = entered {
            return Ok(Outcome::Refused(reason));
        }
        (self.say)("Unlocked: opening the door and placing the parcel inside");
        Self::press(&http, format!("{}/door/open", self.lock)).await?;
        let deadline = tokio::time::Instant::now() + self.inside;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let blocked = self
                .shipment(&http)
                .await
                .is_some_and(|s| s.state == DeliveryState::Blocked);
            // A revocation reaches the lock directly: it throws the bolt while we are inside.
            let relocking = self
                .lock_status(&http)
                .await
                .is_some_and(|s| matches!(s.bolt, BoltPosition::Locking | BoltPosition::Locked));
            if blocked || relocking {
                (self.say)("The household blocked access: leaving now and closing the door");
                Self::press(&http, format!("{}/door/close", self.lock)).await?;
                return Ok(Outcome::Blocked);
            }
        }
        Self::press(&http, format!("{}/door/close", self.lock)).await?;
        (self.say)("Door closed; waiting for the lock to report its bolt thrown");
        Ok(self.confirm_locked(&http).await)
    }
}

/// A successful answer's body, or the error's sentence.
pub async fn read_answer<T: DeserializeOwned>(response: reqwest::Response) -> Answer<T> {
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| format!("an unreadable answer ({status}): {e}"));
    }
    Err(response.json::<ErrorBody>().await.map_or_else(
        |_| format!("no reason given ({status})"),
        |body| body.message,
    ))
}

fn bolt_words(bolt: BoltPosition) -> &'static str {
    match bolt {
        BoltPosition::Locked => "locked",
        BoltPosition::Unlocking => "unlocking",
        BoltPosition::Unlocked => "unlocked",
        BoltPosition::Locking => "locking",
        BoltPosition::Jammed => "jammed",
    }
}

/// The answer to `request`, when one came and reads as `T`: for status polls, where
/// "no answer" means "look again later".
async fn answer_if_any<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Option<T> {
    request.send().await.ok()?.json().await.ok()
}
