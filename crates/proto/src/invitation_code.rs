//! The code a household gives a guest (SPEC §6: guests are invited with a code, never
//! asked for a key).
//!
//! 15 random bytes written as 24 symbols of [`FINGERPRINT_ALPHABET`] in groups of four.
//! The first 5 bytes (the first 8 symbols) name the invitation to the cloud; the other
//! 10 are a secret the cloud never sees. Redeeming, the guest makes a key and sends the
//! cloud its public half with [`InvitationCode::proof`], an HMAC of it under the secret.
//! The household's device, which sealed the code for itself, checks the proof before it
//! signs the guest's [`GuestInvitation`](crate::GuestInvitation): a breached cloud can
//! neither redeem a code it only saw the name of nor swap its own key in.

use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};

use crate::keys::{FINGERPRINT_ALPHABET, PublicKey};
use crate::symbols::{SymbolError, group, normalize, read_symbols, write_symbols};

const ID_BYTES: usize = 5;
const SECRET_BYTES: usize = 10;
const PROOF_LABEL: &[u8] = b"doorstep/v1 guest invitation proof";

/// A guest invitation code.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationCode {
    bytes: [u8; ID_BYTES + SECRET_BYTES],
}

impl std::fmt::Debug for InvitationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret half never reaches a log.
        write!(f, "InvitationCode({}-…)", self.id())
    }
}

impl Drop for InvitationCode {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
    }
}

/// Why text is not an invitation code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not 24 symbols once dashes and spaces are dropped.
    #[error(
        "an invitation code has 24 letters and digits (like ABCD-EFGH-JKLM-NPQR-STUV-WXYZ); this one has {0}"
    )]
    Length(usize),
    /// A character that no code has.
    #[error("an invitation code has no {0:?} (codes use A–Z without I and O, and 2–9)")]
    Symbol(char),
}

impl InvitationCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES + SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// Reads a code as a person typed or pasted it: case, dashes and spaces aside;
    /// the letters a person confuses with digits (`O`, `I`) are read as `0`/`1` are not
    /// in codes, so they are refused by name.
    pub fn parse(text: &str) -> Result<Self, CodeError> {
        let bytes = read_symbols(text).map_err(|e| match e {
            SymbolError::Length(n) => CodeError::Length(n),
            SymbolError::Symbol(c) => CodeError::Symbol(c),
        })?;
        Ok(Self { bytes })
    }

    /// The code as the household gives it: `ABCD-EFGH-…`, six groups of four.
    pub fn to_text(&self) -> String {
        write_symbols(&self.bytes)
    }

    /// A code's name as a person or a request gave it (`abcd efgh`), written as
    /// [`Self::id`] writes it; `None` when it is not one.
    pub fn normalize_id(text: &str) -> Option<String> {
        let symbols = normalize(text);
        (symbols.len() == 8 && symbols.bytes().all(|b| FINGERPRINT_ALPHABET.contains(&b)))
            .then(|| group(&symbols))
    }

    /// The name the cloud knows the invitation by: the code's first two groups.
    pub fn id(&self) -> String {
        write_symbols(&self.bytes[..ID_BYTES])
    }

    /// The guest's proof that they hold the code, for the key they made.
    pub fn proof(&self, guest_key: &PublicKey) -> [u8; 32] {
        self.mac(guest_key).finalize().into_bytes().into()
    }

    /// Whether `proof` is this code's proof for `guest_key` (in constant time).
    pub fn verify_proof(&self, guest_key: &PublicKey, proof: &[u8]) -> bool {
        self.mac(guest_key).verify_slice(proof).is_ok()
    }

    fn mac(&self, guest_key: &PublicKey) -> Hmac<sha2::Sha256> {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.bytes[ID_BYTES..])
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(PROOF_LABEL);
        mac.update(&self.bytes[..ID_BYTES]);
        mac.update(guest_key.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SigningKey;

    #[test]
    fn a_code_reads_back_as_typed_and_its_proof_binds_the_key() {
        let code = InvitationCode::generate();
        let text = code.to_text();
        assert_eq!(text.len(), 29, "{text}");
        assert!(text.starts_with(&code.id()), "{text} / {}", code.id());
        let typed = format!("  {} ", text.to_lowercase().replace('-', " "));
        assert_eq!(InvitationCode::parse(&typed).unwrap(), code);
        assert!(
            !format!("{code:?}").contains(&text[10..]),
            "the secret stays out of logs"
        );

        let guest = SigningKey::generate().public_key();
        let proof = code.proof(&guest);
        assert!(code.verify_proof(&guest, &proof));
        // Another key, another code with the same name, or a cut proof: refused.
        assert!(!code.verify_proof(&SigningKey::generate().public_key(), &proof));
        let mut other = code.clone();
        other.bytes[ID_BYTES] ^= 1;
        assert_eq!(other.id(), code.id());
        assert!(!other.verify_proof(&guest, &proof));
        assert!(!code.verify_proof(&guest, &proof[..31]));
    }

    #[test]
    fn a_mistyped_code_is_named() {
        assert_eq!(
            InvitationCode::parse("ABCD-EFGH"),
            Err(CodeError::Length(8))
        );
        assert_eq!(
            InvitationCode::parse("ABCD-EFGH-JKLM-NPQR-STUV-WXYO"),
            Err(CodeError::Symbol('O'))
        );
        assert_eq!(
            InvitationCode::parse("ABCD-EFGH-JKLM-NPQR-STUV-WXY1"),
            Err(CodeError::Symbol('1'))
        );
        assert!(InvitationCode::parse("").is_err());
        assert_eq!(
            InvitationCode::normalize_id("abcd efgh").as_deref(),
            Some("ABCD-EFGH")
        );
        assert_eq!(InvitationCode::normalize_id("ABCD-EFG0"), None);
        assert_eq!(InvitationCode::normalize_id("../etc"), None);
        let message = InvitationCode::parse("ABC").unwrap_err().to_string();
        assert!(message.contains("24 letters and digits"), "{message}");
    }
}
