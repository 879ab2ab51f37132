//! The signed-request layout (API.md "Authentication"), pure: no I/O, no clock.
//! The server's check and the `hashmarket sign` command both use it, so they
//! cannot disagree.
//!
//! ```text
//! string-to-sign = timestamp "\n" nonce "\n" METHOD "\n" path_and_query "\n" hex(sha256(body))
//! HM-Signature   = lowercase hex of HMAC-SHA256(secret, string-to-sign)
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::crypto::sha256_hex;

/// Header: the API key.
pub const HEADER_KEY: &str = "HM-Key";
/// Header: milliseconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "HM-Timestamp";
/// Header: a value never reused with this key.
pub const HEADER_NONCE: &str = "HM-Nonce";
/// Header: the signature.
pub const HEADER_SIGNATURE: &str = "HM-Signature";
/// Longest nonce.
pub const NONCE_MAX_CHARS: usize = 64;

/// The parts of a request that are signed.
#[derive(Debug, Clone, Copy)]
pub struct SignedParts<'a> {
    /// `HM-Timestamp`, as sent (decimal milliseconds).
    pub timestamp_ms: &'a str,
    /// `HM-Nonce`.
    pub nonce: &'a str,
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The path and query exactly as sent.
    pub path_and_query: &'a str,
    /// The raw body (empty when there is none).
    pub body: &'a [u8],
}

impl SignedParts<'_> {
    /// The string that is signed.
    pub fn string_to_sign(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.timestamp_ms,
            self.nonce,
            self.method.to_ascii_uppercase(),
            self.path_and_query,
            sha256_hex(self.body)
        )
    }

    /// Lowercase hex HMAC-SHA256 of the string-to-sign under `secret`.
    pub fn sign(&self, secret: &[u8]) -> String {
        hex::encode(self.mac(secret).finalize().into_bytes())
    }

    /// Whether `signature_hex` is the signature under `secret`, compared in
    /// constant time (`hmac`'s `verify_slice`).
    pub fn verify(&self, secret: &[u8], signature_hex: &str) -> bool {
        let Ok(given) = hex::decode(signature_hex) else {
            return false;
        };
        self.mac(secret).verify_slice(&given).is_ok()
    }

    fn mac(&self, secret: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC accepts keys of any length");
        mac.update(self.string_to_sign().as_bytes());
        mac
    }
}

/// Whether `nonce` is 1–64 characters of `[A-Za-z0-9_-]`.
pub fn nonce_is_valid(nonce: &str) -> bool {
    (1..=NONCE_MAX_CHARS).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector published in docs/security.md (computed independently with
    /// Python's `hmac` module; `docs/examples/hashmarket_client.py --self-test`
    /// checks the same figure).
    #[test]
    fn the_published_test_vector() {
        let parts = SignedParts {
            timestamp_ms: "1700000000000",
            nonce: "n-0001",
            method: "POST",
            path_and_query: "/v1/orders?market=sha256-30d",
            body: br#"{"market":"sha256-30d","side":"buy","hash_rate":"10 TH/s","price":"0.00000150","time_in_force":"gtc"}"#,
        };
        let secret = b"6f1c3a5e9b7d2f4a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a";
        assert_eq!(
            parts.string_to_sign(),
            "1700000000000\nn-0001\nPOST\n/v1/orders?market=sha256-30d\n\
             3751c2ca9affad1ffcae34f2d07e275aaa76ad6d94adf87f7fbef12d1fd1c142"
        );
        assert_eq!(parts.sign(secret), VECTOR_SIGNATURE);
        assert!(parts.verify(secret, VECTOR_SIGNATURE));
    }

    const VECTOR_SIGNATURE: &str =
        "877e1ec0a0cb0e2d7ce63469df6d35f36eaeb8e2ea69c0b3bce32126d69dd4ee";

    #[test]
    fn any_change_breaks_the_signature() {
        let base = SignedParts {
            timestamp_ms: "1",
            nonce: "a",
            method: "GET",
            path_and_query: "/v1/balances",
            body: b"",
        };
        let signature = base.sign(b"k");
        assert!(base.verify(b"k", &signature));
        assert!(!base.verify(b"other", &signature));
        for changed in [
            SignedParts {
                timestamp_ms: "2",
                ..base
            },
            SignedParts { nonce: "b", ..base },
            SignedParts {
                method: "POST",
                ..base
            },
            SignedParts {
                path_and_query: "/v1/balances?x=1",
                ..base
            },
            SignedParts {
                body: b"{}",
                ..base
            },
        ] {
            assert!(!changed.verify(b"k", &signature));
        }
        assert!(!base.verify(b"k", "not hex"));
        assert!(!base.verify(b"k", &signature[..10]));
    }

    #[test]
    fn nonce_rules() {
        assert!(nonce_is_valid("abc_DEF-123"));
        assert!(nonce_is_valid(&"a".repeat(64)));
        assert!(!nonce_is_valid(""));
        assert!(!nonce_is_valid(&"a".repeat(65)));
        assert!(!nonce_is_valid("a b"));
        assert!(!nonce_is_valid("é"));
    }
}
