//! The journal survives restarts and power cuts, and so does what the lock
//! remembers from it: a grant used before a reboot stays used.
#![allow(
    clippy::disallowed_methods,
    reason = "a test plays the world: it reads the real clock and its own switches"
)]
#![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

use std::io::Write;

use doorstep_lock::hardware::Output;
use doorstep_lock::journal::{Entry, Journal};
use doorstep_proto::{DeliveryId, EntryKey, GrantId, GrantSubject, LockLedger};

#[test]
fn sequence_numbers_keep_growing_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    assert_eq!(
        journal
            .append(Entry::Booted { door_open: false }, 1)
            .unwrap(),
        1
    );
    assert_eq!(
        journal
            .append(
                Entry::Hardware {
                    output: Output::Unlocked,
                    subject: None
                },
                2
            )
            .unwrap(),
        2
    );
    drop(journal);
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    assert_eq!(journal.records().len(), 2);
    assert_eq!(
        journal
            .append(Entry::Booted { door_open: false }, 3)
            .unwrap(),
        3
    );
    assert_eq!(
        journal.after(1).map(|r| r.seq).collect::<Vec<_>>(),
        vec![2, 3]
    );
}

#[test]
fn a_grant_used_before_a_reboot_is_still_used_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    journal
        .append(
            Entry::GrantUsed {
                grant: "grant-1".into(),
                subject: GrantSubject::Delivery(DeliveryId::from("d1")),
                key: EntryKey::Approval(DeliveryId::from("d1")),
            },
            5,
        )
        .unwrap();
    drop(journal);
    let journal = Journal::open(dir.path(), 0).unwrap();
    assert!(
        journal
            .ledger()
            .entry_used(&EntryKey::Approval(DeliveryId::from("d1")))
    );
    assert!(
        !journal
            .ledger()
            .entry_used(&EntryKey::Approval(DeliveryId::from("d2")))
    );
    assert!(
        !journal
            .ledger()
            .entry_used(&EntryKey::Grant(GrantId::from("grant-1")))
    );
}

#[test]
fn a_line_torn_by_a_power_cut_is_dropped_and_numbering_continues() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    journal
        .append(Entry::Booted { door_open: false }, 1)
        .unwrap();
    drop(journal);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("journal.jsonl"))
        .unwrap();
    file.write_all(b"{\"seq\":2,\"at\":2,\"kind\":\"boo")
        .unwrap();
    drop(file);
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    assert_eq!(journal.records().len(), 1);
    assert_eq!(
        journal
            .append(Entry::Booted { door_open: false }, 3)
            .unwrap(),
        2
    );
    drop(journal);
    assert_eq!(Journal::open(dir.path(), 0).unwrap().records().len(), 2);
}

#[test]
fn corruption_in_the_middle_is_refused_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("journal.jsonl"), "{\"seq\":1,\"at\":1,\"kind\":\"booted\"}\ngarbage\n{\"seq\":3,\"at\":3,\"kind\":\"booted\"}\n").unwrap();
    let err = Journal::open(dir.path(), 0).unwrap_err();
    assert!(err.to_string().contains("line 2 is corrupt"), "{err}");
}

#[test]
fn a_fragment_an_older_agent_continued_after_is_healed_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    // Disk full mid-line, then the next append continued on the same line.
    std::fs::write(
        dir.path().join("journal.jsonl"),
        "{\"seq\":1,\"at\":1,\"kind\":\"booted\"}\n{\"seq\":2,\"at\":2,\"ki{\"seq\":2,\"at\":3,\"kind\":\"booted\"}\n{\"seq\":3,\"at\":4,\"kind\":\"booted\"}\n",
    )
    .unwrap();
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    assert_eq!(
        journal.records().iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(
        journal
            .append(Entry::Booted { door_open: false }, 5)
            .unwrap(),
        4
    );
    drop(journal);
    let text = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
    assert!(!text.contains("\"ki{"), "the fragment is gone: {text}");
    assert_eq!(Journal::open(dir.path(), 0).unwrap().records().len(), 4);
}

#[test]
fn a_journal_cut_back_in_time_never_reuses_a_seq_and_forgets_loudly() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path(), 0).unwrap();
    journal
        .append(Entry::Booted { door_open: false }, 1)
        .unwrap();
    drop(journal);
    // The lock had uploaded through seq 7: lines 2..=7 are gone.
    let mut journal = Journal::open(dir.path(), 7).unwrap();
    let rewound = journal.records().last().unwrap().clone();
    assert_eq!(rewound.seq, 8);
    assert_eq!(
        rewound.entry,
        Entry::JournalRewound {
            found: 1,
            uploaded: 7
        }
    );
    assert!(journal.awaits_forget_line());
    assert_eq!(journal.ledger().forgotten(), Some(None));
    journal
        .append(
            Entry::ForgottenBefore {
                before: 1_800_000_000_000,
            },
            9,
        )
        .unwrap();
    assert_eq!(
        journal.ledger().forgotten(),
        Some(Some(doorstep_proto::Timestamp(1_800_000_000_000)))
    );
    drop(journal);
    // The next start finds no new rewind, and keeps the line.
    let journal = Journal::open(dir.path(), 8).unwrap();
    assert!(!journal.awaits_forget_line());
    assert_eq!(journal.next_seq(), 10);
}
