//! The relay in-process on 127.0.0.1:0 with a fake NVFlare, driven by real HTTP and WebSocket
//! clients.

mod relay {
    mod bounded_work;
    mod commands;
    mod compose;
    mod history;
    mod idle;
    mod job_files;
    mod kiosk;
    mod listener;
    mod live;
    mod login;
    mod login_limits;
    mod privilege;
    mod security_headers;
    mod socket_auth;
    mod static_files;
    mod studies;
    mod support;
    mod topics;
    mod uploads;
    mod upstream;
}
