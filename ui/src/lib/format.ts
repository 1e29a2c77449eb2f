import type { Delivery, DeliveryState, Event, GuestWhen, Lock } from "./bindings";
import { hasKey, prefs, t, type Key, type Locale } from "./i18n.svelte";

/** The state as people read it. */
export function stateLabel(state: DeliveryState): string {
  return t(`state.${state}` as Key);
}

/** A lock's state in words: offline since when, else the bolt and the door as the
 * lock last reported them. `bad` where the household should look. */
export function lockState(lock: Lock, now: number = Date.now()): { text: string; bad: boolean } {
  if (!lock.online) {
    return {
      text: lock.last_seen_at === null ? t("home.offline") : t("home.offlineSince", { when: when(lock.last_seen_at, { now }) }),
      bad: true,
    };
  }
  const parts: string[] = [];
  if (lock.bolt) parts.push(t(`home.bolt.${lock.bolt}` as Key));
  if (lock.door) parts.push(t(`home.door.${lock.door}` as Key));
  return { text: parts.length > 0 ? parts.join(", ") : t("home.online"), bad: lock.bolt === "jammed" };
}

/** While the courier can be, or is, inside: the moments live video matters. */
export function isEntry(state: DeliveryState): boolean {
  return state === "at_door" || state === "granted" || state === "door_open";
}

/** Block access makes sense until the parcel is inside and the door locked. */
export function canBlock(delivery: Delivery): boolean {
  return ["announced", "approaching", "at_door", "granted", "door_open"].includes(delivery.state);
}

/**
 * Whether a visit is over and needs nothing more: delivered, sent elsewhere or
 * expired; or blocked or failed with the door locked (or never opened). A blocked
 * or failed visit whose door the lock has not confirmed locked is not over.
 */
export function isOver(delivery: Delivery): boolean {
  if (["completed", "rerouted", "expired"].includes(delivery.state)) return true;
  return ["blocked", "failed"].includes(delivery.state) && (delivery.door === null || delivery.door === "locked");
}

/** Reroute: before arrival, or after a block or a failure. */
export function canReroute(delivery: Delivery): boolean {
  return ["announced", "approaching", "blocked", "failed"].includes(delivery.state);
}

/** How [`when`] writes a time. */
export interface WhenOptions {
  /** Seconds too: where steps are seconds apart (a visit's timeline, a frame). */
  seconds?: boolean;
  /** What "today" is (tests). */
  now?: number;
  /** The language; the app's own unless given. */
  locale?: Locale;
}

/**
 * A time in the app's language, not the system's (so 24-hour in German): the clock
 * time for today, with the day otherwise, and the year only when it is not this one.
 */
export function when(ms: number, options: WhenOptions = {}): string {
  const date = new Date(ms);
  const now = new Date(options.now ?? Date.now());
  const format: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };
  if (options.seconds) format.second = "2-digit";
  if (now.toDateString() !== date.toDateString()) {
    format.day = "numeric";
    format.month = "short";
    if (now.getFullYear() !== date.getFullYear()) format.year = "numeric";
  }
  return new Intl.DateTimeFormat(options.locale ?? prefs.locale, format).format(date);
}

/** One timeline line. */
export function eventLabel(event: Event): string {
  // What the lock reported about the door, in its own words per state.
  if (event.kind === "delivery.door") {
    const doorKey = `door.${event.data.door}`;
    if (hasKey(doorKey)) return t(doorKey);
  }
  const key = `event.${event.kind}`;
  return hasKey(key) ? t(key) : event.kind;
}

/** The delivery an event is about, if any: every such payload names it `delivery_id`
 * (`Event::delivery_id` in Rust). A kind from a newer cloud may carry anything. */
export function deliveryOf(event: Event): string | null {
  const data: unknown = event.data;
  if (!data || typeof data !== "object" || !("delivery_id" in data)) return null;
  return typeof data.delivery_id === "string" ? data.delivery_id : null;
}

/** What an activity line records, in words: an event by its kind, a request by its verb. */
export function actionLabel(action: string): string {
  for (const key of [`event.${action}`, `verb.${action}`]) {
    if (hasKey(key)) return t(key);
  }
  // A kind or verb from a newer cloud: never its raw name.
  return t("activity.other");
}

/** Who did it: the device by name, a lock by name when known. */
export function actorLabel(
  entry: { actor: string; device_name: string | null },
  lockNames: ReadonlyMap<string, string> = new Map(),
): string {
  if (entry.device_name) return entry.device_name;
  if (entry.actor.startsWith("lock:")) return lockNames.get(entry.actor.slice(5)) ?? t("activity.lock");
  if (entry.actor.startsWith("carrier:")) return t("activity.carrier");
  return t("activity.system");
}

/** The heading of a day in the activity log: today, yesterday, or the date. */
export function dayHeading(ms: number, options: { now?: number; locale?: Locale } = {}): string {
  const day = new Date(ms);
  const now = new Date(options.now ?? Date.now());
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (day.toDateString() === now.toDateString()) return t("activity.today");
  if (day.toDateString() === yesterday.toDateString()) return t("activity.yesterday");
  return new Intl.DateTimeFormat(options.locale ?? prefs.locale, {
    weekday: "long",
    day: "numeric",
    month: "long",
    ...(day.getFullYear() === now.getFullYear() ? {} : { year: "numeric" }),
  }).format(day);
}

/** Items grouped by local day, in the order given. */
export function byDay<T extends { at: number }>(items: T[]): { day: string; at: number; items: T[] }[] {
  const groups: { day: string; at: number; items: T[] }[] = [];
  for (const item of items) {
    const day = new Date(item.at).toDateString();
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.items.push(item);
    else groups.push({ day, at: item.at, items: [item] });
  }
  return groups;
}

/** A length of video as a player shows it: `0:07`, `2:05`, `1:02:05`. */
export function clock(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** A weekday's name (1 = Monday … 7 = Sunday) in the app's language. */
export function weekdayName(day: number, width: "short" | "long", locale: Locale = prefs.locale): string {
  // 1 January 2024 was a Monday.
  return new Intl.DateTimeFormat(locale, { weekday: width }).format(new Date(2024, 0, day));
}

/** Which days, from which time until which, as a sentence's part: "Mon–Fri, 08:00–18:00". */
export function weekHours(days: number[], from: string, until: string, locale: Locale = prefs.locale): string {
  const sorted = [...days].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const day of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === day - 1) last.push(day);
    else runs.push([day]);
  }
  const name = (d: number) => weekdayName(d, "short", locale);
  const text = runs
    .map((run) => (run.length > 2 ? `${name(run[0])}–${name(run[run.length - 1])}` : run.map(name).join(", ")))
    .join(", ");
  return `${text}, ${from}–${until}`;
}

/**
 * What is wrong with a weekly or one-day schedule before it is sent, in a sentence
 * (the pickers cannot produce anything else wrong); `null` when nothing is.
 */
export function scheduleProblem(days: number[] | null, from: string, until: string): string | null {
  if (days !== null && days.length === 0) return t("schedule.noDays");
  if (!from || !until) return t("schedule.noHours");
  if (until <= from) return t("schedule.backwards", { from, until });
  return null;
}

/** When a guest may come, in the app's language. */
export function guestWhen(when: GuestWhen, locale: Locale = prefs.locale): string {
  if (when.kind === "weekly") return t("guests.weekly.when", { when: weekHours(when.days, when.from, when.until, locale) });
  const range = new Intl.DateTimeFormat(locale, {
    timeZone: when.time_zone,
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  }).formatRange(new Date(when.from), new Date(when.until));
  return t("guests.once.when", { when: range });
}

/**
 * A time picker has no 24:00: the end of the day is shown as 23:59 there, and 23:59
 * picked means the end of the day (a window until midnight fits in it).
 */
export function toPicker(time: string): string {
  return time === "24:00" ? "23:59" : time;
}

export function fromPicker(time: string): string {
  return time === "23:59" ? "24:00" : time;
}

/**
 * Why Block or Reroute cannot be pressed now, in a sentence; `null` when both can
 * (or the one that cannot needs no word, like Reroute before an address is picked).
 */
export function whyDisabled(delivery: Delivery, addresses: number): string | null {
  const block = canBlock(delivery);
  const reroute = canReroute(delivery);
  if (block && reroute) return addresses === 0 ? t("why.noAddress") : null;
  switch (delivery.state) {
    case "completed":
      return t("why.completed");
    case "rerouted":
      return t("why.rerouted");
    case "expired":
      return t("why.expired");
    case "blocked":
      return addresses === 0 ? t("why.blockedNoAddress") : t("why.blocked");
    case "failed":
      return addresses === 0 ? t("why.failedNoAddress") : t("why.failed");
    default:
      // At the door or inside: Block first, then reroute.
      return t("why.inside");
  }
}
