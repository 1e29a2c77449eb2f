//! The lock's append-only journal: every decision and every hardware event, with
//! a sequence number that keeps growing across restarts. It is the lock's memory
//! (used grants, revocations, the newest policy — see [`Ledger`]) and what it
//! uploads to the cloud after a reconnect (the cloud stores each `seq` once).
//!
//! One JSON object per line, each line flushed to disk (`fsync`) before the action
//! it records is taken. A line torn by a power cut is dropped on the next start.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use doorstep_api::{BoltPosition, DoorPosition, ReportDetail, ReportKind};
use doorstep_proto::{
    DeliveryPolicy, EntryGrant, EntryKey, GrantId, GrantSubject, LockLedger, Refusal, Revocation,
    RevocationTarget, Signed, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::hardware::Output;

/// What the journal records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// The agent started: the bolt went home; the door is as the sensor says.
    Booted {
        /// Whether the door sensor read open at start.
        #[serde(default)]
        door_open: bool,
    },
    /// At start the journal ended before what the lock had already uploaded
    /// (`uploaded` marker): lines were lost (a restored backup, a damaged disk).
    /// Numbering continues after the highest seq ever used, and nothing
    /// authorised before `at` opens again, because the memory of what was used
    /// is gone.
    JournalRewound {
        /// The last seq found in the journal.
        found: u64,
        /// The highest seq the lock had uploaded.
        uploaded: u64,
    },
    /// The first trusted time after a rewind: nothing authorised before it opens.
    ForgottenBefore {
        /// The time (ms).
        before: i64,
    },
    /// The hardware reported something.
    Hardware {
        /// What.
        output: Output,
        /// What the entry in force is for, if any.
        subject: Option<GrantSubject>,
    },
    /// A grant was accepted and the bolt withdrawn for it: neither it nor what
    /// authorised it (the approved delivery, the carrier's shipment) opens again.
    GrantUsed {
        /// The grant.
        grant: String,
        /// What it was for.
        subject: GrantSubject,
        /// What authorised it.
        key: EntryKey,
    },
    /// A signed cloud time was refused: the clock stays as it was (or unset).
    ClockRefused {
        /// Why, in a sentence.
        reason: String,
    },
    /// A message on the cloud channel the lock could not read or did not know.
    MessageRefused {
        /// What it was and why, in a sentence.
        detail: String,
    },
    /// An entry was refused.
    EntryRefused {
        /// Why, as [`Refusal`]'s sentence.
        reason: String,
        /// The grant presented, if it could be read.
        grant: Option<String>,
        /// What the grant claimed to be for, if it could be read.
        #[serde(default)]
        subject: Option<GrantSubject>,
    },
    /// A household revocation (base64url envelope) the lock verified.
    Revoked {
        /// The envelope.
        revocation: String,
    },
    /// A household delivery policy (base64url envelope) the lock verified.
    PolicySeen {
        /// Its version.
        version: u64,
        /// The envelope.
        policy: String,
    },
}

impl Entry {
    /// Its kind on the wire.
    pub fn kind(&self) -> ReportKind {
        match self {
            Self::Booted { .. } => ReportKind::Booted,
            Self::JournalRewound { .. } => ReportKind::JournalRewound,
            Self::ForgottenBefore { .. } => ReportKind::ForgottenBefore,
            Self::Hardware { output, .. } => output.report_kind(),
            Self::GrantUsed { .. } => ReportKind::GrantUsed,
            Self::ClockRefused { .. } => ReportKind::ClockRefused,
            Self::MessageRefused { .. } => ReportKind::MessageRefused,
            Self::EntryRefused { .. } => ReportKind::EntryRefused,
            Self::Revoked { .. } => ReportKind::Revoked,
            Self::PolicySeen { .. } => ReportKind::PolicySeen,
        }
    }

    /// What the entry is for, if anything.
    pub fn subject(&self) -> Option<&GrantSubject> {
        match self {
            Self::Hardware { subject, .. } | Self::EntryRefused { subject, .. } => subject.as_ref(),
            Self::GrantUsed { subject, .. } => Some(subject),
            _ => None,
        }
    }

    /// What the cloud is told beside the kind.
    pub fn detail(&self) -> ReportDetail {
        let none = ReportDetail::default();
        match self {
            Self::Booted { door_open } => ReportDetail {
                bolt: Some(BoltPosition::Locked),
                door: Some(if *door_open {
                    DoorPosition::Open
                } else {
                    DoorPosition::Closed
                }),
                ..none
            },
            Self::JournalRewound { found, uploaded } => ReportDetail {
                found: Some(*found),
                uploaded: Some(*uploaded),
                ..none
            },
            Self::ForgottenBefore { before } => ReportDetail {
                before: Some(*before),
                ..none
            },
            Self::GrantUsed { grant, key, .. } => ReportDetail {
                grant: Some(grant.clone()),
                key: Some(key.clone()),
                ..none
            },
            Self::ClockRefused { reason } => ReportDetail {
                reason: Some(reason.clone()),
                ..none
            },
            Self::MessageRefused { detail } => ReportDetail {
                detail: Some(detail.clone()),
                ..none
            },
            Self::EntryRefused { reason, grant, .. } => ReportDetail {
                reason: Some(reason.clone()),
                grant: grant.clone(),
                ..none
            },
            Self::PolicySeen { version, .. } => ReportDetail {
                version: Some(*version),
                ..none
            },
            Self::Hardware { .. } | Self::Revoked { .. } => none,
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// 1, 2, 3 … for the life of the lock.
    pub seq: u64,
    /// When (lock's clock, ms).
    pub at: i64,
    /// What.
    #[serde(flatten)]
    pub entry: Entry,
}

/// Why the journal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Disk trouble.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line in the middle of the journal is unreadable (not a torn tail).
    #[error("journal {path}: line {line} is corrupt; the lock will not guess")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Which line.
        line: usize,
    },
}

/// The journal file and what it implies.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Bytes of whole lines: an append that fails is cut back to this.
    len: u64,
    next_seq: u64,
    records: Vec<Record>,
    ledger: Ledger,
}

impl Journal {
    /// Opens (or creates) `journal.jsonl` in `dir`, dropping a torn last line.
    /// `used_through` is the highest seq the lock knows it used (uploaded);
    /// numbering never falls back below it.
    pub fn open(dir: &Path, used_through: u64) -> Result<Self, JournalError> {
        let path = dir.join("journal.jsonl");
        let io = |source| JournalError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut records = Vec::new();
        let mut healed = false;
        if path.exists() {
            let reader = BufReader::new(File::open(&path).map_err(io)?);
            let lines: Vec<String> = reader.lines().collect::<Result<_, _>>().map_err(io)?;
            let count = lines.len();
            for (index, line) in lines.into_iter().enumerate() {
                match parse_line(&line) {
                    Some((record, whole)) => {
                        healed |= !whole;
                        records.push(record);
                    }
                    // Only the very last line may be torn (power cut mid-write).
                    None if index + 1 == count => healed = true,
                    None => {
                        return Err(JournalError::Corrupt {
                            path,
                            line: index + 1,
                        });
                    }
                }
            }
        }
        if healed {
            // Rewrite what could be read, whole lines only, then swap it in.
            let mut text = String::new();
            for record in &records {
                text.push_str(&serde_json::to_string(record).unwrap_or_default());
                text.push('\n');
            }
            let fresh = dir.join("journal.jsonl.new");
            write_synced(&fresh, text.as_bytes()).map_err(io)?;
            std::fs::rename(&fresh, &path).map_err(io)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut ledger = Ledger::default();
        for record in &records {
            ledger.apply(record);
        }
        let last = records.last().map_or(0, |r| r.seq);
        let mut journal = Self {
            path,
            file,
            len,
            next_seq: last.max(used_through) + 1,
            records,
            ledger,
        };
        if used_through > last {
            journal.append(
                Entry::JournalRewound {
                    found: last,
                    uploaded: used_through,
                },
                0,
            )?;
        }
        Ok(journal)
    }

    /// Appends `entry` and flushes it to disk before returning its `seq`. On
    /// failure nothing of it stays in the file (a partly written line is cut
    /// off), so the next append starts on a clean line.
    pub fn append(&mut self, entry: Entry, at: i64) -> Result<u64, JournalError> {
        let record = Record {
            seq: self.next_seq,
            at,
            entry,
        };
        let mut line = serde_json::to_string(&record).unwrap_or_default();
        line.push('\n');
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let written = self
            .file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data());
        if let Err(error) = written {
            // Best effort: if even this fails, the torn tail is dropped at the next start.
            let _ = self.file.set_len(self.len);
            let _ = self.file.sync_data();
            return Err(io(error));
        }
        self.len += line.len() as u64;
        self.ledger.apply(&record);
        self.next_seq += 1;
        self.records.push(record);
        Ok(self.next_seq - 1)
    }

    /// The seq the next line will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Every record, oldest first.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Records after `seq` (for upload).
    pub fn after(&self, seq: u64) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.seq > seq)
    }

    /// Whether the lock lost memory and still waits for a trusted time to draw the line.
    pub fn awaits_forget_line(&self) -> bool {
        self.ledger.forgotten == Some(None)
    }

    /// What the lock remembers.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}

/// The lock's memory, rebuilt from the journal: grants already used, household
/// revocations, and the newest policy version seen.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    used: HashSet<EntryKey>,
    revoked: Vec<RevocationTarget>,
    policy_version: u64,
    /// Set when journal lines were lost. Until a trusted time is recorded after
    /// it (`Some(None)`), nothing opens; then nothing authorised before it does.
    forgotten: Option<Option<Timestamp>>,
}

impl Ledger {
    fn apply(&mut self, record: &Record) {
        match &record.entry {
            Entry::GrantUsed { key, .. } => {
                self.used.insert(key.clone());
            }
            Entry::Revoked { revocation } => {
                if let Some(r) = Signed::<Revocation>::from_base64(revocation)
                    .ok()
                    .and_then(|s| s.peek())
                {
                    self.revoked.push(r.target);
                }
            }
            Entry::PolicySeen { version, .. } => {
                self.policy_version = self.policy_version.max(*version)
            }
            Entry::JournalRewound { .. } => self.forgotten = Some(None),
            Entry::ForgottenBefore { before } => self.forgotten = Some(Some(Timestamp(*before))),
            Entry::Booted { .. }
            | Entry::Hardware { .. }
            | Entry::EntryRefused { .. }
            | Entry::ClockRefused { .. }
            | Entry::MessageRefused { .. } => {}
        }
    }

    /// Whether a revocation covers `subject`.
    pub fn covers(&self, subject: &GrantSubject, grant: &GrantId) -> bool {
        self.revoked.iter().any(|target| match (target, subject) {
            (RevocationTarget::Grant(id), _) => id == grant,
            (RevocationTarget::Delivery(id), GrantSubject::Delivery(d)) => id == d,
            (RevocationTarget::Guest(id), GrantSubject::Guest(g)) => id == g,
            _ => false,
        })
    }

    /// Whether this revocation target is already known (repeats are ignored).
    pub fn knows(&self, target: &RevocationTarget) -> bool {
        self.revoked.contains(target)
    }
}

impl LockLedger for Ledger {
    fn entry_used(&self, key: &EntryKey) -> bool {
        self.used.contains(key)
    }
    fn forgotten(&self) -> Option<Option<Timestamp>> {
        self.forgotten
    }
    fn revoked(&self, grant: &EntryGrant) -> bool {
        self.covers(&grant.subject, &grant.grant)
    }
    fn policy_version(&self) -> u64 {
        self.policy_version
    }
}

fn parse_line(line: &str) -> Option<(Record, bool)> {
    if let Ok(record) = serde_json::from_str::<Record>(line) {
        return Some((record, true));
    }
    // A line an older agent tore on a full disk and then continued after: the
    // fragment is followed by a whole record on the same line.
    let start = line.rfind("{\"seq\":")?;
    (start > 0)
        .then(|| serde_json::from_str::<Record>(&line[start..]).ok())
        .flatten()
        .map(|record| (record, false))
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Reads a policy envelope's version without trusting it (callers verify first).
pub fn policy_version(envelope: &str) -> Option<u64> {
    Signed::<DeliveryPolicy>::from_base64(envelope)
        .ok()?
        .peek()
        .map(|p| p.version)
}

/// The sentence a refusal is journalled with.
pub fn refusal_text(refusal: &Refusal) -> String {
    refusal.to_string()
}
