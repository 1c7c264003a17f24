//! TLS for the admin connection: rustls (ring) with a verifier that validates the server chain to
//! the kit's root CA and skips only the host name check, like Python's `check_hostname=False`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::crypto::verify_server_chain;
use crate::kit::{AdminKit, Security};

/// Accepts a server whose chain validates to the project root CA, whatever its host name.
#[derive(Debug)]
pub(crate) struct RootCaVerifier {
    root: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl RootCaVerifier {
    pub(crate) fn new(root: CertificateDer<'static>, provider: Arc<CryptoProvider>) -> Self {
        Self { root, provider }
    }
}

impl ServerCertVerifier for RootCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        verify_server_chain(end_entity, intermediates, &self.root, now).map_err(|e| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(e),
            )))
        })?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls client config for a kit (mutual TLS presents the kit's client certificate).
pub(crate) fn client_config(kit: &AdminKit) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(RootCaVerifier::new(kit.root.clone(), provider.clone()));
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match kit.security {
        Security::Mtls => {
            builder.with_client_auth_cert(kit.cert_chain.clone(), kit.tls_key.clone_key())
        }
        Security::Tls | Security::Clear => Ok(builder.with_no_client_auth()),
    }
}
