//! Who this session acts as: the console session (role, study, upload limit) and the NVFlare
//! identity's role from `list_studies`, shared as context by the signed-in frame.

use flare_model::{ReadCommand, Reply, Role};
use leptos::prelude::*;

use crate::api::SessionInfo;
use crate::connection::Connection;
use crate::policy::{Identity, Who};

/// The signed-in session and what NVFlare said about its identity.
#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub session: StoredValue<SessionInfo>,
    /// None until `list_studies` answers (or when it failed: then NVFlare alone decides).
    pub identity: RwSignal<Option<Identity>>,
    /// `list_studies`' `can_submit_job`/`reason` for the session's study, when it said.
    pub can_submit: RwSignal<Option<(bool, Option<String>)>>,
}

impl SessionCtx {
    /// A context for `session`; call [`SessionCtx::load_identity`] to learn the NVFlare role.
    pub fn new(session: SessionInfo) -> Self {
        SessionCtx {
            session: StoredValue::new(session),
            identity: RwSignal::new(None),
            can_submit: RwSignal::new(None),
        }
    }

    /// Asks `list_studies` who the identity is (once the socket is up).
    pub fn load_identity(self, conn: Connection) {
        leptos::task::spawn_local(async move {
            if let Ok(Reply::Studies(list)) = conn.command(ReadCommand::ListStudies).await {
                let study = self.session.with_value(|s| s.study.clone());
                let submit = list
                    .study_details
                    .iter()
                    .find(|d| d.name == study)
                    .map(|d| (d.can_submit_job, d.reason.clone()));
                let _ = self.can_submit.try_set(submit);
                let _ = self.identity.try_set(Some(Identity {
                    name: list.identity.name,
                    org: list.identity.org,
                    role: list.identity.role,
                }));
            }
        });
    }

    /// Who is acting, tracked.
    pub fn who(self) -> Who {
        Who {
            console_role: self.session.with_value(|s| s.role),
            identity: self.identity.get(),
        }
    }

    pub fn study(self) -> String {
        self.session.with_value(|s| s.study.clone())
    }

    /// The NVFlare identity name (admin user) as the relay reported it.
    pub fn identity_name(self) -> String {
        self.session.with_value(|s| s.identity.clone())
    }

    pub fn is_viewer(self) -> bool {
        self.session.with_value(|s| s.role == Role::Viewer)
    }
}
