// Generated from crates/core/src/ipc.rs by `make bindings`. Do not edit.
import { invoke } from "@tauri-apps/api/core";

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type ErrorCode = "internal" | "needs_sign_in" | "credentials" | "reauth_required" | "unreachable" | "invalid";

export type IpcError = { 
/**
 * What kind of failure; the UI picks its reaction from this.
 */
code: ErrorCode, 
/**
 * What went wrong and what to do, in a sentence (English).
 */
message: string, 
/**
 * The errors a person meets most, for the page to word in its own language.
 */
worded: Worded | null, };

export type Worded = { "what": "wrong_password" } | { "what": "totp_required" } | { "what": "recovery_refused" } | { "what": "recovery_key_length", 
/**
 * How many it has.
 */
symbols: number, } | { "what": "recovery_key_symbol", 
/**
 * The character.
 */
symbol: string, } | { "what": "key_not_opened" } | { "what": "unreachable", 
/**
 * Where it was tried.
 */
url: string, } | { "what": "not_signed_in" } | { "what": "signed_out" };

export type Probe = { 
/**
 * Whether the part works.
 */
ok: boolean, 
/**
 * What was found, or what is wrong and how to fix it (in English; the page
 * words a working part in its own language from `found`).
 */
detail: string, 
/**
 * The part that works, by name and version (e.g. the notification server).
 */
found: string | null, };

export type SystemCheck = { 
/**
 * The app's version.
 */
appVersion: string, 
/**
 * The app identifier; also the keyring namespace.
 */
appId: string, 
/**
 * Where local data is kept.
 */
dataDir: string, 
/**
 * The OS keyring, where sign-in tokens and keys go.
 */
secureStore: Probe, 
/**
 * The desktop's notification service, which shows the popups.
 */
notifications: Probe, };

export type SessionInfo = { 
/**
 * Whether a household is signed in.
 */
signedIn: boolean, 
/**
 * Whether it is the demo home.
 */
demo: boolean, 
/**
 * The login.
 */
email: string | null, 
/**
 * This device's name.
 */
deviceName: string | null, };

export type NewAccountView = { 
/**
 * Who is signed in.
 */
session: SessionInfo, 
/**
 * The recovery key, in groups of four.
 */
recoveryKey: string, };

export type StartMarks = { 
/**
 * When the navigation began (ms since the epoch).
 */
timeOrigin: number, 
/**
 * The page's HTML had been read.
 */
htmlMs: number, 
/**
 * The app's script began to run.
 */
scriptMs: number, 
/**
 * The first screen was known: the shell had said who is signed in, or at once
 * when it said before the page loaded that no sign-in is saved.
 */
sessionMs: number, 
/**
 * Two frames after the first screen was in the DOM.
 */
paintedMs: number, };

export type ConnectionView = { 
/**
 * `connecting`, `online`, `offline` or `signed_out`.
 */
state: string, 
/**
 * Why, when not online.
 */
reason: string | null, };

export type HomeView = { 
/**
 * The household's locks.
 */
locks: Array<Lock>, 
/**
 * Deliveries, newest first (from the local cache when offline).
 */
deliveries: Array<Delivery>, 
/**
 * The connection.
 */
connection: ConnectionView, };

export type DeliveryView = { 
/**
 * The delivery.
 */
delivery: Delivery, 
/**
 * The lock whose camera shows the visit.
 */
lockId: string | null, 
/**
 * Its events, oldest first.
 */
timeline: Array<Event>, 
/**
 * Where it can be rerouted.
 */
addresses: Array<Address>, 
/**
 * The camera's recordings of its visit, newest first.
 */
recordings: Array<Recording>, };

export type FeedMessage = { "type": "event", 
/**
 * The event (boxed: it is much larger than the other variant).
 */
event: Event, } | { "type": "connection", 
/**
 * The new state.
 */
connection: ConnectionView, };

export type Navigate = { 
/**
 * `delivery`, `live`, `clip` or `log`.
 */
page: string, 
/**
 * The delivery, when the page is about one.
 */
deliveryId: string | null, };

export type Delivery = { 
/**
 * Its id.
 */
id: string, 
/**
 * The carrier's tracking id.
 */
tracking_id: string, 
/**
 * The carrier's name.
 */
carrier: string, 
/**
 * Where it is.
 */
state: DeliveryState, 
/**
 * Whether the household approved entry.
 */
approved: boolean, 
/**
 * The device that approved.
 */
approved_by: string | null, 
/**
 * The lock approved for.
 */
lock_id: string | null, 
/**
 * The announced window.
 */
window: Window, 
/**
 * Latest ETA (ms), if the carrier sent one.
 */
eta: number | null, 
/**
 * The assigned courier's public key.
 */
courier_key: string, 
/**
 * The carrier's signed `shipment` envelope, if it signed one: a device
 * approves by policy only what a carrier key the household pinned signed.
 */
shipment: string | null, 
/**
 * Where it was rerouted to.
 */
rerouted_to: Address | null, 
/**
 * The door during its entry, as the lock reported it; `null` while the
 * lock has not moved for this delivery.
 */
door: DoorState | null, 
/**
 * Grows with every change.
 */
revision: number, 
/**
 * Announced at.
 */
created_at: number, 
/**
 * Last change.
 */
updated_at: number, };

export type DeliveryState = "announced" | "approaching" | "at_door" | "granted" | "door_open" | "completed" | "blocked" | "rerouted" | "failed" | "expired";

export type DoorState = "unlocking" | "unlocked" | "open" | "closed" | "locked" | "jammed" | "unconfirmed";

export type Window = { 
/**
 * Start (ms).
 */
not_before: number, 
/**
 * End (ms).
 */
not_after: number, };

export type Address = { 
/**
 * Its id.
 */
id: string, 
/**
 * Short name.
 */
label: string, 
/**
 * Kind.
 */
kind: AddressKind, 
/**
 * The postal address.
 */
address: string, };

export type AddressKind = "neighbour" | "pickup_point" | "locker" | "other";

export type Lock = { 
/**
 * Its id.
 */
id: string, 
/**
 * Its name.
 */
name: string, 
/**
 * Door or garage.
 */
kind: string, 
/**
 * When it was paired.
 */
paired_at: number, 
/**
 * When the cloud last heard from it (a camera heartbeat).
 */
last_seen_at: number | null, 
/**
 * Heard from in the last few seconds.
 */
online: boolean, 
/**
 * Whether its camera says it is recording.
 */
camera_recording: boolean, 
/**
 * The bolt as the lock last reported it (`null` before its first report).
 */
bolt: BoltPosition | null, 
/**
 * The door as the lock last reported it.
 */
door: DoorPosition | null, 
/**
 * When the lock reported them (ms, its journal's time).
 */
position_at: number | null, };

export type BoltPosition = "locked" | "unlocking" | "unlocked" | "locking" | "jammed";

export type DoorPosition = "closed" | "open";

export type Event = { 
/**
 * Position in the household's log: 1, 2, 3, … without gaps.
 */
seq: number, 
/**
 * When (ms since the epoch).
 */
at: number, 
/**
 * The household device that caused it, if one did.
 */
device_id: string | null, } & ({ "kind": "delivery.announced", "data": DeliverySnapshot } | { "kind": "delivery.approved", "data": DeliverySnapshot } | { "kind": "delivery.blocked", "data": DeliverySnapshot } | { "kind": "delivery.rerouted", "data": DeliverySnapshot } | { "kind": "delivery.approaching", "data": DeliveryStep } | { "kind": "delivery.at_door", "data": DeliveryStep } | { "kind": "delivery.granted", "data": DeliveryGranted } | { "kind": "delivery.door_open", "data": DeliveryStep } | { "kind": "delivery.completed", "data": DeliveryStep } | { "kind": "delivery.failed", "data": DeliveryStep } | { "kind": "delivery.grant_lapsed", "data": DeliveryStep } | { "kind": "delivery.expired", "data": DeliveryStep } | { "kind": "delivery.door", "data": DeliveryDoor } | { "kind": "camera.feed_lost", "data": CameraFeed } | { "kind": "camera.feed_restored", "data": CameraFeed } | { "kind": "lock.paired", "data": LockPaired } | { "kind": "lock.relock_unconfirmed", "data": RelockUnconfirmed } | { "kind": "lock.clock_off", "data": LockClockOff } | { "kind": "lock.offline", "data": LockConnectivity } | { "kind": "lock.online", "data": LockConnectivity } | { "kind": "camera.offline", "data": LockConnectivity } | { "kind": "camera.online", "data": LockConnectivity } | { "kind": "lock.rebooted", "data": LockReported } | { "kind": "lock.clock_untrusted", "data": LockReported } | { "kind": "lock.message_refused", "data": LockReported } | { "kind": "lock.journal_rewound", "data": LockReported } | { "kind": "lock.jammed", "data": LockReported } | { "kind": "lock.forced", "data": LockReported } | { "kind": "lock.ajar", "data": LockReported } | { "kind": "lock.entry_refused", "data": LockReported } | { "kind": "lock.unexpected_entry", "data": UnexpectedEntry } | { "kind": "lock.event_gap", "data": EventGap } | { "kind": "lock.journal_conflict", "data": JournalConflict } | { "kind": "guest.added", "data": Guest } | { "kind": "guest.revoked", "data": GuestRef } | { "kind": "guest.redeemed", "data": GuestRedeemed } | { "kind": "guest.granted", "data": GuestGranted } | { "kind": "guest.refused", "data": GuestRefused } | { "kind": "guest.door_open", "data": GuestVisitStep } | { "kind": "guest.door_closed", "data": GuestVisitStep } | { "kind": "guest.visit_ended", "data": GuestVisitStep } | { "kind": "guest.door_not_locked", "data": GuestVisitStep } | { "kind": "guests.time_zone_differs", "data": GuestsTimeZoneDiffers } | { "kind": "device.signed_in", "data": DeviceSignedIn } | { "kind": "device.confirmed", "data": DeviceRef } | { "kind": "device.signed_out", "data": DeviceSignedOut } | { "kind": "account.password_reset", "data": DeviceRef } | { "kind": "account.recovery_key_set", "data": DeviceRef } | { "kind": "address.added", "data": Address } | { "kind": "address.removed", "data": AddressRemoved } | { "kind": "household.settings_changed", "data": SettingsChanged } | { "kind": "household.policy_changed", "data": PolicyChanged });

export type EventData = { "kind": "delivery.announced", "data": DeliverySnapshot } | { "kind": "delivery.approved", "data": DeliverySnapshot } | { "kind": "delivery.blocked", "data": DeliverySnapshot } | { "kind": "delivery.rerouted", "data": DeliverySnapshot } | { "kind": "delivery.approaching", "data": DeliveryStep } | { "kind": "delivery.at_door", "data": DeliveryStep } | { "kind": "delivery.granted", "data": DeliveryGranted } | { "kind": "delivery.door_open", "data": DeliveryStep } | { "kind": "delivery.completed", "data": DeliveryStep } | { "kind": "delivery.failed", "data": DeliveryStep } | { "kind": "delivery.grant_lapsed", "data": DeliveryStep } | { "kind": "delivery.expired", "data": DeliveryStep } | { "kind": "delivery.door", "data": DeliveryDoor } | { "kind": "camera.feed_lost", "data": CameraFeed } | { "kind": "camera.feed_restored", "data": CameraFeed } | { "kind": "lock.paired", "data": LockPaired } | { "kind": "lock.relock_unconfirmed", "data": RelockUnconfirmed } | { "kind": "lock.clock_off", "data": LockClockOff } | { "kind": "lock.offline", "data": LockConnectivity } | { "kind": "lock.online", "data": LockConnectivity } | { "kind": "camera.offline", "data": LockConnectivity } | { "kind": "camera.online", "data": LockConnectivity } | { "kind": "lock.rebooted", "data": LockReported } | { "kind": "lock.clock_untrusted", "data": LockReported } | { "kind": "lock.message_refused", "data": LockReported } | { "kind": "lock.journal_rewound", "data": LockReported } | { "kind": "lock.jammed", "data": LockReported } | { "kind": "lock.forced", "data": LockReported } | { "kind": "lock.ajar", "data": LockReported } | { "kind": "lock.entry_refused", "data": LockReported } | { "kind": "lock.unexpected_entry", "data": UnexpectedEntry } | { "kind": "lock.event_gap", "data": EventGap } | { "kind": "lock.journal_conflict", "data": JournalConflict } | { "kind": "guest.added", "data": Guest } | { "kind": "guest.revoked", "data": GuestRef } | { "kind": "guest.redeemed", "data": GuestRedeemed } | { "kind": "guest.granted", "data": GuestGranted } | { "kind": "guest.refused", "data": GuestRefused } | { "kind": "guest.door_open", "data": GuestVisitStep } | { "kind": "guest.door_closed", "data": GuestVisitStep } | { "kind": "guest.visit_ended", "data": GuestVisitStep } | { "kind": "guest.door_not_locked", "data": GuestVisitStep } | { "kind": "guests.time_zone_differs", "data": GuestsTimeZoneDiffers } | { "kind": "device.signed_in", "data": DeviceSignedIn } | { "kind": "device.confirmed", "data": DeviceRef } | { "kind": "device.signed_out", "data": DeviceSignedOut } | { "kind": "account.password_reset", "data": DeviceRef } | { "kind": "account.recovery_key_set", "data": DeviceRef } | { "kind": "address.added", "data": Address } | { "kind": "address.removed", "data": AddressRemoved } | { "kind": "household.settings_changed", "data": SettingsChanged } | { "kind": "household.policy_changed", "data": PolicyChanged };

export type EventKind = "delivery.announced" | "delivery.approved" | "delivery.blocked" | "delivery.rerouted" | "delivery.approaching" | "delivery.at_door" | "delivery.granted" | "delivery.door_open" | "delivery.completed" | "delivery.failed" | "delivery.grant_lapsed" | "delivery.expired" | "delivery.door" | "camera.feed_lost" | "camera.feed_restored" | "lock.paired" | "lock.relock_unconfirmed" | "lock.clock_off" | "lock.offline" | "lock.online" | "camera.offline" | "camera.online" | "lock.rebooted" | "lock.clock_untrusted" | "lock.message_refused" | "lock.journal_rewound" | "lock.jammed" | "lock.forced" | "lock.ajar" | "lock.entry_refused" | "lock.unexpected_entry" | "lock.event_gap" | "lock.journal_conflict" | "guest.added" | "guest.revoked" | "guest.redeemed" | "guest.granted" | "guest.refused" | "guest.door_open" | "guest.door_closed" | "guest.visit_ended" | "guest.door_not_locked" | "guests.time_zone_differs" | "device.signed_in" | "device.confirmed" | "device.signed_out" | "account.password_reset" | "account.recovery_key_set" | "address.added" | "address.removed" | "household.settings_changed" | "household.policy_changed";

export type DeliverySnapshot = { 
/**
 * The delivery (also its `id`).
 */
delivery_id: string, 
/**
 * Its id.
 */
id: string, 
/**
 * The carrier's tracking id.
 */
tracking_id: string, 
/**
 * The carrier's name.
 */
carrier: string, 
/**
 * Where it is.
 */
state: DeliveryState, 
/**
 * Whether the household approved entry.
 */
approved: boolean, 
/**
 * The device that approved.
 */
approved_by: string | null, 
/**
 * The lock approved for.
 */
lock_id: string | null, 
/**
 * The announced window.
 */
window: Window, 
/**
 * Latest ETA (ms), if the carrier sent one.
 */
eta: number | null, 
/**
 * The assigned courier's public key.
 */
courier_key: string, 
/**
 * The carrier's signed `shipment` envelope, if it signed one: a device
 * approves by policy only what a carrier key the household pinned signed.
 */
shipment: string | null, 
/**
 * Where it was rerouted to.
 */
rerouted_to: Address | null, 
/**
 * The door during its entry, as the lock reported it; `null` while the
 * lock has not moved for this delivery.
 */
door: DoorState | null, 
/**
 * Grows with every change.
 */
revision: number, 
/**
 * Announced at.
 */
created_at: number, 
/**
 * Last change.
 */
updated_at: number, };

export type DeliveryStep = { 
/**
 * The delivery.
 */
delivery_id: string, 
/**
 * Its state now.
 */
state: DeliveryState, 
/**
 * The lock, when one was involved.
 */
lock_id?: string, 
/**
 * Why, for failures and lapsed grants.
 */
reason?: string, 
/**
 * `delivery.approaching`: the expected arrival (ms).
 */
eta?: number, 
/**
 * `delivery.approaching`: minutes until then, rounded up.
 */
minutes?: number, };

export type DeliveryGranted = { 
/**
 * The delivery.
 */
delivery_id: string, 
/**
 * The grant.
 */
grant_id: string, 
/**
 * The lock it opens.
 */
lock_id: string, };

export type DeliveryDoor = { 
/**
 * The delivery.
 */
delivery_id: string, 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The door now.
 */
door: DoorState, };

export type CameraFeed = { 
/**
 * The delivery being entered.
 */
delivery_id: string, 
/**
 * The lock whose camera it is.
 */
lock_id: string, 
/**
 * The last heartbeat the cloud received (ms), if any.
 */
last_heartbeat_at: number | null, };

export type LockPaired = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * Its name.
 */
name: string, 
/**
 * `door` or `garage`.
 */
kind: string, };

export type RelockUnconfirmed = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The delivery it was entering.
 */
delivery_id: string, 
/**
 * The door's last reported state.
 */
last_reported: string, };

export type LockClockOff = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * What was refused, in a sentence.
 */
detail: string, };

export type LockConnectivity = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * Its name ("Front door").
 */
name: string, 
/**
 * Offline: when it was last heard (ms); back online: since when it was quiet.
 */
since: number, };

export type LockReported = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The delivery it concerns, if any.
 */
delivery_id: string | null, 
/**
 * When, by the lock's clock (ms).
 */
at: number, 
/**
 * What the lock said beside the kind.
 */
detail: Record<string, unknown>, };

export type UnexpectedEntry = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The delivery the lock named, if any.
 */
delivery_id: string | null, 
/**
 * The guest the lock named, if any.
 */
guest_id: string | null, 
/**
 * When, by the lock's clock (ms).
 */
at: number, 
/**
 * Why it was unexpected, in a sentence.
 */
reason: string, 
/**
 * What the lock said.
 */
detail: Record<string, unknown>, };

export type EventGap = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The first missing number.
 */
missing_from: number, 
/**
 * The last missing number.
 */
missing_to: number, };

export type JournalConflict = { 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The number.
 */
seq: number, 
/**
 * The kind of the new line.
 */
kind: ReportKind, };

export type ReportKind = "booted" | "unlocked" | "relocked" | "door_opened" | "door_closed" | "forced" | "ajar" | "jammed" | "grant_used" | "entry_refused" | "revoked" | "policy_seen" | "clock_refused" | "message_refused" | "journal_rewound" | "forgotten_before";

export type Guest = { 
/**
 * Its id.
 */
id: string, 
/**
 * Its name.
 */
name: string, 
/**
 * Its public key.
 */
public_key: string, 
/**
 * Locks it may open.
 */
locks: Array<string>, 
/**
 * When, as signed.
 */
schedule: unknown, 
/**
 * Whether the household revoked it.
 */
revoked: boolean, };

export type GuestRef = { 
/**
 * The guest.
 */
guest_id: string, };

export type GuestGranted = { 
/**
 * The guest.
 */
guest_id: string, 
/**
 * Their name.
 */
name: string, 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The visit this starts.
 */
visit_id: string, 
/**
 * The grant.
 */
grant_id: string, };

export type GuestRedeemed = { 
/**
 * The code's name (its first two groups).
 */
invitation_id: string, 
/**
 * The guest's id to be.
 */
guest_id: string, 
/**
 * Their name.
 */
name: string, };

export type GuestRefused = { 
/**
 * The guest.
 */
guest_id: string, 
/**
 * Their name.
 */
name: string, 
/**
 * Why, in a sentence.
 */
reason: string, };

export type GuestVisitStep = { 
/**
 * The guest.
 */
guest_id: string, 
/**
 * The visit.
 */
visit_id: string, 
/**
 * The lock.
 */
lock_id: string, 
/**
 * What happened, in a sentence.
 */
detail: string, };

export type GuestsTimeZoneDiffers = { 
/**
 * The household's zone now.
 */
time_zone: string, 
/**
 * The guests whose hours stay in their own.
 */
guests: Array<GuestInZone>, };

export type GuestInZone = { 
/**
 * The guest.
 */
guest_id: string, 
/**
 * Their name.
 */
name: string, 
/**
 * The zone their hours are in.
 */
time_zone: string, };

export type DeviceSignedIn = { 
/**
 * The device.
 */
device_id: string, 
/**
 * Its name.
 */
name: string, };

export type DeviceRef = { 
/**
 * The device.
 */
device_id: string, };

export type DeviceSignedOut = { 
/**
 * The device.
 */
device_id: string, 
/**
 * Why, in a few words.
 */
reason: string, };

export type AddressRemoved = { 
/**
 * The address.
 */
id: string, };

export type SettingsChanged = { 
/**
 * The new time zone.
 */
time_zone: string | null, 
/**
 * The new lead time.
 */
lead_time_minutes: number | null, };

export type PolicyChanged = { 
/**
 * Its version.
 */
version: number, 
/**
 * The carriers it admits.
 */
carriers: Array<string>, 
/**
 * The locks it covers.
 */
locks: Array<string>, };

export type AuditAction = AuditVerb | EventKind;

export type AuditVerb = "access.foreign_refused" | "account.create" | "account.totp_on" | "address.add" | "address.remove" | "delivery.announce" | "delivery.grant" | "device.sign_in" | "device.sign_out" | "guest.add" | "guest.invite" | "guest.grant" | "guest.revoke" | "household.policy" | "household.settings" | "lock.pair" | "lock.pairing_code" | "video.live_view" | "video.playback" | "video.delete" | "video.snapshot";

export type AuditEntry = { 
/**
 * When.
 */
at: number, 
/**
 * `device:<id>`, `carrier:<id>`, `lock:<id>` or `system`.
 */
actor: string, 
/**
 * The device, when a household device acted.
 */
device_id: string | null, 
/**
 * Its name at the time of reading.
 */
device_name: string | null, 
/**
 * What was done, e.g. `delivery.announce`, or what happened, e.g. `delivery.blocked`.
 */
action: AuditAction, 
/**
 * What it was done to.
 */
object_id: string | null, 
/**
 * A sentence.
 */
detail: string, };

export type Recording = { 
/**
 * Its id.
 */
id: string, 
/**
 * The lock.
 */
lock_id: string, 
/**
 * The delivery it belongs to, if any.
 */
delivery_id: string | null, 
/**
 * First frame (ms).
 */
started_at: number, 
/**
 * Last frame (ms).
 */
last_frame_at: number, 
/**
 * How many frames.
 */
frames: number, 
/**
 * The lock's name.
 */
lock_name: string, 
/**
 * The delivery's carrier, when the recording is of a delivery.
 */
carrier: string | null, 
/**
 * The delivery's tracking id, when the recording is of a delivery.
 */
tracking_id: string | null, 
/**
 * The guest's name, when the recording is of a guest's visit.
 */
guest: string | null, };

export type Device = { 
/**
 * Its id.
 */
id: string, 
/**
 * Its name.
 */
name: string, 
/**
 * Its public key.
 */
public_key: string, 
/**
 * When it signed in.
 */
created_at: number, 
/**
 * Last token refresh.
 */
last_seen_at: number, 
/**
 * Whether it has a live session.
 */
signed_in: boolean, 
/**
 * Whether it is the device asking.
 */
this_device: boolean, };

export type RecordingFrame = { 
/**
 * The camera's frame number.
 */
seq: number, 
/**
 * When it was captured (ms).
 */
capturedAt: number, 
/**
 * `data:image/jpeg;base64,…`.
 */
dataUrl: string, };

export type SettingsView = { 
/**
 * Minutes before the ETA for "courier arriving".
 */
leadTimeMinutes: number, 
/**
 * Alternate addresses.
 */
addresses: Array<Address>, 
/**
 * The home's time zone.
 */
timeZone: string, };

export type GuestView = { 
/**
 * Its id.
 */
id: string, 
/**
 * Its name.
 */
name: string, 
/**
 * When they may come.
 */
when: GuestWhen, 
/**
 * Whether the household revoked them.
 */
revoked: boolean, };

export type GuestWhen = { "kind": "weekly", 
/**
 * The weekdays.
 */
days: Array<number>, 
/**
 * Start, `HH:MM`.
 */
from: string, 
/**
 * End, `HH:MM`.
 */
until: string, } | { "kind": "once", 
/**
 * Start.
 */
from: number, 
/**
 * End (the minute it ends, not the window's last millisecond).
 */
until: number, 
/**
 * The household's time zone.
 */
time_zone: string, };

export type InvitationView = { 
/**
 * The code's name (its first two groups).
 */
id: string, 
/**
 * The code to give the guest.
 */
code: string, 
/**
 * The guest's name.
 */
name: string, 
/**
 * When they may come.
 */
when: GuestWhen, 
/**
 * When an unredeemed code stops working (ms).
 */
expiresAt: number, 
/**
 * Where it stands.
 */
state: InvitationState, 
/**
 * The cloud the guest redeems the code at.
 */
cloudUrl: string, };

export type PairingView = { 
/**
 * The lock's name to be.
 */
name: string, 
/**
 * The code to enter on the lock: the cloud's single-use code, then the
 * household key's fingerprint.
 */
code: string, 
/**
 * When it stops working (ms).
 */
expiresAt: number, 
/**
 * The cloud the lock pairs with.
 */
cloudUrl: string, };

export type PopupKindView = { 
/**
 * The kind.
 */
kind: PopupKind, 
/**
 * Shown.
 */
on: boolean, };

export type PopupKind = "on_the_way" | "at_the_door" | "outcome" | "guest" | "warning";

export type InvitationState = "waiting" | "redeemed" | "refused";

export type PolicyView = { 
/**
 * Its version (0 when there is none).
 */
version: number, 
/**
 * Carriers allowed, as announced.
 */
carriers: Array<string>, 
/**
 * Each pinned carrier key, as `DHL ABCD-EFGH-…` (its fingerprint), to compare
 * with the one the carrier publishes.
 */
carrierFingerprints: Array<string>, 
/**
 * Days, e.g. `mon-fri` style list: 1 = Monday … 7 = Sunday.
 */
days: Array<number>, 
/**
 * `08:00-18:00`.
 */
hours: string, 
/**
 * The longest entry window, minutes.
 */
maxWindowMinutes: number, 
/**
 * The zone its hours are read in, as signed (it stays when the home moves,
 * until the rules are saved again); `None` without a policy.
 */
timeZone: string | null, };

/** Every event kind. */
export const EVENT_KINDS: EventKind[] = ["delivery.announced", "delivery.approved", "delivery.blocked", "delivery.rerouted", "delivery.approaching", "delivery.at_door", "delivery.granted", "delivery.door_open", "delivery.completed", "delivery.failed", "delivery.grant_lapsed", "delivery.expired", "delivery.door", "camera.feed_lost", "camera.feed_restored", "lock.paired", "lock.relock_unconfirmed", "lock.clock_off", "lock.offline", "lock.online", "camera.offline", "camera.online", "lock.rebooted", "lock.clock_untrusted", "lock.message_refused", "lock.journal_rewound", "lock.jammed", "lock.forced", "lock.ajar", "lock.entry_refused", "lock.unexpected_entry", "lock.event_gap", "lock.journal_conflict", "guest.added", "guest.revoked", "guest.redeemed", "guest.granted", "guest.refused", "guest.door_open", "guest.door_closed", "guest.visit_ended", "guest.door_not_locked", "guests.time_zone_differs", "device.signed_in", "device.confirmed", "device.signed_out", "account.password_reset", "account.recovery_key_set", "address.added", "address.removed", "household.settings_changed", "household.policy_changed"];

/** Every audit verb. */
export const AUDIT_VERBS: AuditVerb[] = ["access.foreign_refused", "account.create", "account.totp_on", "address.add", "address.remove", "delivery.announce", "delivery.grant", "device.sign_in", "device.sign_out", "guest.add", "guest.invite", "guest.grant", "guest.revoke", "household.policy", "household.settings", "lock.pair", "lock.pairing_code", "video.live_view", "video.playback", "video.delete", "video.snapshot"];

/** The events the shell emits, by name. */
export const events = {
  feed: "feed",
  intent: "intent",
} as const;

/** What each event carries. */
export type EventPayloads = {
  feed: FeedMessage;
  intent: Navigate;
};

/** Set by the shell before the page loads: `true` when no sign-in is saved. */
export const SIGNED_OUT_AT_START = "__doorstepSignedOutAtStart";

export const commands = {
  /**
   * Checks the keyring and the notification service this app needs.
   */
  systemCheck: (): Promise<SystemCheck> => invoke<SystemCheck>("system_check"),
  /**
   * Who is signed in on this device.
   */
  session: (): Promise<SessionInfo> => invoke<SessionInfo>("session"),
  /**
   * Starts the demo home (a local cloud, lock, camera and courier) and signs in to it.
   */
  startDemo: (): Promise<SessionInfo> => invoke<SessionInfo>("start_demo"),
  /**
   * Signs this device in to a household login.
   */
  signIn: (cloud: string, email: string, password: string, totp: string | null): Promise<SessionInfo> => invoke<SessionInfo>("sign_in", { cloud, email, password, totp }),
  /**
   * Creates a household login with this device as its first.
   * `time_zone`: the home's IANA zone, as this computer's clock is set.
   */
  createAccount: (cloud: string, email: string, password: string, time_zone: string): Promise<NewAccountView> => invoke<NewAccountView>("create_account", { cloud, email, password, time_zone }),
  /**
   * Sets a new password with the recovery key and signs this device in.
   */
  recoverAccount: (cloud: string, email: string, recovery_key: string, new_password: string, totp: string | null): Promise<SessionInfo> => invoke<SessionInfo>("recover_account", { cloud, email, recovery_key, new_password, totp }),
  /**
   * Makes a new recovery key (the one before stops working); needs a recent password.
   */
  newRecoveryKey: (): Promise<string> => invoke<string>("new_recovery_key"),
  /**
   * Signs this device out.
   */
  signOut: (): Promise<null> => invoke<null>("sign_out"),
  /**
   * The home screen: locks, deliveries, connection.
   */
  home: (): Promise<HomeView> => invoke<HomeView>("home"),
  /**
   * One delivery with its timeline and the addresses it can go to.
   */
  deliveryView: (id: string): Promise<DeliveryView> => invoke<DeliveryView>("delivery_view", { id }),
  /**
   * Block access (signed with the household key).
   */
  block: (id: string): Promise<Delivery> => invoke<Delivery>("block", { id }),
  /**
   * Reroute to an alternate address.
   */
  reroute: (id: string, address_id: string): Promise<Delivery> => invoke<Delivery>("reroute", { id, address_id }),
  /**
   * Approve entry.
   */
  approve: (id: string): Promise<Delivery> => invoke<Delivery>("approve", { id }),
  /**
   * Who did what, newest first; `prefix` filters by action (`delivery.`, `video.` …).
   */
  activity: (prefix: string | null): Promise<Array<AuditEntry>> => invoke<Array<AuditEntry>>("activity", { prefix }),
  /**
   * Recordings, newest first.
   */
  recordings: (): Promise<Array<Recording>> => invoke<Array<Recording>>("recordings"),
  /**
   * Seeks a recording: the first frame at or after `at` (ms).
   */
  recordingFrame: (id: string, at: number | null): Promise<RecordingFrame> => invoke<RecordingFrame>("recording_frame", { id, at }),
  /**
   * Devices signed in to this login.
   */
  devices: (): Promise<Array<Device>> => invoke<Array<Device>>("devices"),
  /**
   * Signs another device out.
   */
  signOutDevice: (id: string): Promise<null> => invoke<null>("sign_out_device", { id }),
  /**
   * Confirms the password (and code) for the sensitive actions of the next minutes.
   */
  confirmPassword: (password: string, totp: string | null): Promise<null> => invoke<null>("confirm_password", { password, totp }),
  /**
   * The settings page.
   */
  settings: (): Promise<SettingsView> => invoke<SettingsView>("settings"),
  /**
   * Minutes before arrival for "courier arriving".
   */
  setLeadTime: (minutes: number): Promise<null> => invoke<null>("set_lead_time", { minutes }),
  /**
   * The home's time zone (IANA, e.g. `Europe/Berlin`): the wall clock the rules and guests' hours are read by.
   */
  setTimeZone: (time_zone: string): Promise<null> => invoke<null>("set_time_zone", { time_zone }),
  /**
   * Adds an alternate address (a neighbour).
   */
  addAddress: (label: string, address: string): Promise<Address> => invoke<Address>("add_address", { label, address }),
  /**
   * Removes an alternate address.
   */
  removeAddress: (id: string): Promise<null> => invoke<null>("remove_address", { id }),
  /**
   * Shows a test popup.
   */
  testPopup: (): Promise<null> => invoke<null>("test_popup"),
  /**
   * Whether the app starts when the person logs in (`null`: it cannot here).
   */
  autostart: (): Promise<boolean | null> => invoke<boolean | null>("autostart"),
  /**
   * Starts the app at login, or stops doing so (remembered as the person's choice).
   */
  setAutostart: (enabled: boolean): Promise<null> => invoke<null>("set_autostart", { enabled }),
  /**
   * The standing delivery policy.
   */
  policy: (): Promise<PolicyView> => invoke<PolicyView>("policy"),
  /**
   * The carriers a policy can let in (those the cloud knows), by name.
   */
  carriers: (): Promise<Array<string>> => invoke<Array<string>>("carriers"),
  /**
   * Signs and saves a new delivery policy (`days` like `mon-fri`, `hours` like `08:00-18:00`).
   */
  setPolicy: (carriers: Array<string>, days: string, hours: string, max_window_minutes: number): Promise<PolicyView> => invoke<PolicyView>("set_policy", { carriers, days, hours, max_window_minutes }),
  /**
   * The language popups are written in (`en` or `de`), from the page's setting.
   */
  setLanguage: (language: string): Promise<null> => invoke<null>("set_language", { language }),
  /**
   * Guests.
   */
  guests: (): Promise<Array<GuestView>> => invoke<Array<GuestView>>("guests"),
  /**
   * Invites a guest by code: every week on `days` (`mon-fri`) during `hours`
   * (`08:00-12:00`), or, when `once_on` names a day (`2026-12-24`), once: from
   * that day at the start of `hours` until `until_day` (that same day when
   * absent) at their end; wall times in the household's time zone. The code
   * works for a week; the guest redeems it with `doorstep-courier guest`.
   */
  inviteGuest: (name: string, days: string, hours: string, once_on: string | null, until_day: string | null): Promise<InvitationView> => invoke<InvitationView>("invite_guest", { name, days, hours, once_on, until_day }),
  /**
   * Invitations not yet signed in as guests.
   */
  guestInvitations: (): Promise<Array<InvitationView>> => invoke<Array<InvitationView>>("guest_invitations"),
  /**
   * Withdraws an invitation; its code stops working.
   */
  cancelInvitation: (id: string): Promise<null> => invoke<null>("cancel_invitation", { id }),
  /**
   * The lock's camera picture now (for a thumbnail); not found while it is not filming.
   */
  snapshot: (lock_id: string): Promise<RecordingFrame> => invoke<RecordingFrame>("snapshot", { lock_id }),
  /**
   * Which kinds of popup this computer shows.
   */
  popupKinds: (): Promise<Array<PopupKindView>> => invoke<Array<PopupKindView>>("popup_kinds"),
  /**
   * Turns a kind of popup on or off on this computer (remembered there).
   */
  setPopupKind: (kind: PopupKind, on: boolean): Promise<null> => invoke<null>("set_popup_kind", { kind, on }),
  /**
   * A single-use code to pair a new lock (`kind`: `door` or `garage`).
   */
  pairingCode: (name: string, kind: string): Promise<PairingView> => invoke<PairingView>("pairing_code", { name, kind }),
  /**
   * Revokes a guest.
   */
  revokeGuest: (id: string): Promise<null> => invoke<null>("revoke_guest", { id }),
  /**
   * Stops the live view `watch_live` started.
   */
  stopLive: (): Promise<null> => invoke<null>("stop_live"),
  /**
   * Stops the playback `play_recording` started.
   */
  stopPlayback: (): Promise<null> => invoke<null>("stop_playback"),
  /**
   * Deletes a recording for good.
   */
  deleteRecording: (id: string): Promise<null> => invoke<null>("delete_recording", { id }),
  /**
   * The page has drawn its first screen; the shell logs the time since it started
   * and how the page got there (what the bench's cold-start measurement waits for).
   */
  firstScreenShown: (marks: StartMarks): Promise<null> => invoke<null>("first_screen_shown", { marks }),
};
