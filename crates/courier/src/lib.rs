//! The other side of a delivery: the carrier (announces shipments, is told of
//! reroutes) and the courier at the door (proves who it is to the lock, asks the
//! cloud for a grant, delivers, and leaves when the household blocks or reroutes).
//! A guest uses the same door steps with its own invitation.
#![deny(missing_docs)]

pub mod door;
pub mod webhook;

use doorstep_proto::SigningKey;

/// Reads a courier's (or guest's) key: a file with the 32-byte seed.
pub fn read_key(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("key file {}: {e}", path.display()))?;
    let seed: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| anyhow::anyhow!("key file {} must hold 32 bytes", path.display()))?;
    Ok(SigningKey::from_seed(&seed))
}

/// Writes a new key (0600) and returns it.
pub fn new_key(path: &std::path::Path) -> anyhow::Result<SigningKey> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let key = SigningKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(&key.to_seed())?;
    Ok(key)
}
