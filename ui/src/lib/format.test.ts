import { describe, expect, it } from "vitest";
import type { Delivery, Event, Lock } from "./bindings";
import { AUDIT_VERBS, EVENT_KINDS } from "./bindings";
import {
  actionLabel,
  actorLabel,
  byDay,
  canBlock,
  canReroute,
  clock,
  dayHeading,
  fromPicker,
  guestWhen,
  scheduleProblem,
  toPicker,
  weekdayName,
  weekHours,
  whyDisabled,
  deliveryOf,
  isOver,
  lockState,
  eventLabel,
  isEntry,
  stateLabel,
  when,
} from "./format";
import { hasKey, setLocale, translate } from "./i18n.svelte";

function delivery(state: Delivery["state"]): Delivery {
  return {
    id: "d1",
    tracking_id: "T",
    carrier: "DHL",
    state,
    approved: true,
    approved_by: null,
    lock_id: "l1",
    window: { not_before: 0, not_after: 1 },
    eta: null,
    courier_key: "k",
    shipment: null,
    rerouted_to: null,
    door: null,
    revision: 1,
    created_at: 0,
    updated_at: 0,
  };
}

describe("delivery states", () => {
  it("count a visit over once nothing is left to do, a blocked one only with the door locked", () => {
    expect(isOver(delivery("completed"))).toBe(true);
    expect(isOver(delivery("rerouted"))).toBe(true);
    expect(isOver(delivery("door_open"))).toBe(false);
    expect(isOver({ ...delivery("blocked"), door: "locked" })).toBe(true);
    expect(isOver({ ...delivery("blocked"), door: null })).toBe(true);
    expect(isOver({ ...delivery("blocked"), door: "open" })).toBe(false);
    expect(isOver({ ...delivery("failed"), door: "unconfirmed" })).toBe(false);
  });

  it("offers Block until the parcel is in and Reroute only before arrival or after a block", () => {
    expect(canBlock(delivery("door_open"))).toBe(true);
    expect(canBlock(delivery("completed"))).toBe(false);
    expect(canReroute(delivery("approaching"))).toBe(true);
    expect(canReroute(delivery("blocked"))).toBe(true);
    expect(canReroute(delivery("door_open"))).toBe(false);
    expect(isEntry(delivery("at_door").state)).toBe(true);
    expect(isEntry(delivery("announced").state)).toBe(false);
    expect(stateLabel("door_open")).toBe("Inside now");
  });

  it("labels events and finds the delivery they are about", () => {
    const event: Event = {
      seq: 1,
      kind: "delivery.at_door",
      at: 0,
      device_id: null,
      data: { delivery_id: "d9", state: "at_door" },
    };
    expect(eventLabel(event)).toBe("Courier at the door");
    expect(deliveryOf(event)).toBe("d9");
    // What a newer cloud may send: a kind this build does not know, or no payload.
    const untyped = (fields: object) => ({ ...event, ...fields }) as unknown as Event;
    expect(deliveryOf(untyped({ data: null }))).toBeNull();
    expect(eventLabel(untyped({ kind: "something.new" }))).toBe("something.new");
    const door = (state: "jammed" | "locked"): Event => ({
      ...event,
      kind: "delivery.door",
      data: { delivery_id: "d9", lock_id: "l1", door: state },
    });
    expect(eventLabel(door("jammed"))).toBe("Door NOT locked: the lock's motor is jammed");
    expect(eventLabel(door("locked"))).toBe("Door locked — confirmed by the lock");
  });
});

describe("a lock's state", () => {
  const lock = (over: Partial<Lock>): Lock => ({
    id: "l1",
    name: "Front door",
    kind: "door",
    paired_at: 0,
    last_seen_at: 1_000,
    online: true,
    camera_recording: true,
    bolt: null,
    door: null,
    position_at: null,
    ...over,
  });

  it("says the bolt and the door as the lock reported them, and when it went quiet", () => {
    setLocale("en");
    expect(lockState(lock({ bolt: "locked", door: "closed" }))).toEqual({ text: "Locked, door closed", bad: false });
    expect(lockState(lock({ bolt: "jammed" })).bad).toBe(true);
    expect(lockState(lock({})).text).toBe("Online");
    const offline = lockState(lock({ online: false, last_seen_at: Date.UTC(2026, 11, 3, 9, 5) }), Date.UTC(2026, 11, 3, 12));
    expect(offline.bad).toBe(true);
    expect(offline.text).toMatch(/^Offline since /);
    expect(lockState(lock({ online: false, last_seen_at: null })).text).toBe("Offline");
    setLocale("de");
    expect(lockState(lock({ bolt: "unlocked", door: "open" })).text).toBe("Aufgeschlossen, Tür offen");
    setLocale("en");
  });
});

describe("times", () => {
  const now = new Date(2026, 11, 3, 18, 0).getTime();
  const today = new Date(2026, 11, 3, 15, 4, 5).getTime();

  it("are written in the app's language: 24-hour in German, no seconds unless asked", () => {
    expect(when(today, { now, locale: "de" })).toBe("15:04");
    expect(when(today, { now, locale: "de", seconds: true })).toBe("15:04:05");
    expect(when(today, { now, locale: "en" })).toMatch(/^03:04\sPM$/);
  });

  it("name the day when it is not today, and the year when it is not this one", () => {
    const earlier = new Date(2026, 10, 28, 9, 30).getTime();
    expect(when(earlier, { now, locale: "de" })).toBe("28. Nov., 09:30");
    const lastYear = new Date(2025, 11, 24, 9, 30).getTime();
    expect(when(lastYear, { now, locale: "de" })).toContain("2025");
  });
});

describe("the activity log", () => {
  it("has words for every event kind and audit verb in both languages", () => {
    for (const kind of EVENT_KINDS) {
      expect(hasKey(`event.${kind}`), kind).toBe(true);
      expect(translate("de", `event.${kind}` as never), kind).not.toBe(translate("en", `event.${kind}` as never));
    }
    for (const verb of AUDIT_VERBS) {
      expect(hasKey(`verb.${verb}`), verb).toBe(true);
      expect(translate("de", `verb.${verb}` as never), verb).not.toBe(translate("en", `verb.${verb}` as never));
    }
  });

  it("never shows a raw action name or actor id", () => {
    setLocale("en");
    expect(actionLabel("delivery.blocked")).toBe("Access blocked");
    expect(actionLabel("video.live_view")).toBe("Watched the camera live");
    expect(actionLabel("lock.melted")).toBe("Something else happened");
    const locks = new Map([["01a2", "Front door"]]);
    expect(actorLabel({ actor: "lock:01a2", device_name: null }, locks)).toBe("Front door");
    expect(actorLabel({ actor: "lock:ffff", device_name: null }, locks)).toBe("The lock");
    expect(actorLabel({ actor: "carrier:c1", device_name: null })).toBe("The carrier");
    expect(actorLabel({ actor: "device:d1", device_name: "Anna's laptop" })).toBe("Anna's laptop");
    expect(actorLabel({ actor: "system", device_name: null })).toBe("Doorstep");
  });

  it("groups lines under their day", () => {
    setLocale("de");
    const now = new Date(2026, 11, 3, 18, 0).getTime();
    const lines = [
      { at: new Date(2026, 11, 3, 9, 0).getTime() },
      { at: new Date(2026, 11, 3, 8, 0).getTime() },
      { at: new Date(2026, 11, 2, 20, 0).getTime() },
      { at: new Date(2026, 10, 30, 20, 0).getTime() },
    ];
    const groups = byDay(lines);
    expect(groups.map((g) => g.items.length)).toEqual([2, 1, 1]);
    expect(groups.map((g) => dayHeading(g.at, { now, locale: "de" }))).toEqual([
      "Heute",
      "Gestern",
      "Montag, 30. November",
    ]);
    setLocale("en");
  });
});

describe("video lengths", () => {
  it("reads like a player's clock", () => {
    expect(clock(0)).toBe("0:00");
    expect(clock(7_900)).toBe("0:07");
    expect(clock(125_000)).toBe("2:05");
    expect(clock(3_725_000)).toBe("1:02:05");
    expect(clock(-50)).toBe("0:00");
  });
});

describe("schedules in words", () => {
  it("names runs of weekdays and hours", () => {
    expect(weekHours([1, 2, 3, 4, 5], "08:00", "18:00", "en")).toBe("Mon–Fri, 08:00–18:00");
    expect(weekHours([6, 7], "09:00", "12:00", "en")).toBe("Sat, Sun, 09:00–12:00");
    // ICU versions differ on the abbreviation's dot.
    expect(weekHours([3, 1, 2, 5], "08:00", "10:00", "de")).toMatch(/^Mo\.?–Mi\.?, Fr\.?, 08:00–10:00$/);
    expect(weekdayName(7, "long", "de")).toBe("Sonntag");
  });

  it("shows the end of the day as a picker can", () => {
    expect(toPicker("24:00")).toBe("23:59");
    expect(fromPicker("23:59")).toBe("24:00");
    expect(fromPicker(toPicker("18:30"))).toBe("18:30");
  });

  it("says what is wrong in a sentence", () => {
    setLocale("en");
    expect(scheduleProblem([], "08:00", "10:00")).toBe("Pick at least one day.");
    expect(scheduleProblem([1], "10:00", "09:00")).toContain("ends before it starts: from 10:00 until 09:00");
    expect(scheduleProblem(null, "", "09:00")).toBe("Pick a start and an end time.");
    expect(scheduleProblem([1, 2], "08:00", "09:00")).toBeNull();
    setLocale("de");
    expect(scheduleProblem([], "08:00", "10:00")).toBe("Wählen Sie mindestens einen Tag.");
    setLocale("en");
  });

  it("writes a guest's hours in the app's language", () => {
    setLocale("de");
    expect(guestWhen({ kind: "weekly", days: [1, 2, 3, 4, 5], from: "08:00", until: "12:00" }, "de")).toMatch(
      /^Jede Woche: Mo\.?–Fr\.?, 08:00–12:00$/,
    );
    // 10:00 in Berlin on Christmas Eve, whatever this computer's zone.
    const from = Date.UTC(2026, 11, 24, 9, 0);
    const once = guestWhen({ kind: "once", from, until: from + 2 * 3_600_000, time_zone: "Europe/Berlin" }, "de");
    expect(once).toMatch(/^Einmal: .*24\. Dez.*10:00.*12:00/);
    setLocale("en");
  });
});

describe("disabled actions", () => {
  it("say why in a sentence", () => {
    setLocale("en");
    expect(whyDisabled(delivery("announced"), 1)).toBeNull();
    expect(whyDisabled(delivery("announced"), 0)).toContain("add an alternate address");
    expect(whyDisabled(delivery("door_open"), 1)).toContain("block access first, then reroute");
    expect(whyDisabled(delivery("completed"), 1)).toContain("the parcel is delivered");
    expect(whyDisabled(delivery("blocked"), 1)).toContain("You can still send the parcel");
    for (const state of ["completed", "rerouted", "expired", "blocked", "failed", "at_door", "granted", "door_open"] as const) {
      expect(whyDisabled(delivery(state), 1), state).not.toBeNull();
    }
  });
});
