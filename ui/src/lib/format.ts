import type { Delivery, DeliveryState, Event } from "./bindings";
import { hasKey, t, type Key } from "./i18n.svelte";

/** The state as people read it. */
export function stateLabel(state: DeliveryState): string {
  return t(`state.${state}` as Key);
}

/** While the courier can be, or is, inside: the moments live video matters. */
export function isEntry(state: DeliveryState): boolean {
  return state === "at_door" || state === "granted" || state === "door_open";
}

/** Block access makes sense until the parcel is inside and the door locked. */
export function canBlock(delivery: Delivery): boolean {
  return ["announced", "approaching", "at_door", "granted", "door_open"].includes(delivery.state);
}

/** Reroute: before arrival, or after a block or a failure. */
export function canReroute(delivery: Delivery): boolean {
  return ["announced", "approaching", "blocked", "failed"].includes(delivery.state);
}

/** A clock time for today, a date and time otherwise. */
export function when(ms: number, now: number = Date.now()): string {
  const date = new Date(ms);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" })
    : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
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
