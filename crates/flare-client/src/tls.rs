//! TLS for the admin connection: rustls (ring) with a verifier that validates the server chain to
//! the kit's root CA and then the server's identity: the certificate's CN must be the kit's
//! provisioned server name (`server_identity`), not merely any certificate of the project, so a
//! site's certificate from the same root cannot pose as the server. Python checks only the chain
//! (`check_hostname=False`) and the name later, in the login challenge; the dialed host is not
//! what a provisioned certificate names (POC: `localhost` dialed, CN `server`), so it is not
//! checked, except for a `customRootCA.pem` certificate, which must be valid for the dialed host.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::crypto::verify_server_chain;
use crate::kit::{AdminKit, Security, ServerCertName, cert_cn};

/// Why the server's certificate does not identify the server the kit names.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ServerIdentityError {
    #[error(
        "the server at {address} presented a certificate for {presented}, not for server \
         {expected} (server_identity in fed_admin.json)"
    )]
    OtherParticipant {
        address: String,
        presented: String,
        expected: String,
    },
    #[error(
        "the server at {address} presented a certificate without a common name, not one for \
         server {expected}: {reason}"
    )]
    NoCommonName {
        address: String,
        expected: String,
        reason: String,
    },
    #[error(
        "the server at {address} presented a certificate that is not valid for host {host} (a \
         customRootCA.pem certificate must name the host the kit dials){reason}"
    )]
    OtherHost {
        address: String,
        host: String,
        /// Empty, or `: <why>` when the name could not even be checked.
        reason: String,
    },
}

/// Accepts a server whose chain validates to the kit's root CA and whose certificate names the
/// server the kit expects ([`ServerCertName`]).
#[derive(Debug)]
pub(crate) struct RootCaVerifier {
    root: CertificateDer<'static>,
    name: ServerCertName,
    /// `host:port`, for the error message.
    address: String,
    provider: Arc<CryptoProvider>,
}

impl RootCaVerifier {
    pub(crate) fn new(
        root: CertificateDer<'static>,
        name: ServerCertName,
        address: String,
        provider: Arc<CryptoProvider>,
    ) -> Self {
        Self {
            root,
            name,
            address,
            provider,
        }
    }

    /// The identity check, after the chain is known to be good.
    fn check_identity(&self, end_entity: &CertificateDer<'_>) -> Result<(), ServerIdentityError> {
        let address = self.address.clone();
        match &self.name {
            ServerCertName::Participant(expected) => match cert_cn(end_entity) {
                Ok(cn) if cn == *expected => Ok(()),
                Ok(presented) => Err(ServerIdentityError::OtherParticipant {
                    address,
                    presented,
                    expected: expected.clone(),
                }),
                Err(reason) => Err(ServerIdentityError::NoCommonName {
                    address,
                    expected: expected.clone(),
                    reason,
                }),
            },
            ServerCertName::Host(host) => {
                let other = |reason: String| ServerIdentityError::OtherHost {
                    address: address.clone(),
                    host: host.clone(),
                    reason,
                };
                let name =
                    ServerName::try_from(host.as_str()).map_err(|e| other(format!(": {e}")))?;
                webpki::EndEntityCert::try_from(end_entity)
                    .and_then(|ee| ee.verify_is_valid_for_subject_name(&name))
                    .map_err(|e| match e {
                        webpki::Error::CertNotValidForName(_) => other(String::new()),
                        e => other(format!(": {e:?}").to_lowercase()),
                    })
            }
        }
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
        self.check_identity(end_entity)
            .map_err(|e| rustls::Error::Other(rustls::OtherError(Arc::new(e))))?;
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
    let verifier = Arc::new(RootCaVerifier::new(
        kit.root.clone(),
        kit.server_cert_name(),
        kit.server_address(),
        provider.clone(),
    ));
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
