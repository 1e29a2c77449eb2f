//! What the password becomes on this device, and how the household key travels.
//!
//! The password never leaves the device. Argon2id (with the parameters and salt the
//! cloud hands out for the login) stretches it into one master secret; two keys are
//! expanded from it with HKDF-SHA256 under different labels:
//!
//! - the **auth key**, sent to the cloud in place of the password (the cloud stores
//!   only its Argon2id hash), and
//! - the **wrapping key**, which never leaves the device and encrypts the household's
//!   Ed25519 key (XChaCha20-Poly1305) so the cloud can store it without being able
//!   to use it. A breached cloud holds a ciphertext, not the key that opens doors.
//!
//! Wrapped blob: `1 ‖ nonce (24) ‖ ciphertext of the 32-byte seed ‖ tag (16)`, with the
//! login e-mail as associated data so a blob cannot be moved to another login.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use doorstep_api::KdfParams;
use doorstep_proto::SigningKey;
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::Zeroizing;

use crate::encoding::{b64, unb64};

const WRAP_VERSION: u8 = 1;
const AUTH_LABEL: &[u8] = b"doorstep/v1 auth key";
const WRAP_LABEL: &[u8] = b"doorstep/v1 household wrapping key";

/// The two keys derived from a password.
pub struct PasswordKeys {
    auth_key: Zeroizing<[u8; 32]>,
    wrapping_key: WrappingKey,
}

/// A key that seals the household key for the cloud to keep.
struct WrappingKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for PasswordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordKeys(..)")
    }
}

/// Why the password could not be turned into keys, or a wrapped key not opened.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The cloud asked for a derivation this client does not do, or absurd parameters.
    #[error("the cloud asked for key derivation this version cannot do ({0}); update Doorstep")]
    Unsupported(String),
    /// The blob is not a wrapped key, or the password is not the one it was wrapped with.
    #[error(
        "the household key could not be opened with this password (or it was damaged); \
         if the password was changed on another device, sign in with the new one"
    )]
    Unwrap,
}

impl PasswordKeys {
    /// Stretches `password` with the cloud's Argon2id parameters for this login.
    /// Deliberately slow (about a second): it is what makes a stolen auth-key hash
    /// expensive to attack.
    pub fn derive(password: &SecretString, params: &KdfParams) -> Result<Self, KeyError> {
        if params.algorithm != "argon2id" {
            return Err(KeyError::Unsupported(format!(
                "algorithm {:?}",
                params.algorithm
            )));
        }
        // Bounds that keep a hostile cloud from making the client hang or run out of memory.
        if !(8 * 1024..=1024 * 1024).contains(&params.memory_kib)
            || !(1..=16).contains(&params.iterations)
            || !(1..=8).contains(&params.parallelism)
        {
            return Err(KeyError::Unsupported(format!(
                "memory {} KiB, {} passes, {} lanes",
                params.memory_kib, params.iterations, params.parallelism
            )));
        }
        let salt = unb64(&params.salt)
            .ok()
            .filter(|s| (16..=64).contains(&s.len()))
            .ok_or_else(|| KeyError::Unsupported("a salt that is not 16–64 bytes".into()))?;
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(
                params.memory_kib,
                params.iterations,
                params.parallelism,
                Some(32),
            )
            .map_err(|e| KeyError::Unsupported(e.to_string()))?,
        );
        let mut master = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password.expose_secret().as_bytes(), &salt, master.as_mut())
            .map_err(|e| KeyError::Unsupported(e.to_string()))?;
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(&salt), master.as_ref());
        let (auth_key, wrapping_key) = expand(&hkdf, AUTH_LABEL, WRAP_LABEL);
        Ok(Self {
            auth_key,
            wrapping_key,
        })
    }

    /// The auth key as the cloud expects it (base64url).
    pub fn auth_key_text(&self) -> SecretString {
        SecretString::from(b64(self.auth_key.as_ref()))
    }

    /// Encrypts the household key for the cloud to keep.
    pub fn wrap(&self, household_key: &SigningKey, email: &str) -> String {
        self.wrapping_key.wrap(household_key, email)
    }

    /// Opens the household key the cloud kept.
    pub fn unwrap(&self, wrapped: &str, email: &str) -> Result<SigningKey, KeyError> {
        self.wrapping_key.unwrap(wrapped, email)
    }
}

/// The auth key and the wrapping key, expanded from one master secret under two
/// labels.
fn expand(
    hkdf: &hkdf::Hkdf<sha2::Sha256>,
    auth_label: &[u8],
    wrap_label: &[u8],
) -> (Zeroizing<[u8; 32]>, WrappingKey) {
    let mut auth_key = Zeroizing::new([0u8; 32]);
    let mut wrapping_key = Box::new([0u8; 32]);
    // 32-byte outputs from SHA-256 HKDF cannot fail.
    let _ = hkdf.expand(auth_label, auth_key.as_mut());
    let _ = hkdf.expand(wrap_label, wrapping_key.as_mut());
    (auth_key, WrappingKey(SecretBox::new(wrapping_key)))
}

impl WrappingKey {
    fn wrap(&self, household_key: &SigningKey, email: &str) -> String {
        let cipher = XChaCha20Poly1305::new(self.0.expose_secret().into());
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let seed = Zeroizing::new(household_key.to_seed());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: seed.as_ref(),
                    aad: email.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut blob = Vec::with_capacity(1 + 24 + sealed.len());
        blob.push(WRAP_VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        b64(&blob)
    }

    fn unwrap(&self, wrapped: &str, email: &str) -> Result<SigningKey, KeyError> {
        let blob = unb64(wrapped).map_err(|_| KeyError::Unwrap)?;
        if blob.len() != 1 + 24 + 32 + 16 || blob[0] != WRAP_VERSION {
            return Err(KeyError::Unwrap);
        }
        let cipher = XChaCha20Poly1305::new(self.0.expose_secret().into());
        let seed = Zeroizing::new(
            cipher
                .decrypt(
                    XNonce::from_slice(&blob[1..25]),
                    Payload {
                        msg: &blob[25..],
                        aad: email.as_bytes(),
                    },
                )
                .map_err(|_| KeyError::Unwrap)?,
        );
        let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| KeyError::Unwrap)?;
        Ok(SigningKey::from_seed(&seed))
    }
}

/// The recovery key a household keeps on paper, made at sign-up (and anew on
/// request): 20 random bytes, written as 32 symbols in eight groups of four. It
/// stands in for the password: the household key is sealed a second time under a
/// key derived from it, and the cloud keeps only that seal and the hash of a second
/// derived key, its proof. With 160 random bits there is nothing to guess, so plain
/// HKDF suffices where a password needs Argon2id.
pub struct RecoveryKey(Zeroizing<[u8; RECOVERY_BYTES]>);

const RECOVERY_BYTES: usize = 20;
const RECOVERY_SALT: &[u8] = b"doorstep/v1 recovery key";
const RECOVERY_AUTH_LABEL: &[u8] = b"doorstep/v1 recovery auth key";
const RECOVERY_WRAP_LABEL: &[u8] = b"doorstep/v1 recovery wrapping key";

impl std::fmt::Debug for RecoveryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryKey(..)")
    }
}

/// Why typed text is not a recovery key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryKeyError {
    /// Not 32 symbols once dashes and spaces are dropped.
    #[error(
        "a recovery key has 32 letters and digits in eight groups of four (like ABCD-EFGH-…); this one has {0}"
    )]
    Length(usize),
    /// A character no recovery key has.
    #[error("a recovery key has no {0:?} (it uses A–Z without I and O, and 2–9)")]
    Symbol(char),
}

impl RecoveryKey {
    /// A fresh random recovery key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; RECOVERY_BYTES]);
        OsRng.fill_bytes(bytes.as_mut());
        Self(bytes)
    }

    /// Reads a recovery key as a person typed it from paper.
    pub fn parse(text: &str) -> Result<Self, RecoveryKeyError> {
        let bytes = doorstep_proto::read_symbols::<RECOVERY_BYTES>(text).map_err(|e| match e {
            doorstep_proto::SymbolError::Length(n) => RecoveryKeyError::Length(n),
            doorstep_proto::SymbolError::Symbol(c) => RecoveryKeyError::Symbol(c),
        })?;
        Ok(Self(Zeroizing::new(bytes)))
    }

    /// The key as the household writes it down: `ABCD-EFGH-…`.
    pub fn to_text(&self) -> SecretString {
        SecretString::from(doorstep_proto::write_symbols(self.0.as_ref()))
    }

    /// Its proof for the cloud (base64url); the cloud keeps only its hash.
    pub fn auth_key_text(&self) -> SecretString {
        let (auth_key, _) = self.keys();
        SecretString::from(b64(auth_key.as_ref()))
    }

    /// Seals the household key under the recovery key, for the cloud to keep.
    pub fn wrap(&self, household_key: &SigningKey, email: &str) -> String {
        self.keys().1.wrap(household_key, email)
    }

    /// Opens the household key the cloud kept under the recovery key.
    pub fn unwrap(&self, wrapped: &str, email: &str) -> Result<SigningKey, KeyError> {
        self.keys().1.unwrap(wrapped, email)
    }

    fn keys(&self) -> (Zeroizing<[u8; 32]>, WrappingKey) {
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(RECOVERY_SALT), self.0.as_ref());
        expand(&hkdf, RECOVERY_AUTH_LABEL, RECOVERY_WRAP_LABEL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> KdfParams {
        KdfParams {
            algorithm: "argon2id".into(),
            salt: b64(&[3; 16]),
            // Small parameters keep the unit test quick; the cloud hands out 64 MiB.
            memory_kib: 8 * 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[test]
    fn the_same_password_opens_the_key_and_another_does_not() {
        let keys = PasswordKeys::derive(&"correct horse".into(), &params()).unwrap();
        let household = SigningKey::generate();
        let wrapped = keys.wrap(&household, "a@example.org");
        let again = PasswordKeys::derive(&"correct horse".into(), &params()).unwrap();
        assert_eq!(
            again
                .unwrap(&wrapped, "a@example.org")
                .unwrap()
                .public_key(),
            household.public_key()
        );
        assert_eq!(
            again.auth_key_text().expose_secret(),
            keys.auth_key_text().expose_secret()
        );
        let wrong = PasswordKeys::derive(&"wrong horse".into(), &params()).unwrap();
        assert!(matches!(
            wrong.unwrap(&wrapped, "a@example.org"),
            Err(KeyError::Unwrap)
        ));
        // Moved to another login, the blob does not open either.
        assert!(again.unwrap(&wrapped, "b@example.org").is_err());
    }

    #[test]
    fn the_auth_key_reveals_nothing_about_the_wrapping_key() {
        let keys = PasswordKeys::derive(&"pw".into(), &params()).unwrap();
        assert_ne!(
            keys.auth_key_text().expose_secret().as_bytes(),
            b64(keys.wrapping_key.0.expose_secret()).as_bytes()
        );
    }

    #[test]
    fn a_recovery_key_read_back_from_paper_opens_the_key_and_another_does_not() {
        let recovery = RecoveryKey::generate();
        let household = SigningKey::generate();
        let sealed = recovery.wrap(&household, "a@example.org");
        let text = recovery.to_text();
        assert_eq!(text.expose_secret().len(), 32 + 7, "eight groups of four");
        let typed =
            RecoveryKey::parse(&text.expose_secret().to_lowercase().replace('-', " ")).unwrap();
        assert_eq!(
            typed.unwrap(&sealed, "a@example.org").unwrap().public_key(),
            household.public_key()
        );
        assert_eq!(
            typed.auth_key_text().expose_secret(),
            recovery.auth_key_text().expose_secret()
        );
        assert!(
            RecoveryKey::generate()
                .unwrap(&sealed, "a@example.org")
                .is_err()
        );
        assert!(typed.unwrap(&sealed, "b@example.org").is_err());
        // The proof the cloud sees is not the key that opens the seal, nor the key.
        let (_, wrapping) = recovery.keys();
        assert_ne!(
            recovery.auth_key_text().expose_secret(),
            &b64(wrapping.0.expose_secret())
        );
        assert!(!format!("{recovery:?}").contains(&text.expose_secret()[..4]));
        // A password's keys never open a recovery seal.
        let password = PasswordKeys::derive(&"correct horse".into(), &params()).unwrap();
        assert!(password.unwrap(&sealed, "a@example.org").is_err());
    }

    #[test]
    fn a_mistyped_recovery_key_is_named() {
        assert_eq!(
            RecoveryKey::parse("ABCD-EFGH").unwrap_err(),
            RecoveryKeyError::Length(8)
        );
        let with_o = format!("{}O", "A".repeat(31));
        assert_eq!(
            RecoveryKey::parse(&with_o).unwrap_err(),
            RecoveryKeyError::Symbol('O')
        );
        let message = RecoveryKey::parse("").unwrap_err().to_string();
        assert!(message.contains("32 letters and digits"), "{message}");
    }

    #[test]
    fn a_hostile_cloud_cannot_ask_for_absurd_work() {
        let mut huge = params();
        huge.memory_kib = 64 * 1024 * 1024;
        assert!(matches!(
            PasswordKeys::derive(&"pw".into(), &huge),
            Err(KeyError::Unsupported(_))
        ));
        let mut other = params();
        other.algorithm = "md5".into();
        assert!(PasswordKeys::derive(&"pw".into(), &other).is_err());
    }
}
