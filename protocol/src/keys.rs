//! ECDSA P-256 keys, signatures and fingerprints (ring), as both parties use them.
//!
//! Public keys travel as uncompressed SEC1 points (65 bytes), signatures as fixed-length
//! `r ‖ s` (64 bytes), both in unpadded base64url.

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
};

use crate::encoding::{self, DecodeError};

/// Length of an uncompressed P-256 public key.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a fixed-length P-256 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A key that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a P-256 PKCS#8 private key.
    #[error("not a P-256 PKCS#8 private key")]
    InvalidPrivateKey,
    /// Not an uncompressed P-256 public key.
    #[error("not an uncompressed P-256 public key")]
    InvalidPublicKey,
    /// The system random source failed.
    #[error("the system random number generator failed")]
    Random,
}

/// A P-256 signing key (a device's, or the server's).
pub struct SigningKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl SigningKey {
    /// Generates a new key; returns it with its PKCS#8 encoding (to store, sealed).
    pub fn generate() -> Result<(Self, Vec<u8>), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Random)?;
        let key = Self::from_pkcs8(pkcs8.as_ref())?;
        Ok((key, pkcs8.as_ref().to_vec()))
    }

    /// Loads a key from its PKCS#8 encoding.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| KeyError::InvalidPrivateKey)?;
        Ok(Self { pair, rng })
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        let mut bytes = [0u8; PUBLIC_KEY_LEN];
        bytes.copy_from_slice(self.pair.public_key().as_ref());
        PublicKey(bytes)
    }

    /// Signs `message` (ECDSA P-256 with SHA-256).
    pub fn sign(&self, message: &[u8]) -> Result<Signature, KeyError> {
        let signature = self
            .pair
            .sign(&self.rng, message)
            .map_err(|_| KeyError::Random)?;
        let mut bytes = [0u8; SIGNATURE_LEN];
        bytes.copy_from_slice(signature.as_ref());
        Ok(Signature(bytes))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(public {})", self.public_key())
    }
}

/// An uncompressed P-256 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Takes 65 bytes that must be an uncompressed point (`0x04 ‖ x ‖ y`).
    ///
    /// The point is checked to be on the curve when a signature is verified.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: [u8; PUBLIC_KEY_LEN] =
            bytes.try_into().map_err(|_| KeyError::InvalidPublicKey)?;
        if array[0] != 0x04 {
            return Err(KeyError::InvalidPublicKey);
        }
        Ok(Self(array))
    }

    /// Parses the base64url form used on the wire.
    pub fn from_base64(text: &str) -> Result<Self, DecodeError> {
        let bytes = encoding::decode(text)?;
        Self::from_bytes(&bytes).map_err(|_| DecodeError)
    }

    /// Takes a key as a platform key store exports it: the raw uncompressed point (Apple's
    /// `SecKeyCopyExternalRepresentation`) or a P-256 X.509 `SubjectPublicKeyInfo` (Java's
    /// `PublicKey.getEncoded()`). Any other curve or encoding is `InvalidPublicKey`.
    pub fn from_platform(bytes: &[u8]) -> Result<Self, KeyError> {
        match crate::der::p256_point_from_spki(bytes) {
            Some(point) => Self::from_bytes(&point),
            None => Self::from_bytes(bytes),
        }
    }

    /// The 65 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// SHA-256 of the 65 bytes: what an enrollment link pins.
    pub fn fingerprint(&self) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.0);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Fingerprint(bytes)
    }

    /// True if `signature` is this key's signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.0)
            .verify(message, &signature.0)
            .is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encoding::encode(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// The SHA-256 fingerprint of a public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Parses the base64url form carried in enrollment links.
    pub fn from_base64(text: &str) -> Result<Self, DecodeError> {
        let bytes = encoding::decode(text)?;
        bytes.try_into().map(Self).map_err(|_| DecodeError)
    }

    /// Compares in constant time (the fingerprint is public, but this costs nothing).
    pub fn matches(&self, key: &PublicKey) -> bool {
        crate::ct::eq(&self.0, &key.fingerprint().0)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encoding::encode(&self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A fixed-length P-256 signature (`r ‖ s`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature([u8; SIGNATURE_LEN]);

impl Signature {
    /// Takes exactly 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        bytes.try_into().map(Self).map_err(|_| DecodeError)
    }

    /// Parses the base64url form used on the wire.
    pub fn from_base64(text: &str) -> Result<Self, DecodeError> {
        Self::from_bytes(&encoding::decode(text)?)
    }

    /// Takes an X9.62 DER signature (what JCA's `SHA256withECDSA`, Android Keystore and
    /// Apple's `SecKeyCreateSignature` return) in its one strict DER form.
    pub fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        crate::der::fixed_from_der_signature(der)
            .map(Self)
            .ok_or(DecodeError)
    }

    /// The 64 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&encoding::encode(&self.0))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_key_and_message() {
        let (key, pkcs8) = SigningKey::generate().unwrap();
        let again = SigningKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        let signature = key.sign(b"message").unwrap();
        assert!(key.public_key().verify(b"message", &signature));
        assert!(!key.public_key().verify(b"messagf", &signature));
        let (other, _) = SigningKey::generate().unwrap();
        assert!(!other.public_key().verify(b"message", &signature));
        let round = Signature::from_base64(&signature.to_string()).unwrap();
        assert_eq!(round, signature);
    }

    #[test]
    fn fingerprints_pin_one_key() {
        let (key, _) = SigningKey::generate().unwrap();
        let (other, _) = SigningKey::generate().unwrap();
        let fingerprint = key.public_key().fingerprint();
        assert!(fingerprint.matches(&key.public_key()));
        assert!(!fingerprint.matches(&other.public_key()));
        let parsed = Fingerprint::from_base64(&fingerprint.to_string()).unwrap();
        assert_eq!(parsed, fingerprint);
    }

    #[test]
    fn a_der_signature_from_ring_verifies_in_its_fixed_form() {
        // ring signs the same key both ways: the DER form, converted, must verify as the
        // protocol's fixed form, and its public key must read from an X.509 wrapping.
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let asn1 = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        let public = PublicKey::from_platform(asn1.public_key().as_ref()).unwrap();
        for _ in 0..64 {
            let der = asn1.sign(&rng, b"message").unwrap();
            let fixed = Signature::from_der(der.as_ref()).unwrap();
            assert!(public.verify(b"message", &fixed));
            assert!(!public.verify(b"messagf", &fixed));
        }
        let mut spki = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        spki.extend_from_slice(public.as_bytes());
        assert_eq!(PublicKey::from_platform(&spki).unwrap(), public);
        assert!(PublicKey::from_platform(&spki[1..]).is_err());
        assert!(Signature::from_der(&[0x30, 0x00]).is_err());
    }

    #[test]
    fn malformed_keys_are_errors() {
        assert!(SigningKey::from_pkcs8(b"not a key").is_err());
        assert!(PublicKey::from_bytes(&[4; 64]).is_err());
        assert!(PublicKey::from_bytes(&[2; 65]).is_err());
        // A well-formed but off-curve point never verifies anything.
        let bogus = PublicKey::from_bytes(&[4; 65]).unwrap();
        assert!(!bogus.verify(b"x", &Signature([1; 64])));
    }
}
