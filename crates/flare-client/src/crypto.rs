//! FLARE's application-level signatures (RSA-PSS, SHA-256, maximum salt) and certificate checks.

use rsa::pkcs8::DecodePublicKey;
use rsa::{Pss, RsaPrivateKey, RsaPublicKey};
use rustls_pki_types::{CertificateDer, UnixTime};
use sha2::{Digest, Sha256};

/// PSS salt length `PSS.MAX_LENGTH` as Python's `cryptography` computes it: emLen - hLen - 2
/// (222 bytes for RSA-2048).
pub(crate) fn max_salt_len(modulus_bits: usize) -> usize {
    let em_len = (modulus_bits - 1).div_ceil(8);
    em_len.saturating_sub(32 + 2)
}

/// Signs UTF-8 `content` the way `nvflare.lighter.utils.sign_content` does.
pub(crate) fn pss_sign(key: &RsaPrivateKey, content: &[u8]) -> Result<Vec<u8>, rsa::Error> {
    use rsa::traits::PublicKeyParts;
    let salt = max_salt_len(key.n().bits());
    let digest = Sha256::digest(content);
    key.sign_with_rng(
        &mut rsa::rand_core::OsRng,
        Pss::new_with_salt::<Sha256>(salt),
        &digest,
    )
}

/// Verifies a FLARE signature made with the maximum salt length.
pub(crate) fn pss_verify(key: &RsaPublicKey, content: &[u8], signature: &[u8]) -> bool {
    use rsa::traits::PublicKeyParts;
    let salt = max_salt_len(key.n().bits());
    let digest = Sha256::digest(content);
    key.verify(Pss::new_with_salt::<Sha256>(salt), &digest, signature)
        .is_ok()
}

/// The RSA public key of a DER certificate.
pub(crate) fn cert_public_key(der: &[u8]) -> Result<RsaPublicKey, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    RsaPublicKey::from_public_key_der(cert.public_key().raw)
        .map_err(|e| format!("certificate key is not rsa: {e}"))
}

/// Validates `leaf` (+ `intermediates`) up to `root` for TLS server use, as Python's
/// `load_verify_locations` does, without any host name check.
pub(crate) fn verify_server_chain(
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    root: &CertificateDer<'_>,
    now: UnixTime,
) -> Result<(), webpki::Error> {
    let anchor = webpki::anchor_from_trusted_cert(root)?;
    let ee = webpki::EndEntityCert::try_from(leaf)?;
    let algs = rustls::crypto::ring::default_provider()
        .signature_verification_algorithms
        .all;
    ee.verify_for_usage(
        algs,
        &[anchor],
        intermediates,
        now,
        webpki::KeyUsage::server_auth(),
        None,
        None,
    )?;
    Ok(())
}
