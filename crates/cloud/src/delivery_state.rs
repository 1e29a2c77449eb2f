//! The delivery state machine of SPEC §3, as a pure function: the handlers ask it
//! whether an action is allowed and what the new state is.
//!
//! `announced → approaching → at_door → granted → door_open → completed`, with the
//! exits `blocked → rerouted`, `failed → rerouted` and `expired`. Approval is not a
//! state but a fact about the delivery (it may come before or after "approaching").

pub use doorstep_api::DeliveryState as State;

/// Something that happens to a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The ETA came within the lead time.
    Approach,
    /// The courier reports arrival.
    Arrive,
    /// The cloud issued a grant.
    Grant,
    /// The grant was not used in time (the courier left, the lock refused it,
    /// power failed mid-unlock): the courier may ask again.
    LapseGrant,
    /// The lock reports the door open.
    OpenDoor,
    /// The lock reports the bolt thrown after the door was opened and closed.
    Complete,
    /// The household blocks access.
    Block,
    /// The household reroutes it.
    Reroute,
    /// Entry is impossible (lock offline, camera down).
    Fail,
    /// The window passed.
    Expire,
}

/// The outcome of an allowed action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The state after.
    pub to: State,
    /// False when the action was already done (a double click): nothing to write.
    pub changed: bool,
}

/// Why an action is not allowed now; the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a delivery that is {state}")]
pub struct NotAllowed {
    /// The action, in words.
    pub action: &'static str,
    /// The current state.
    pub state: &'static str,
}

/// Applies `action` to `state`.
pub fn apply(state: State, action: Action) -> Result<Transition, NotAllowed> {
    use Action as A;
    use State as S;
    let to = match (action, state) {
        (A::Approach, S::Announced) => S::Approaching,
        (A::Approach, S::Approaching) => return Ok(same(state)),
        (A::Arrive, S::Announced | S::Approaching) => S::AtDoor,
        (A::Arrive, S::AtDoor) => return Ok(same(state)),
        // Asking again while a grant is outstanding: the caller re-grants only
        // when the lock has not moved for the first one.
        (A::Arrive, S::Granted) => return Ok(same(state)),
        (A::Grant, S::AtDoor | S::Granted) => S::Granted,
        (A::LapseGrant, S::Granted) => S::AtDoor,
        (A::OpenDoor, S::Granted) => S::DoorOpen,
        (A::OpenDoor, S::DoorOpen) => return Ok(same(state)),
        (A::Complete, S::DoorOpen) => S::Completed,
        (A::Complete, S::Completed) => return Ok(same(state)),
        (A::Block, S::Announced | S::Approaching | S::AtDoor | S::Granted | S::DoorOpen) => {
            S::Blocked
        }
        (A::Block, S::Blocked) => return Ok(same(state)),
        (A::Reroute, S::Announced | S::Approaching | S::Blocked | S::Failed) => S::Rerouted,
        (A::Reroute, S::Rerouted) => return Ok(same(state)),
        (A::Fail, S::AtDoor | S::Granted | S::DoorOpen) => S::Failed,
        (A::Fail, S::Failed) => return Ok(same(state)),
        (A::Expire, S::Announced | S::Approaching | S::AtDoor | S::Granted) => S::Expired,
        (A::Expire, S::Expired) => return Ok(same(state)),
        _ => {
            return Err(NotAllowed {
                action: verb(action),
                state: state.as_str(),
            });
        }
    };
    Ok(Transition { to, changed: true })
}

fn same(state: State) -> Transition {
    Transition {
        to: state,
        changed: false,
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Approach => "mark as approaching",
        Action::Arrive => "report arrival for",
        Action::Grant => "grant entry for",
        Action::LapseGrant => "let the grant lapse for",
        Action::OpenDoor => "open the door for",
        Action::Complete => "complete",
        Action::Block => "block",
        Action::Reroute => "reroute",
        Action::Fail => "fail",
        Action::Expire => "expire",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [State; 10] = [
        State::Announced,
        State::Approaching,
        State::AtDoor,
        State::Granted,
        State::DoorOpen,
        State::Completed,
        State::Blocked,
        State::Rerouted,
        State::Failed,
        State::Expired,
    ];
    const ACTIONS: [Action; 10] = [
        Action::Approach,
        Action::Arrive,
        Action::Grant,
        Action::LapseGrant,
        Action::OpenDoor,
        Action::Complete,
        Action::Block,
        Action::Reroute,
        Action::Fail,
        Action::Expire,
    ];

    #[test]
    fn the_happy_path_runs_from_announcement_to_completion() {
        let mut state = State::Announced;
        for action in [
            Action::Approach,
            Action::Arrive,
            Action::Grant,
            Action::OpenDoor,
            Action::Complete,
        ] {
            state = apply(state, action).unwrap().to;
        }
        assert_eq!(state, State::Completed);
    }

    #[test]
    fn every_action_is_idempotent_where_allowed() {
        for state in ALL {
            for action in ACTIONS {
                if let Ok(first) = apply(state, action) {
                    let second = apply(first.to, action);
                    if let Ok(second) = second {
                        assert_eq!(second.to, first.to, "{state:?} {action:?}");
                    }
                }
            }
        }
        assert!(!apply(State::Blocked, Action::Block).unwrap().changed);
    }

    #[test]
    fn final_states_never_change() {
        for state in ALL.into_iter().filter(|s| s.is_final()) {
            for action in ACTIONS {
                if let Ok(t) = apply(state, action) {
                    assert!(!t.changed && t.to == state, "{state:?} {action:?}");
                }
            }
        }
    }

    #[test]
    fn block_works_until_completion_and_reroute_needs_the_door_shut() {
        for state in [
            State::Announced,
            State::Approaching,
            State::AtDoor,
            State::Granted,
            State::DoorOpen,
        ] {
            assert_eq!(apply(state, Action::Block).unwrap().to, State::Blocked);
        }
        assert!(apply(State::Completed, Action::Block).is_err());
        let refused = apply(State::DoorOpen, Action::Reroute).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "cannot reroute a delivery that is door_open"
        );
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
    }
}
