//! The listening socket, HTTP or HTTPS: hyper reads a request's headers within
//! `limits.header_read_timeout_secs`, a request body may stall at most
//! `limits.body_read_timeout_secs` between two chunks, and at most `limits.max_connections`
//! connections are served at once. A connection past the cap is closed at once, unanswered; an
//! open WebSocket keeps its connection, so it counts for as long as it is open.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::{Accept, DefaultAcceptor};
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use hyper_util::rt::TokioTimer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::config::Limits;
use crate::state::AppState;

/// Serves the relay on a bound listener until the process ends: HTTPS with `tls`, else HTTP.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    tls: Option<RustlsConfig>,
) -> io::Result<()> {
    let limits = state.limits.clone();
    let body_timeout = Duration::from_secs_f64(limits.body_read_timeout_secs);
    let service = crate::app(state)
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .into_make_service_with_connect_info::<SocketAddr>();
    let limited = ConnectionLimit::new(DefaultAcceptor, limits.max_connections);
    let server = axum_server::from_tcp(listener.into_std()?);
    match tls {
        None => {
            let mut server = server.acceptor(limited);
            configure(server.http_builder(), &limits);
            server.serve(service).await
        }
        Some(tls) => {
            let mut server = server.acceptor(RustlsAcceptor::new(tls).acceptor(limited));
            configure(server.http_builder(), &limits);
            server.serve(service).await
        }
    }
}

/// hyper's settings: the header read timeout (which needs a timer).
fn configure(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    limits: &Limits,
) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs_f64(limits.header_read_timeout_secs));
}

/// An acceptor that serves a connection only while it holds one of `max` places; past them the
/// connection is closed before anything is read from it.
#[derive(Clone)]
pub struct ConnectionLimit<A> {
    inner: A,
    places: Arc<Semaphore>,
    max: usize,
}

impl<A> ConnectionLimit<A> {
    pub fn new(inner: A, max: usize) -> Self {
        ConnectionLimit {
            inner,
            places: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

impl<A, I, S> Accept<I, S> for ConnectionLimit<A>
where
    A: Accept<I, S>,
    A::Future: Send + 'static,
    A::Stream: Send + 'static,
    A::Service: Send + 'static,
{
    type Stream = Limited<A::Stream>;
    type Service = A::Service;
    type Future = BoxFuture<'static, io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        let Ok(place) = self.places.clone().try_acquire_owned() else {
            drop(stream);
            tracing::warn!(
                "closed a connection: the relay serves at most {} at once \
                 ([limits] max_connections)",
                self.max
            );
            let refused = io::Error::other("too many connections");
            return std::future::ready(Err(refused)).boxed();
        };
        let accepted = self.inner.accept(stream, service);
        async move {
            let (stream, service) = accepted.await?;
            Ok((
                Limited {
                    inner: stream,
                    _place: place,
                },
                service,
            ))
        }
        .boxed()
    }
}

/// A connection holding its place until it is dropped.
pub struct Limited<T> {
    inner: T,
    _place: OwnedSemaphorePermit,
}

impl<T: AsyncRead + Unpin> AsyncRead for Limited<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Limited<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
