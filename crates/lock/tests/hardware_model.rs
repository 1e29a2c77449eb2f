//! A model test of the lock hardware: arbitrary sequences of commands, door
//! movements, motor faults, time and reboots, checked against what must always
//! hold for a lock people trust with their home.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

use doorstep_lock::hardware::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Unlock,
    Lock,
    Open,
    Close,
    Wait(u32),
    Jam,
    Free,
    Reboot,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Unlock),
        1 => Just(Step::Lock),
        2 => Just(Step::Open),
        2 => Just(Step::Close),
        4 => (1u32..70_000).prop_map(Step::Wait),
        1 => Just(Step::Jam),
        1 => Just(Step::Free),
        1 => Just(Step::Reboot),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn the_lock_keeps_its_promises(steps in prop::collection::vec(step(), 1..80)) {
        let mut hw = Hardware::default();
        let mut now: i64 = 1_000_000;
        // Since the last time the bolt was home, was an unlock asked for?
        let mut unlock_requested = false;
        for step in steps {
            let before = hw;
            let outputs = match step {
                Step::Unlock => { unlock_requested = true; hw.step(Input::Unlock(now)) }
                Step::Lock => hw.step(Input::Lock(now)),
                Step::Open => hw.step(Input::DoorOpened(now)),
                Step::Close => hw.step(Input::DoorClosed(now)),
                Step::Wait(ms) => {
                    // Time passes in ticks of at most 100 ms, like the agent's loop.
                    let until = now + i64::from(ms);
                    let mut outputs = Vec::new();
                    while now < until {
                        now = (now + 100).min(until);
                        outputs.extend(hw.step(Input::Tick(now)));
                    }
                    outputs
                }
                Step::Jam => hw.step(Input::JamMotor),
                Step::Free => hw.step(Input::FreeMotor),
                Step::Reboot => {
                    hw = Hardware::after_reboot(hw.door);
                    unlock_requested = false;
                    prop_assert_eq!(hw.bolt, Bolt::Locked, "fail-secure after power loss");
                    Vec::new()
                }
            };
            if hw.bolt == Bolt::Locked {
                unlock_requested = false;
            }
            // Never unlocked without being asked.
            if hw.is_unlocked() {
                prop_assert!(unlock_requested || before.is_unlocked(), "unlocked by itself: {:?} -> {:?}", before, hw);
            }
            // A jam is reported once, not on every tick.
            prop_assert!(outputs.iter().filter(|o| **o == Output::Jammed).count() <= 1);
            // A broken motor never withdraws the bolt.
            if before.motor_jammed && !before.is_unlocked() {
                prop_assert!(!hw.is_unlocked(), "a jammed motor unlocked");
            }
            // Opening a locked door is always reported as forced.
            if matches!(step, Step::Open) && before.door == Door::Closed && !before.is_unlocked() {
                prop_assert!(outputs.contains(&Output::Forced));
            }
            // Closing an unlocked door starts relocking at once (motor permitting).
            if matches!(step, Step::Close) && matches!(before.door, Door::Open { .. }) && before.is_unlocked() && !hw.motor_jammed {
                prop_assert!(matches!(hw.bolt, Bolt::Locking { .. }), "no auto-relock on close: {:?}", hw);
            }
            // As time passes, unlocked with the door shut never outlives the relock
            // timeout (plus motor time).
            if let (Bolt::Unlocked { relock_at }, Step::Wait(_)) = (hw.bolt, &step)
                && hw.door == Door::Closed
                && !hw.motor_jammed
            {
                prop_assert!(now < relock_at + 200, "left unlocked past the timeout");
            }
        }
    }
}

#[test]
fn a_delivery_unlocks_opens_closes_and_relocks() {
    let mut hw = Hardware::default();
    let t = 10_000;
    assert!(hw.step(Input::Unlock(t)).is_empty());
    assert_eq!(hw.step(Input::Tick(t + 300)), vec![Output::Unlocked]);
    assert_eq!(
        hw.step(Input::DoorOpened(t + 1_000)),
        vec![Output::DoorOpened]
    );
    assert_eq!(
        hw.step(Input::DoorClosed(t + 5_000)),
        vec![Output::DoorClosed]
    );
    assert_eq!(hw.step(Input::Tick(t + 5_300)), vec![Output::Relocked]);
    assert_eq!(hw.bolt, Bolt::Locked);
}

#[test]
fn nobody_opens_and_it_relocks_by_itself() {
    let mut hw = Hardware::default();
    hw.step(Input::Unlock(0));
    hw.step(Input::Tick(300));
    hw.step(Input::Tick(300 + 30_000));
    assert_eq!(hw.step(Input::Tick(300 + 30_300)), vec![Output::Relocked]);
}

#[test]
fn a_door_left_open_raises_ajar_once() {
    let mut hw = Hardware::default();
    hw.step(Input::Unlock(0));
    hw.step(Input::Tick(300));
    hw.step(Input::DoorOpened(1_000));
    assert_eq!(hw.step(Input::Tick(61_000)), vec![Output::Ajar]);
    assert!(hw.step(Input::Tick(62_000)).is_empty());
}

#[test]
fn a_block_while_the_door_is_open_throws_the_bolt_for_when_it_shuts() {
    let mut hw = Hardware::default();
    hw.step(Input::Unlock(0));
    hw.step(Input::Tick(300));
    hw.step(Input::DoorOpened(1_000));
    hw.step(Input::Lock(2_000));
    assert_eq!(hw.step(Input::Tick(2_300)), vec![Output::Relocked]);
    assert!(!hw.is_unlocked());
}
