//! The signed envelope every Doorstep object travels in.
//!
//! Wire form: a CBOR array `[1, kind, signer, body, signature]` where `kind` is a
//! text label, `signer` the 32-byte Ed25519 public key, `body` the canonical CBOR
//! of the object and `signature` the 64-byte Ed25519 signature over
//! `"doorstep/v1" 0x00 kind 0x00 body`. The kind inside the signed message stops a
//! signature on one kind of object being passed off as another; the version pins
//! the format (there is no algorithm field to downgrade).
//!
//! The body must be *canonical*: re-encoding the decoded object gives the same
//! bytes. Anything else is refused, so one object has exactly one encoding.

use std::marker::PhantomData;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::keys::{PublicKey, SigningKey};

/// The only envelope version there is.
pub const FORMAT_VERSION: u8 = 1;
const DOMAIN: &[u8] = b"doorstep/v1\0";
/// Upper bound on an envelope; nothing Doorstep signs comes near it.
const MAX_ENVELOPE_BYTES: usize = 64 * 1024;

/// Which kind of object an envelope holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`crate::DeliveryApproval`]
    DeliveryApproval,
    /// [`crate::DeliveryPolicy`]
    DeliveryPolicy,
    /// [`crate::GuestInvitation`]
    GuestInvitation,
    /// [`crate::LockChallenge`]
    LockChallenge,
    /// [`crate::CourierResponse`]
    CourierResponse,
    /// [`crate::EntryGrant`]
    EntryGrant,
    /// [`crate::Revocation`]
    Revocation,
    /// [`crate::CameraHeartbeat`]
    CameraHeartbeat,
    /// [`crate::Shipment`]
    Shipment,
    /// [`crate::CloudTime`]
    CloudTime,
}

impl Kind {
    /// The label on the wire and in the signed message.
    pub fn label(self) -> &'static str {
        match self {
            Kind::DeliveryApproval => "delivery-approval",
            Kind::DeliveryPolicy => "delivery-policy",
            Kind::GuestInvitation => "guest-invitation",
            Kind::LockChallenge => "lock-challenge",
            Kind::CourierResponse => "courier-response",
            Kind::EntryGrant => "entry-grant",
            Kind::Revocation => "revocation",
            Kind::CameraHeartbeat => "camera-heartbeat",
            Kind::Shipment => "shipment",
            Kind::CloudTime => "cloud-time",
        }
    }
}

/// An object that is signed: it names its [`Kind`].
pub trait SignedObject: Serialize + DeserializeOwned {
    /// The kind label it is signed under.
    const KIND: Kind;
}

/// Why bytes are not a valid envelope. The message names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Bigger than any real envelope.
    #[error("signed object too large ({0} bytes, at most {MAX_ENVELOPE_BYTES})")]
    TooLarge(usize),
    /// Not CBOR, or not the envelope's shape.
    #[error("not a signed object: {0}")]
    Malformed(String),
    /// A version this build does not speak.
    #[error("signed object version {0} is not supported (this build speaks {FORMAT_VERSION})")]
    Version(u64),
    /// A different kind of object than the one expected.
    #[error("expected a {expected} but got a {found}")]
    WrongKind {
        /// The kind asked for.
        expected: &'static str,
        /// The label found.
        found: String,
    },
    /// The body is not the object, or not its canonical encoding.
    #[error("the {kind} inside is invalid: {detail}")]
    Body {
        /// Which kind.
        kind: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Not base64url text.
    #[error("a signed object in text form must be base64url (no padding)")]
    NotBase64,
}

/// A signed `T`. Holding one proves nothing until [`Signed::verify`] says so.
pub struct Signed<T> {
    signer: PublicKey,
    body: Vec<u8>,
    signature: [u8; 64],
    _object: PhantomData<fn() -> T>,
}

impl<T> Clone for Signed<T> {
    fn clone(&self) -> Self {
        Self {
            signer: self.signer,
            body: self.body.clone(),
            signature: self.signature,
            _object: PhantomData,
        }
    }
}

impl<T> PartialEq for Signed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.signer == other.signer && self.body == other.body && self.signature == other.signature
    }
}
impl<T> Eq for Signed<T> {}

impl<T: SignedObject> std::fmt::Debug for Signed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signed")
            .field("kind", &T::KIND.label())
            .field("signer", &self.signer)
            .field("body_len", &self.body.len())
            .finish()
    }
}

fn signed_message(kind: Kind, body: &[u8]) -> Vec<u8> {
    let label = kind.label().as_bytes();
    let mut message = Vec::with_capacity(DOMAIN.len() + label.len() + 1 + body.len());
    message.extend_from_slice(DOMAIN);
    message.extend_from_slice(label);
    message.push(0);
    message.extend_from_slice(body);
    message
}

/// The canonical CBOR of `value`.
pub(crate) fn canonical_cbor<V: Serialize>(value: &V) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail, and our objects have no maps with non-text keys.
    if let Err(e) = ciborium::into_writer(value, &mut out) {
        unreachable!("encoding a signed object to memory failed: {e}");
    }
    out
}

impl<T: SignedObject> Signed<T> {
    /// Signs `object` with `key`.
    pub fn sign(object: &T, key: &SigningKey) -> Self {
        let body = canonical_cbor(object);
        let signature = key.sign(&signed_message(T::KIND, &body));
        Self {
            signer: key.public_key(),
            body,
            signature,
            _object: PhantomData,
        }
    }

    /// Who claims to have signed it (not checked until [`Signed::verify`]).
    pub fn signer(&self) -> PublicKey {
        self.signer
    }

    /// Checks the signature against `expected_signer` and returns the object.
    /// `None` when the signer is another key or the signature is wrong.
    pub fn verify(&self, expected_signer: &PublicKey) -> Option<T> {
        if self.signer != *expected_signer {
            return None;
        }
        if !self
            .signer
            .verify_strict(&signed_message(T::KIND, &self.body), &self.signature)
        {
            return None;
        }
        // The body was checked to be a canonical `T` when decoded or signed.
        ciborium::from_reader(self.body.as_slice()).ok()
    }

    /// The object without checking the signature: for display and routing only,
    /// never for a decision.
    pub fn peek(&self) -> Option<T> {
        ciborium::from_reader(self.body.as_slice()).ok()
    }

    /// The envelope's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = Value::Array(vec![
            Value::Integer(FORMAT_VERSION.into()),
            Value::Text(T::KIND.label().to_owned()),
            Value::Bytes(self.signer.as_bytes().to_vec()),
            Value::Bytes(self.body.clone()),
            Value::Bytes(self.signature.to_vec()),
        ]);
        canonical_cbor(&value)
    }

    /// Reads an envelope holding a `T`, refusing anything malformed, of another
    /// kind or version, or with a non-canonical body. Does not check the signature.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let value: Value = ciborium::from_reader(bytes)
            .map_err(|e| DecodeError::Malformed(format!("not CBOR ({e})")))?;
        let Value::Array(items) = value else {
            return Err(DecodeError::Malformed("expected an array".into()));
        };
        let [version, kind, signer, body, signature]: [Value; 5] =
            items.try_into().map_err(|items: Vec<Value>| {
                DecodeError::Malformed(format!("expected 5 fields, got {}", items.len()))
            })?;
        let version = match version {
            Value::Integer(v) => {
                u64::try_from(v).map_err(|_| DecodeError::Malformed("negative version".into()))?
            }
            _ => return Err(DecodeError::Malformed("version must be an integer".into())),
        };
        if version != u64::from(FORMAT_VERSION) {
            return Err(DecodeError::Version(version));
        }
        let Value::Text(kind) = kind else {
            return Err(DecodeError::Malformed("kind must be text".into()));
        };
        if kind != T::KIND.label() {
            return Err(DecodeError::WrongKind {
                expected: T::KIND.label(),
                found: kind.chars().take(40).collect(),
            });
        }
        let (Value::Bytes(signer), Value::Bytes(body), Value::Bytes(signature)) =
            (signer, body, signature)
        else {
            return Err(DecodeError::Malformed(
                "signer, body and signature must be byte strings".into(),
            ));
        };
        let signer = PublicKey::from_bytes(&signer)
            .map_err(|e| DecodeError::Malformed(format!("signer: {e}")))?;
        let signature: [u8; 64] = signature.as_slice().try_into().map_err(|_| {
            DecodeError::Malformed(format!(
                "signature must be 64 bytes, got {}",
                signature.len()
            ))
        })?;
        let object: T = ciborium::from_reader(body.as_slice()).map_err(|e| DecodeError::Body {
            kind: T::KIND.label(),
            detail: e.to_string(),
        })?;
        if canonical_cbor(&object) != body {
            return Err(DecodeError::Body {
                kind: T::KIND.label(),
                detail: "not in canonical encoding".into(),
            });
        }
        let signed = Self {
            signer,
            body,
            signature,
            _object: PhantomData,
        };
        // The whole envelope must be canonical too: one object, one byte string.
        if signed.to_bytes() != bytes {
            return Err(DecodeError::Malformed("not in canonical encoding".into()));
        }
        Ok(signed)
    }

    /// The envelope as base64url text, for JSON.
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    /// Reads the base64url text form.
    pub fn from_base64(text: &str) -> Result<Self, DecodeError> {
        if text.len() > MAX_ENVELOPE_BYTES * 4 / 3 + 4 {
            return Err(DecodeError::TooLarge(text.len() * 3 / 4));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| DecodeError::NotBase64)?;
        Self::from_bytes(&bytes)
    }
}

/// Inside CBOR another envelope is a byte string; inside JSON, base64url text.
impl<T: SignedObject> Serialize for Signed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_base64())
        } else {
            serializer.serialize_bytes(&self.to_bytes())
        }
    }
}

impl<'de, T: SignedObject> Deserialize<'de> for Signed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            Self::from_base64(&text).map_err(D::Error::custom)
        } else {
            let bytes = serde_bytes::ByteBuf::deserialize(deserializer)?;
            Self::from_bytes(&bytes).map_err(D::Error::custom)
        }
    }
}
