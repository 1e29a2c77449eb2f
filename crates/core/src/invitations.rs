//! Guests invited by code, on the household's side (SPEC §6: never asked for a key).
//!
//! Inviting makes an [`InvitationCode`] and seals it, with the terms (name, schedule,
//! locks), under a key only the household's devices derive from the household key
//! (HKDF-SHA256, XChaCha20-Poly1305 with the code's name as associated data). The cloud
//! keeps the sealed blob under the code's name. When the guest redeems the code with
//! a key they made, any household device opens the blob, checks the guest's proof
//! against the code's secret, and signs the guest's invitation for that key. A
//! breached cloud sees neither the secret nor can it change the terms.
//!
//! Sealed blob: `1 ‖ nonce (24) ‖ ciphertext of the terms' JSON ‖ tag (16)`, base64url.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use doorstep_api::{Guest, NewGuestInvitation, PendingInvitation};
use doorstep_proto::{
    GuestInvitation, GuestSchedule, InvitationCode, LockId, PublicKey, SigningKey,
};
use rand_core::{OsRng, RngCore};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::encoding::{b64, unb64};
use crate::error::{CoreError, CoreResult};

const SEAL_VERSION: u8 = 1;
const SEAL_LABEL: &[u8] = b"doorstep/v1 guest invitation seal";

/// How long a code works until it is redeemed.
pub const CODE_VALID_FOR_MS: i64 = 7 * 24 * 3_600_000;

/// What the household decided, sealed for its devices.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Terms {
    code: String,
    guest_id: String,
    name: String,
    schedule: GuestSchedule,
    locks: Vec<String>,
}

fn cipher(household: &SigningKey) -> XChaCha20Poly1305 {
    let seed = Zeroizing::new(household.to_seed());
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, seed.as_ref());
    let mut key = Zeroizing::new([0u8; 32]);
    let _ = hkdf.expand(SEAL_LABEL, key.as_mut());
    XChaCha20Poly1305::new(key.as_ref().into())
}

fn seal(household: &SigningKey, id: &str, terms: &Terms) -> CoreResult<String> {
    let plain =
        Zeroizing::new(serde_json::to_vec(terms).map_err(|e| CoreError::Protocol(e.to_string()))?);
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let sealed = cipher(household)
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: id.as_bytes(),
            },
        )
        .map_err(|_| CoreError::Protocol("the invitation could not be sealed".into()))?;
    let mut blob = Vec::with_capacity(1 + 24 + sealed.len());
    blob.push(SEAL_VERSION);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(b64(&blob))
}

fn unseal(household: &SigningKey, id: &str, sealed: &str) -> Option<Terms> {
    let blob = unb64(sealed).ok()?;
    if blob.len() < 1 + 24 + 16 || blob[0] != SEAL_VERSION {
        return None;
    }
    let plain = Zeroizing::new(
        cipher(household)
            .decrypt(
                XNonce::from_slice(&blob[1..25]),
                Payload {
                    msg: &blob[25..],
                    aad: id.as_bytes(),
                },
            )
            .ok()?,
    );
    serde_json::from_slice(&plain).ok()
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// The guest has not redeemed the code yet.
    Waiting,
    /// The guest redeemed it; a household device is signing them in.
    Redeemed,
    /// Someone redeemed it without the code's secret (or the cloud changed what this
    /// household sealed): nobody is let in with it.
    Refused,
}

/// An invitation as the household's devices read it.
#[derive(Debug, Clone)]
pub struct OpenInvitation {
    /// The code to give the guest.
    pub code: String,
    /// The code's name.
    pub id: String,
    /// The guest's name.
    pub name: String,
    /// When they may come.
    pub schedule: GuestSchedule,
    /// When an unredeemed code stops working (ms).
    pub expires_at: i64,
    /// Where it stands.
    pub state: InvitationState,
}

impl Client {
    /// Invites a guest by code: the code to give them, which works for a week.
    pub async fn invite_guest(
        &self,
        name: &str,
        schedule: GuestSchedule,
        locks: &[String],
    ) -> CoreResult<OpenInvitation> {
        crate::client::check_schedule(&schedule)?;
        let locks = if locks.is_empty() {
            self.locks().await?.into_iter().map(|l| l.id).collect()
        } else {
            locks.to_vec()
        };
        let code = InvitationCode::generate();
        let terms = Terms {
            code: code.to_text(),
            guest_id: uuid::Uuid::new_v4().to_string(),
            name: name.trim().to_owned(),
            schedule,
            locks,
        };
        let expires_at = self.now().0 + CODE_VALID_FOR_MS;
        let request = NewGuestInvitation {
            id: code.id(),
            guest_id: terms.guest_id.clone(),
            name: terms.name.clone(),
            sealed: seal(self.household_key(), &code.id(), &terms)?,
            expires_at,
        };
        let _: PendingInvitation = self
            .session()
            .call(Method::POST, "/v1/guest-invitations", Some(&request))
            .await?;
        Ok(OpenInvitation {
            code: terms.code,
            id: request.id,
            name: terms.name,
            schedule: terms.schedule,
            expires_at,
            state: InvitationState::Waiting,
        })
    }

    /// The household's invitations not yet signed in, opened.
    pub async fn invitations(&self) -> CoreResult<Vec<OpenInvitation>> {
        let pending: Vec<PendingInvitation> = self.session().get("/v1/guest-invitations").await?;
        Ok(pending.iter().map(|p| self.open(p)).collect())
    }

    fn open(&self, pending: &PendingInvitation) -> OpenInvitation {
        let terms = unseal(self.household_key(), &pending.id, &pending.sealed);
        let state = match (&terms, self.redemption(pending, terms.as_ref())) {
            (None, _) | (_, Some(Err(()))) => InvitationState::Refused,
            (_, Some(Ok(_))) => InvitationState::Redeemed,
            (_, None) => InvitationState::Waiting,
        };
        let (code, schedule) = match terms {
            Some(terms) => (terms.code, terms.schedule),
            None => (
                String::new(),
                GuestSchedule::Once(doorstep_proto::TimeWindow::new(
                    doorstep_proto::Timestamp(pending.created_at),
                    doorstep_proto::Timestamp(pending.created_at),
                )),
            ),
        };
        OpenInvitation {
            code,
            id: pending.id.clone(),
            name: pending.name.clone(),
            schedule,
            expires_at: pending.expires_at,
            state,
        }
    }

    /// The guest's key, when `pending` was redeemed by someone holding the code;
    /// `Err` when it was redeemed without it; `None` when not redeemed.
    fn redemption(
        &self,
        pending: &PendingInvitation,
        terms: Option<&Terms>,
    ) -> Option<Result<PublicKey, ()>> {
        let (key, proof) = (pending.guest_key.as_ref()?, pending.proof.as_ref()?);
        let checked = (|| {
            let terms = terms?;
            let code = InvitationCode::parse(&terms.code).ok()?;
            let key = PublicKey::from_base64(key).ok()?;
            let proof = unb64(proof).ok()?;
            (code.id() == pending.id
                && terms.guest_id == pending.guest_id
                && code.verify_proof(&key, &proof))
            .then_some(key)
        })();
        Some(checked.ok_or(()))
    }

    /// Signs in every guest who redeemed a code with its secret: the invitation this
    /// household sealed, signed for the key the guest made. A redemption without the
    /// secret is logged and left refused; one another device completed is skipped.
    pub async fn complete_redeemed(&self) -> CoreResult<Vec<Guest>> {
        let pending: Vec<PendingInvitation> = self.session().get("/v1/guest-invitations").await?;
        let mut added = Vec::new();
        for invitation in &pending {
            let terms = unseal(self.household_key(), &invitation.id, &invitation.sealed);
            let key = match self.redemption(invitation, terms.as_ref()) {
                None => continue,
                Some(Err(())) => {
                    tracing::warn!(invitation = %invitation.id, "refused a redemption without the code's secret");
                    continue;
                }
                Some(Ok(key)) => key,
            };
            let Some(terms) = terms else { continue };
            let signed = GuestInvitation {
                household: self.household(),
                guest: terms.guest_id.as_str().into(),
                name: terms.name,
                guest_key: key,
                locks: terms.locks.into_iter().map(LockId).collect(),
                schedule: terms.schedule,
                device: self.device(),
                issued_at: self.now(),
            };
            let path = format!("/v1/guest-invitations/{}/complete", invitation.id);
            match self
                .post_signed::<_, Guest>(Method::POST, &path, "invitation", &signed)
                .await
            {
                Ok(guest) => added.push(guest),
                // Another of the household's devices was quicker.
                Err(e) if e.kind() == crate::error::ErrorKind::Conflict => {}
                Err(e) => return Err(e),
            }
        }
        Ok(added)
    }

    /// Withdraws an invitation not yet signed in.
    pub async fn cancel_invitation(&self, id: &str) -> CoreResult<()> {
        let id = doorstep_proto::InvitationCode::normalize_id(id)
            .ok_or_else(|| CoreError::Invalid(format!("{id:?} is not an invitation")))?;
        self.session()
            .call::<(), ()>(Method::DELETE, &format!("/v1/guest-invitations/{id}"), None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_terms_open_only_with_the_household_key_and_under_their_code() {
        let household = SigningKey::generate();
        let terms = Terms {
            code: InvitationCode::generate().to_text(),
            guest_id: "g".into(),
            name: "Ana".into(),
            schedule: GuestSchedule::Once(doorstep_proto::TimeWindow::new(
                doorstep_proto::Timestamp(1),
                doorstep_proto::Timestamp(2),
            )),
            locks: vec!["l".into()],
        };
        let sealed = seal(&household, "ABCD-EFGH", &terms).unwrap();
        assert!(!sealed.contains("Ana"));
        let opened = unseal(&household, "ABCD-EFGH", &sealed).unwrap();
        assert_eq!(opened.code, terms.code);
        assert!(
            unseal(&SigningKey::generate(), "ABCD-EFGH", &sealed).is_none(),
            "another household"
        );
        assert!(
            unseal(&household, "ABCD-EFGK", &sealed).is_none(),
            "moved to another code"
        );
        let mut cut = unb64(&sealed).unwrap();
        cut.pop();
        assert!(
            unseal(&household, "ABCD-EFGH", &b64(&cut)).is_none(),
            "tampered"
        );
    }
}
