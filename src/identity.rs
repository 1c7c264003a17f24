//! Who this session acts as: the console session (role, study, upload limit) and the NVFlare
//! identity's role from `list_studies`, shared as context by the signed-in frame.

use flare_model::{ReadCommand, Reply, Role, StudyList};
use leptos::prelude::*;

use crate::connection::Connection;
use crate::policy::{Identity, Who};
use flare_model::SessionInfo;

/// The job list path of the study the tab works in: `/jobs` for the session's default study,
/// `/studies/<study>/jobs` otherwise (and `/jobs` outside a signed-in frame).
pub fn jobs_base_here() -> String {
    use_context::<SessionCtx>()
        .map(|c| crate::studies::jobs_base(&c.current_study.get_untracked(), &c.default_study()))
        .unwrap_or_else(|| "/jobs".to_owned())
}

/// The signed-in session and what NVFlare said about its identity.
#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub session: StoredValue<SessionInfo>,
    /// None until `list_studies` answers (or when it failed: then NVFlare alone decides).
    pub identity: RwSignal<Option<Identity>>,
    /// `list_studies`' `can_submit_job`/`reason` for the session's study, when it said.
    pub can_submit: RwSignal<Option<(bool, Option<String>)>>,
    /// The last `list_studies` answer (None until it came, or when it failed).
    pub studies: RwSignal<Option<StudyList>>,
    /// The study the tab works in now (the socket's); starts as the session's.
    pub current_study: RwSignal<String>,
}

impl SessionCtx {
    /// A context for `session`; call [`SessionCtx::load_identity`] to learn the NVFlare role.
    pub fn new(session: SessionInfo) -> Self {
        SessionCtx {
            current_study: RwSignal::new(session.study.clone()),
            session: StoredValue::new(session),
            identity: RwSignal::new(None),
            can_submit: RwSignal::new(None),
            studies: RwSignal::new(None),
        }
    }

    /// Recomputes `can_submit` for the current study from the last `list_studies` answer.
    pub fn refresh_can_submit(self) {
        let study = self.current_study.get_untracked();
        let submit = self.studies.with_untracked(|list| {
            list.as_ref().and_then(|list| {
                list.study_details
                    .iter()
                    .find(|d| d.name == study)
                    .map(|d| (d.can_submit_job, d.reason.clone()))
            })
        });
        let _ = self.can_submit.try_set(submit);
    }

    /// Asks `list_studies` who the identity is (once the socket is up).
    pub fn load_identity(self, conn: Connection) {
        leptos::task::spawn_local(async move {
            if let Ok(Reply::Studies(list)) = conn.command(ReadCommand::ListStudies).await {
                let _ = self.identity.try_set(Some(Identity {
                    name: list.identity.name.clone(),
                    org: list.identity.org.clone(),
                    role: list.identity.role.clone(),
                }));
                let _ = self.studies.try_set(Some(list));
                self.refresh_can_submit();
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

    /// The study the tab works in now.
    pub fn study(self) -> String {
        self.current_study.get_untracked()
    }

    /// The session's default study (what `/jobs` shows).
    pub fn default_study(self) -> String {
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
