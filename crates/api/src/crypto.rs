//! Secrets at rest and random tokens.
//!
//! API-key and TOTP secrets must be recoverable (the server recomputes HMACs and
//! codes with them), so they cannot be hashed like passwords. They are *sealed*:
//! encrypted with AES-256-GCM under a 256-bit master key that lives outside the
//! database (configuration or a file), with a fresh 96-bit random nonce per
//! secret and the row's identity as associated data, so a sealed value copied
//! onto another row does not open. A stolen database alone reveals no secret.
//!
//! Tokens that are only ever compared (refresh tokens, email tokens) are stored as
//! their SHA-256: they are 256-bit random values, so a fast hash is enough.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};

/// Bytes of the master key.
pub const MASTER_KEY_BYTES: usize = 32;
/// Bytes of an AES-GCM nonce.
const NONCE_BYTES: usize = 12;

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// Given directly (`HASHMARKET_MASTER_KEY`, 64 hex digits).
    Key([u8; MASTER_KEY_BYTES]),
    /// Read from this file, which is created (0600) with a random key if absent.
    File(PathBuf),
}

/// Why the master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The file exists but does not hold 64 hex digits.
    #[error("master key file {path} does not hold 64 hex digits")]
    Malformed {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be read or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The key that seals secrets at rest.
#[derive(Clone)]
pub struct MasterKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A key from its bytes.
    pub fn new(bytes: &[u8; MASTER_KEY_BYTES]) -> MasterKey {
        MasterKey {
            cipher: Aes256Gcm::new(bytes.into()),
        }
    }

    /// Loads the key from `source`, generating the file once if it is missing.
    pub fn load(source: &MasterKeySource) -> Result<MasterKey, MasterKeyError> {
        match source {
            MasterKeySource::Key(bytes) => Ok(MasterKey::new(bytes)),
            MasterKeySource::File(path) => load_or_create(path).map(|b| MasterKey::new(&b)),
        }
    }

    /// Parses 64 hex digits.
    pub fn parse_hex(text: &str) -> Option<[u8; MASTER_KEY_BYTES]> {
        let bytes = hex::decode(text.trim()).ok()?;
        bytes.try_into().ok()
    }

    /// Seals `plaintext` bound to `context` (e.g. the row id): hex(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a small buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        hex::encode(out)
    }

    /// Opens what [`MasterKey::seal`] made for the same `context`; `None` if it was
    /// altered, sealed for another context, or under another key.
    pub fn open(&self, sealed_hex: &str, context: &str) -> Option<Vec<u8>> {
        let bytes = hex::decode(sealed_hex).ok()?;
        if bytes.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .ok()
    }
}

fn load_or_create(path: &Path) -> Result<[u8; MASTER_KEY_BYTES], MasterKeyError> {
    let io = |source| MasterKeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => MasterKey::parse_hex(&text).ok_or_else(|| MasterKeyError::Malformed {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; MASTER_KEY_BYTES] = rand::random();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path).map_err(io)?;
            file.write_all(hex::encode(key).as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            tracing::warn!(
                path = %path.display(),
                "generated a new master key for API-key and TOTP secrets; back it up \
                 (without it those secrets cannot be opened) or set HASHMARKET_MASTER_KEY"
            );
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

/// `bytes` random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::Rng::fill(&mut rand::thread_rng(), buf.as_mut_slice());
    hex::encode(buf)
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key_and_context() {
        let key = MasterKey::new(&[1u8; 32]);
        let sealed = key.seal(b"secret", "row-1");
        assert!(!sealed.contains(&hex::encode(b"secret")));
        assert_eq!(key.open(&sealed, "row-1").as_deref(), Some(&b"secret"[..]));
        assert_eq!(key.open(&sealed, "row-2"), None);
        assert_eq!(MasterKey::new(&[2u8; 32]).open(&sealed, "row-1"), None);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            key.open(&String::from_utf8(tampered).unwrap(), "row-1"),
            None
        );
        assert_eq!(key.open("zz", "row-1"), None);
        // A fresh nonce per seal: the same secret seals differently.
        assert_ne!(key.seal(b"secret", "row-1"), sealed);
    }

    #[test]
    fn the_key_file_is_created_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let source = MasterKeySource::File(path.clone());
        let sealed = MasterKey::load(&source).unwrap().seal(b"x", "c");
        // The second load reads the same key back.
        assert!(MasterKey::load(&source)
            .unwrap()
            .open(&sealed, "c")
            .is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            MasterKey::load(&source),
            Err(MasterKeyError::Malformed { .. })
        ));
    }
}
