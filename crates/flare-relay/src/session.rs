//! Role capabilities: what a tab may do is decided by the type it holds. An [`OperatorSession`] can
//! `execute` any [`Command`]; a [`ViewerSession`] only has `read`, which takes a [`ReadCommand`], so
//! no code path hands a mutating command to the hub on a viewer's behalf.

use std::sync::Arc;

use flare_model::{Command, FlareError, ReadCommand, Reply, Role};

use crate::audit::{Audit, AuditRecord};
use crate::hub::{Hub, now_ms};

/// Who a tab acts for.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: String,
    pub role: Role,
    pub identity: String,
    pub study: String,
}

/// A tab of an operator: may send any command its NVFlare identity is authorized for.
pub struct OperatorSession {
    hub: Arc<Hub>,
    actor: Actor,
    audit: Arc<Audit>,
}

/// A tab of a viewer: may only read.
pub struct ViewerSession {
    hub: Arc<Hub>,
}

/// A tab's capability.
pub enum TabSession {
    Operator(OperatorSession),
    Viewer(ViewerSession),
}

impl OperatorSession {
    /// Runs any command; mutating ones are audited with their outcome.
    pub async fn execute(&self, command: &Command) -> Result<Reply, FlareError> {
        let result = self.hub.execute(command).await;
        if command.is_mutating() {
            let (outcome, message) = match &result {
                Ok(_) => ("ok", None),
                Err(e) => ("error", Some(e.to_string())),
            };
            self.audit.record(&AuditRecord {
                at_ms: now_ms(),
                user: &self.actor.user,
                role: self.actor.role,
                identity: &self.actor.identity,
                study: &self.actor.study,
                command: command.name(),
                outcome,
                message: message.as_deref(),
            });
        }
        result
    }
}

impl ViewerSession {
    /// Runs a read-only command.
    pub async fn read(&self, command: ReadCommand) -> Result<Reply, FlareError> {
        self.hub.execute(&Command::Read(command)).await
    }
}

impl TabSession {
    /// The capability for `actor.role` on `hub`.
    pub fn new(hub: Arc<Hub>, actor: Actor, audit: Arc<Audit>) -> TabSession {
        match actor.role {
            Role::Operator => TabSession::Operator(OperatorSession { hub, actor, audit }),
            Role::Viewer => TabSession::Viewer(ViewerSession { hub }),
        }
    }

    /// Runs a command a tab sent, if its role allows it. A viewer's mutating command is refused
    /// and audited; it never reaches the hub.
    pub async fn dispatch(
        &self,
        command: Command,
        actor: &Actor,
        audit: &Audit,
    ) -> Result<Reply, FlareError> {
        match (self, command) {
            (TabSession::Operator(operator), command) => operator.execute(&command).await,
            (TabSession::Viewer(viewer), Command::Read(read)) => viewer.read(read).await,
            (TabSession::Viewer(_), Command::Mutate(mutate)) => {
                let error = FlareError::ReadOnlySession {
                    message: format!(
                        "viewer sessions are read-only: {} was refused",
                        mutate.name()
                    ),
                };
                audit.record(&AuditRecord {
                    at_ms: now_ms(),
                    user: &actor.user,
                    role: actor.role,
                    identity: &actor.identity,
                    study: &actor.study,
                    command: mutate.name(),
                    outcome: "refused",
                    message: Some(error.message()),
                });
                Err(error)
            }
        }
    }
}
