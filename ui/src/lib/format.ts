import type { Delivery, DeliveryState, Event } from "./bindings";

const stateLabels: Record<DeliveryState, string> = {
  announced: "Announced",
  approaching: "On the way",
  at_door: "At the door",
  granted: "Letting in",
  door_open: "Inside now",
  completed: "Delivered",
  blocked: "Blocked",
  rerouted: "Rerouted",
  failed: "Not delivered",
  expired: "Expired",
};

/** The state as people read it. */
export function stateLabel(state: DeliveryState): string {
  return stateLabels[state];
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

const eventLabels: Record<string, string> = {
  "delivery.announced": "Announced by the carrier",
  "delivery.approved": "Approved",
  "delivery.approaching": "Courier on the way",
  "delivery.at_door": "Courier at the door",
  "delivery.granted": "Entry granted",
  "delivery.door_open": "Door opened",
  "delivery.completed": "Delivered; door locked",
  "delivery.blocked": "Access blocked",
  "delivery.rerouted": "Rerouted",
  "delivery.failed": "Could not be delivered inside",
  "delivery.expired": "Window passed",
  "camera.feed_lost": "Camera feed lost",
  "camera.feed_restored": "Camera feed back",
};

/** One timeline line. */
export function eventLabel(event: Event): string {
  return eventLabels[event.kind] ?? event.kind;
}

/** The delivery an event is about, if any. */
export function deliveryOf(event: Event): string | null {
  const data = event.data as Record<string, unknown> | null;
  if (!data || typeof data !== "object") return null;
  const id = data["id"] ?? data["delivery_id"];
  return typeof id === "string" ? id : null;
}
