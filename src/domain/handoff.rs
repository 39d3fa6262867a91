//! The handoff state machine: `pending` → `in_progress` (claim) → `resolved`, with release
//! back to `pending` and transfer from one holder to another. Plain functions over plain
//! values; the store applies them inside a transaction that holds the workspace lock, so what
//! they check is what gets written.

use std::fmt;

/// The event of a handoff filed under other labels: the team's own filing, which neither
/// changes who holds the conversation nor is shown to the customer.
pub const LABELLED: &str = "handoff.labelled";
/// The event of a handoff given to a member automatically ([`crate::domain::assignment`]): no
/// `by`.
pub const ASSIGNED: &str = "handoff.assigned";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    InProgress,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<Status> {
        match raw {
            "pending" => Some(Status::Pending),
            "in_progress" => Some(Status::InProgress),
            "resolved" => Some(Status::Resolved),
            _ => None,
        }
    }
}

/// Why the bot handed off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The customer asked for a person.
    CustomerRequest,
    /// The knowledge base had nothing relevant.
    KbMiss,
    /// The bot failed (model timeout or error).
    BotError,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CustomerRequest => "customer_request",
            Reason::KbMiss => "kb_miss",
            Reason::BotError => "bot_error",
        }
    }
}

/// Who is acting on a handoff.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub is_admin: bool,
}

/// A handoff as the rules need to see it.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    pub status: Status,
    pub holder: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Claim,
    Reply,
    Release,
    Resolve,
    /// Hand an in-progress handoff to another member (its holder or an admin), or assign a
    /// pending one (an admin); see [`transfer`].
    Transfer,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Someone (maybe the caller) already holds it; carries the holder's user id.
    AlreadyClaimed { holder: String },
    /// Replying needs a claim first.
    NotClaimed,
    /// Releasing needs someone to hold it.
    NothingToRelease,
    /// Another agent holds it; carries their user id.
    NotHolder { holder: String },
    /// It is resolved.
    Closed,
    /// Only an admin may do this.
    AdminOnly,
    /// A transfer to the member who already holds it; carries their user id.
    AlreadyHolds { holder: String },
    /// The handoff is not held by whom the caller saw holding it (someone claimed, released
    /// or transferred it meanwhile); carries the holder now, if any.
    ChangedHands { holder: Option<String> },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::AlreadyClaimed { .. } => f.write_str("the handoff is already claimed"),
            Refusal::NotClaimed => f.write_str("claim the handoff first"),
            Refusal::NothingToRelease => {
                f.write_str("no one holds this handoff, so there is nothing to release")
            }
            Refusal::NotHolder { .. } => f.write_str("another agent holds this handoff"),
            Refusal::Closed => f.write_str("the handoff is resolved"),
            Refusal::AdminOnly => f.write_str("only an admin can do this"),
            Refusal::AlreadyHolds { .. } => f.write_str("that member already holds this handoff"),
            Refusal::ChangedHands { holder: None } => {
                f.write_str("the handoff changed hands since you looked: no one holds it now")
            }
            Refusal::ChangedHands { .. } => {
                f.write_str("the handoff changed hands since you looked")
            }
        }
    }
}

/// The status an action leads to, or why it may not happen.
pub fn decide(current: Snapshot<'_>, actor: Actor<'_>, action: Action) -> Result<Status, Refusal> {
    let holds = current.holder == Some(actor.user_id);
    let other_holder = || Refusal::NotHolder {
        holder: current.holder.unwrap_or_default().to_owned(),
    };
    match (current.status, action) {
        (Status::Resolved, _) => Err(Refusal::Closed),
        (Status::Pending, Action::Claim) => Ok(Status::InProgress),
        (Status::InProgress, Action::Claim) => Err(Refusal::AlreadyClaimed {
            holder: current.holder.unwrap_or_default().to_owned(),
        }),
        (Status::Pending, Action::Reply) => Err(Refusal::NotClaimed),
        (Status::InProgress, Action::Reply) if holds || actor.is_admin => Ok(Status::InProgress),
        (Status::InProgress, Action::Reply) => Err(other_holder()),
        (_, Action::Release) if !actor.is_admin => Err(Refusal::AdminOnly),
        (Status::Pending, Action::Release) => Err(Refusal::NothingToRelease),
        (Status::InProgress, Action::Release) => Ok(Status::Pending),
        (Status::Pending, Action::Resolve) if actor.is_admin => Ok(Status::Resolved),
        (Status::Pending, Action::Resolve) => Err(Refusal::NotClaimed),
        (Status::InProgress, Action::Resolve) if holds || actor.is_admin => Ok(Status::Resolved),
        (Status::InProgress, Action::Resolve) => Err(other_holder()),
        (Status::Pending, Action::Transfer) if actor.is_admin => Ok(Status::InProgress),
        (Status::Pending, Action::Transfer) => Err(Refusal::AdminOnly),
        (Status::InProgress, Action::Transfer) if holds || actor.is_admin => Ok(Status::InProgress),
        (Status::InProgress, Action::Transfer) => Err(other_holder()),
    }
}

/// A transfer to the member `to`: the rule for [`Action::Transfer`], never to the member who
/// holds it already, and — when the caller says whom they saw holding it (`seen`, `None` for
/// nobody) — only from that holder: an admin's transfer is a compare-and-set like a claim.
pub fn transfer(
    current: Snapshot<'_>,
    actor: Actor<'_>,
    to: &str,
    seen: Option<Option<&str>>,
) -> Result<Status, Refusal> {
    let next = decide(current, actor, Action::Transfer)?;
    if seen.is_some_and(|seen| seen != current.holder) {
        return Err(Refusal::ChangedHands {
            holder: current.holder.map(str::to_owned),
        });
    }
    if current.holder == Some(to) {
        return Err(Refusal::AlreadyHolds {
            holder: to.to_owned(),
        });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANA: Actor = Actor {
        user_id: "ana",
        is_admin: false,
    };
    const BO: Actor = Actor {
        user_id: "bo",
        is_admin: false,
    };
    const ADMIN: Actor = Actor {
        user_id: "root",
        is_admin: true,
    };

    fn pending() -> Snapshot<'static> {
        Snapshot {
            status: Status::Pending,
            holder: None,
        }
    }

    fn held_by_ana() -> Snapshot<'static> {
        Snapshot {
            status: Status::InProgress,
            holder: Some("ana"),
        }
    }

    #[test]
    fn a_pending_handoff_can_be_claimed_once() {
        assert_eq!(
            decide(pending(), ANA, Action::Claim),
            Ok(Status::InProgress)
        );
        let again = decide(held_by_ana(), BO, Action::Claim);
        assert_eq!(
            again,
            Err(Refusal::AlreadyClaimed {
                holder: "ana".into()
            })
        );
        assert!(decide(held_by_ana(), ANA, Action::Claim).is_err());
    }

    #[test]
    fn only_the_holder_or_an_admin_replies_and_resolves() {
        for action in [Action::Reply, Action::Resolve] {
            assert!(decide(held_by_ana(), ANA, action).is_ok());
            assert!(decide(held_by_ana(), ADMIN, action).is_ok());
            assert_eq!(
                decide(held_by_ana(), BO, action),
                Err(Refusal::NotHolder {
                    holder: "ana".into()
                })
            );
        }
        assert_eq!(
            decide(pending(), ANA, Action::Reply),
            Err(Refusal::NotClaimed)
        );
    }

    #[test]
    fn only_admins_release_and_resolve_unclaimed_handoffs() {
        assert_eq!(
            decide(held_by_ana(), ANA, Action::Release),
            Err(Refusal::AdminOnly)
        );
        assert_eq!(
            decide(held_by_ana(), ADMIN, Action::Release),
            Ok(Status::Pending)
        );
        assert_eq!(
            decide(pending(), ADMIN, Action::Resolve),
            Ok(Status::Resolved)
        );
        assert_eq!(
            decide(pending(), ADMIN, Action::Release),
            Err(Refusal::NothingToRelease)
        );
        assert_eq!(
            decide(pending(), ANA, Action::Resolve),
            Err(Refusal::NotClaimed)
        );
    }

    #[test]
    fn nothing_happens_to_a_resolved_handoff() {
        let resolved = Snapshot {
            status: Status::Resolved,
            holder: Some("ana"),
        };
        for action in [
            Action::Claim,
            Action::Reply,
            Action::Release,
            Action::Resolve,
            Action::Transfer,
        ] {
            assert_eq!(decide(resolved, ADMIN, action), Err(Refusal::Closed));
        }
    }

    #[test]
    fn the_holder_or_an_admin_transfers_and_only_admins_assign() {
        let any = None;
        assert_eq!(
            transfer(held_by_ana(), ANA, "bo", any),
            Ok(Status::InProgress)
        );
        assert_eq!(
            transfer(held_by_ana(), ADMIN, "bo", any),
            Ok(Status::InProgress)
        );
        assert_eq!(
            transfer(held_by_ana(), BO, "bo", any),
            Err(Refusal::NotHolder {
                holder: "ana".into()
            })
        );
        assert_eq!(
            transfer(held_by_ana(), ADMIN, "ana", any),
            Err(Refusal::AlreadyHolds {
                holder: "ana".into()
            })
        );
        assert_eq!(
            transfer(pending(), ADMIN, "ana", any),
            Ok(Status::InProgress)
        );
        assert_eq!(transfer(pending(), ANA, "bo", any), Err(Refusal::AdminOnly));
    }

    #[test]
    fn a_transfer_from_whom_the_caller_saw_fails_once_the_handoff_changed_hands() {
        // An admin assigns what they saw pending, but Ana has just claimed it.
        assert_eq!(
            transfer(held_by_ana(), ADMIN, "bo", Some(None)),
            Err(Refusal::ChangedHands {
                holder: Some("ana".into())
            })
        );
        // An admin moves it from Cy, but it is Ana's now; or it went back to the queue.
        assert_eq!(
            transfer(held_by_ana(), ADMIN, "bo", Some(Some("cy"))),
            Err(Refusal::ChangedHands {
                holder: Some("ana".into())
            })
        );
        assert_eq!(
            transfer(pending(), ADMIN, "bo", Some(Some("ana"))),
            Err(Refusal::ChangedHands { holder: None })
        );
        assert_eq!(
            transfer(held_by_ana(), ADMIN, "bo", Some(Some("ana"))),
            Ok(Status::InProgress)
        );
        assert_eq!(
            transfer(pending(), ADMIN, "bo", Some(None)),
            Ok(Status::InProgress)
        );
    }
}
