//! The `http` scheme driver: WebSocket `wss://host:port/f3` over (mutual) TLS, then the SFM
//! HELLO/READY handshake.

use std::sync::Arc;
use std::time::Duration;

use flare_model::FlareError;
use futures_util::{SinkExt, StreamExt};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::kit::{AdminKit, Security};
use crate::sfm::{self, frame_type, get_str, now_f64};

/// Largest WebSocket message accepted: a 1 MiB chunk plus headers, with ample margin.
pub(crate) const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Any byte stream the WebSocket can run on (TLS or clear TCP).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
/// A boxed TLS or clear TCP stream.
pub(crate) type AnyStream = Box<dyn Io>;

fn no_connection(kit: &AdminKit, what: &str, detail: impl std::fmt::Display) -> FlareError {
    FlareError::NoConnection {
        message: format!(
            "cannot connect to the nvflare server at {}: {what}: {detail}; check the host:port in \
             fed_admin.json and that the server is running",
            kit.server_address()
        ),
    }
}

fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Opens the WebSocket to `/f3` and completes the SFM handshake as endpoint `me`.
pub(crate) async fn connect(
    kit: &AdminKit,
    me: &str,
    timeout: Duration,
) -> Result<WebSocketStream<AnyStream>, FlareError> {
    let addr = kit.server_address();
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(&addr))
        .await
        .map_err(|_| no_connection(kit, "tcp connect", "timed out"))?
        .map_err(|e| no_connection(kit, "tcp connect", e))?;
    let _ = tcp.set_nodelay(true);
    let (stream, url) = if kit.security == Security::Clear {
        (Box::new(tcp) as AnyStream, format!("ws://{addr}/f3"))
    } else {
        let config = crate::tls::client_config(kit).map_err(|e| FlareError::InternalError {
            message: format!("cannot build the tls configuration: {e}"),
        })?;
        let name = ServerName::try_from(kit.host.clone())
            .map_err(|e| no_connection(kit, "bad host name", e))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = tokio::time::timeout(timeout, tls.connect(name, tcp))
            .await
            .map_err(|_| no_connection(kit, "tls handshake", "timed out"))?
            .map_err(|e| {
                no_connection(
                    kit,
                    "tls handshake (does the kit's rootCA.pem belong to this server?)",
                    e,
                )
            })?;
        (Box::new(stream) as AnyStream, format!("wss://{addr}/f3"))
    };
    let (mut ws, _) = tokio::time::timeout(
        timeout,
        tokio_tungstenite::client_async_with_config(url, stream, Some(ws_config())),
    )
    .await
    .map_err(|_| no_connection(kit, "websocket upgrade", "timed out"))?
    .map_err(|e| no_connection(kit, "websocket upgrade", e))?;
    tokio::time::timeout(timeout, sfm_handshake(&mut ws, me))
        .await
        .map_err(|_| no_connection(kit, "sfm handshake", "no ready frame"))?
        .map_err(|e| no_connection(kit, "sfm handshake", e))?;
    Ok(ws)
}

/// Sends HELLO and waits for READY; returns the server's endpoint name.
pub(crate) async fn sfm_handshake<S>(
    ws: &mut WebSocketStream<S>,
    me: &str,
) -> Result<String, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let hello = sfm::encode_frame(
        frame_type::HELLO,
        0,
        1,
        1,
        None,
        &sfm::hello_payload(me, now_f64()),
    )
    .map_err(|e| e.to_string())?;
    ws.send(Message::Binary(hello.into()))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => {
                let frame = sfm::decode_frame(&b).map_err(|e| e.to_string())?;
                if frame.prefix.frame_type == frame_type::READY {
                    let v = sfm::from_msgpack(&frame.payload).map_err(|e| e.to_string())?;
                    let name = v
                        .as_map()
                        .and_then(|m| get_str(m, "endpoint_name"))
                        .unwrap_or_default()
                        .to_owned();
                    return Ok(name);
                }
            }
            Some(Ok(Message::Close(_))) | None => {
                return Err(
                    "the server closed the connection (was the endpoint name refused?)".to_owned(),
                );
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
        }
    }
}
