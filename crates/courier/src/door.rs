//! At the door: ask the lock for a challenge, sign the answer, get the grant from
//! the cloud, present both to the lock, deliver, and leave when told to.

use std::time::Duration;

use doorstep_proto::{CourierResponse, GrantSubject, LockChallenge, Signed, SigningKey, Timestamp};
use serde_json::{Value, json};

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

impl Visit<'_> {
    async fn post(
        http: &reqwest::Client,
        url: String,
        body: Value,
    ) -> anyhow::Result<(u16, Value)> {
        let response = http
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", url, e.without_url()))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or_default()))
    }

    async fn shipment(&self, http: &reqwest::Client) -> Option<Value> {
        let Visitor::Courier {
            tracking_id,
            carrier_key,
            ..
        } = &self.visitor
        else {
            return None;
        };
        http.get(format!("{}/v1/carrier/shipments/{tracking_id}", self.cloud))
            .bearer_auth(carrier_key)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()
    }

    /// Delivered only once the lock itself says the bolt is thrown.
    async fn confirm_locked(&self, http: &reqwest::Client) -> Outcome {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let mut last = String::from("no answer from the lock");
        while tokio::time::Instant::now() < deadline {
            if let Ok(response) = http.get(format!("{}/status", self.lock)).send().await
                && let Ok(status) = response.json::<Value>().await
            {
                match (status["bolt"].as_str(), status["motor_jammed"].as_bool()) {
                    (Some("locked"), _) => return Outcome::Delivered,
                    (_, Some(true)) | (Some("jammed"), _) => {
                        return Outcome::NotLocked("the lock's motor is jammed".to_owned());
                    }
                    (Some(bolt), _) => last = format!("the bolt is {bolt}"),
                    (None, _) => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Outcome::NotLocked(last)
    }

    fn rerouted(status: &Value) -> Option<String> {
        (status["state"] == "rerouted").then(|| {
            let to = &status["rerouted_to"];
            format!(
                "{} ({})",
                to["label"].as_str().unwrap_or("?"),
                to["address"].as_str().unwrap_or("?")
            )
        })
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
            if status["state"] == "blocked" {
                return Ok(Outcome::Refused(
                    "the household blocked this delivery: do not enter".into(),
                ));
            }
        }
        (self.say)("At the door: asking the lock for a challenge");
        let (status, body) =
            Self::post(&http, format!("{}/challenge", self.lock), json!({})).await?;
        if status != 200 {
            anyhow::bail!("the lock gave no challenge ({status})");
        }
        let envelope = body["challenge"].as_str().unwrap_or_default().to_owned();
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
                responded_at: Timestamp::now(),
            },
            self.key,
        )
        .to_base64();
        (self.say)("Asking the cloud for entry");
        let Ok((status, granted)) = Self::post(
            &http,
            access_url,
            json!({ "challenge": envelope, "response": response }),
        )
        .await
        else {
            // Without the cloud there is no grant and no household to ask.
            return Ok(Outcome::Refused(
                "the Doorstep cloud cannot be reached, so the door stays shut: leave the parcel at the door or take it back".into(),
            ));
        };
        if status != 200 {
            let reason = granted["message"]
                .as_str()
                .unwrap_or("no reason given")
                .to_owned();
            if let Some(to) = self.shipment(&http).await.as_ref().and_then(Self::rerouted) {
                return Ok(Outcome::Rerouted(to));
            }
            return Ok(Outcome::Refused(reason));
        }
        (self.say)("Presenting the grant to the lock");
        let (status, body) = Self::post(
            &http,
            format!("{}/enter", self.lock),
            json!({ "grant": granted["grant"], "response": response }),
        )
        .await?;
        if status != 200 {
            return Ok(Outcome::Refused(
                body["message"]
                    .as_str()
                    .unwrap_or("the lock stayed shut")
                    .to_owned(),
            ));
        }
        (self.say)("Unlocked: opening the door and placing the parcel inside");
        Self::post(&http, format!("{}/door/open", self.lock), json!({})).await?;
        let deadline = tokio::time::Instant::now() + self.inside;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let blocked = self
                .shipment(&http)
                .await
                .is_some_and(|s| s["state"] == "blocked");
            // A revocation reaches the lock directly: it throws the bolt while we are inside.
            let relocking = match http.get(format!("{}/status", self.lock)).send().await {
                Ok(response) => response
                    .json::<Value>()
                    .await
                    .is_ok_and(|s| matches!(s["bolt"].as_str(), Some("locking" | "locked"))),
                Err(_) => false,
            };
            if blocked || relocking {
                (self.say)("The household blocked access: leaving now and closing the door");
                Self::post(&http, format!("{}/door/close", self.lock), json!({})).await?;
                return Ok(Outcome::Blocked);
            }
        }
        Self::post(&http, format!("{}/door/close", self.lock), json!({})).await?;
        (self.say)("Door closed; waiting for the lock to report its bolt thrown");
        Ok(self.confirm_locked(&http).await)
    }
}
