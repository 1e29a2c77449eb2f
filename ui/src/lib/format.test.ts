import { describe, expect, it } from "vitest";
import type { Delivery, Event } from "./bindings";
import { canBlock, canReroute, deliveryOf, eventLabel, isEntry, stateLabel } from "./format";
import { parseFrame } from "./live";

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

describe("live frames", () => {
  it("reads the frame number and capture time and refuses what is not a JPEG", () => {
    const buffer = new ArrayBuffer(20);
    const view = new DataView(buffer);
    view.setBigUint64(0, 42n);
    view.setBigInt64(8, 1_790_000_000_123n);
    new Uint8Array(buffer, 16).set([0xff, 0xd8, 0xff, 0xd9]);
    const frame = parseFrame(buffer);
    expect(frame?.seq).toBe(42);
    expect(frame?.capturedAt).toBe(1_790_000_000_123);
    expect(frame?.jpeg.length).toBe(4);
    new Uint8Array(buffer, 16).set([0, 0]);
    expect(parseFrame(buffer)).toBeNull();
    expect(parseFrame(new ArrayBuffer(4))).toBeNull();
  });
});
