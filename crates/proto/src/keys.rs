//! Ed25519 keys. Private keys have no `Debug`, `Display` or `Serialize`, and are
//! wiped from memory when dropped.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An Ed25519 public key: who signed, or who may sign.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

/// Letters and digits people do not confuse (no I, O, 0, 1): 32 symbols, 5 bits each.
pub const FINGERPRINT_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Whether `text` is a fingerprint as [`PublicKey::fingerprint`] writes it
/// (case and dashes aside), and which.
pub fn normalize_fingerprint(text: &str) -> Option<String> {
    let symbols: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'-' && !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if symbols.len() != 20 || !symbols.iter().all(|b| FINGERPRINT_ALPHABET.contains(b)) {
        return None;
    }
    let mut out = String::with_capacity(24);
    for (index, symbol) in symbols.iter().enumerate() {
        if index > 0 && index % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(*symbol));
    }
    Some(out)
}

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not base64url.
    #[error("a key must be base64url text (no padding)")]
    NotBase64,
    /// Wrong number of bytes.
    #[error("a key must be 32 bytes, got {0}")]
    WrongLength(usize),
    /// 32 bytes that are not a point on the curve, or a weak key.
    #[error("the key is not a valid Ed25519 public key")]
    Invalid,
}

impl PublicKey {
    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from its 32 bytes, refusing what Ed25519 would refuse (and weak keys).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&array).map_err(|_| KeyError::Invalid)?;
        if key.is_weak() {
            return Err(KeyError::Invalid);
        }
        Ok(Self(array))
    }

    /// The key as base64url text, as JSON APIs carry it.
    pub fn to_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// A key from base64url text.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| KeyError::NotBase64)?;
        Self::from_bytes(&bytes)
    }

    /// The key's fingerprint as people compare it: the first 100 bits of
    /// SHA-256 over the key, in 20 unambiguous base32 characters, grouped by four
    /// (`ABCD-EFGH-JKLM-NPQR-STUV`). Finding another key with the same fingerprint
    /// costs about 2^100 key generations.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.0);
        let mut bits: u128 = 0;
        for byte in &digest[..13] {
            bits = (bits << 8) | u128::from(*byte);
        }
        // 13 bytes = 104 bits; keep the top 100.
        bits >>= 4;
        let mut out = String::with_capacity(24);
        for index in 0..20 {
            if index > 0 && index % 4 == 0 {
                out.push('-');
            }
            let shift = 5 * (19 - index);
            let symbol = usize::try_from((bits >> shift) & 31).unwrap_or(0);
            out.push(char::from(FINGERPRINT_ALPHABET[symbol]));
        }
        out
    }

    /// Checks `signature` over `message` with the strict rules (no malleable
    /// signatures, no small-order keys).
    pub(crate) fn verify_strict(&self, message: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        key.verify_strict(message, &signature).is_ok()
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&self.to_base64())
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for PublicKey {
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

/// An Ed25519 private key. Deliberately not `Debug`, `Clone` or `Serialize`.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only the public half: a private key must never reach a log.
        write!(f, "SigningKey(public: {})", self.public_key())
    }
}

impl SigningKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        Self(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng))
    }

    /// The key for a 32-byte seed (what the keyring and data folders store).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The seed, for storing the key in a secure place. Handle with care.
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.0.sign(message).to_bytes()
    }
}
