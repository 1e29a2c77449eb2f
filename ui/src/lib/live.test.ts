import { describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ Channel: class {}, invoke: vi.fn() }));
const { latestFirst, openStats, parseFrame, recordDrawn } = await import("./live");

function message(jpeg: number[]): ArrayBuffer {
  const buffer = new ArrayBuffer(24 + jpeg.length);
  const view = new DataView(buffer);
  view.setBigInt64(0, 1_790_000_000_150n);
  view.setBigUint64(8, 42n);
  view.setBigInt64(16, 1_790_000_000_123n);
  new Uint8Array(buffer, 24).set(jpeg);
  return buffer;
}

describe("live view", () => {
  it("reads when it was sent, the frame number and capture time, and refuses what is not a JPEG", () => {
    const frame = parseFrame(message([0xff, 0xd8, 0xff, 0xd9]));
    expect(frame).toMatchObject({ sentAt: 1_790_000_000_150, seq: 42, capturedAt: 1_790_000_000_123 });
    expect(frame?.jpeg.length).toBe(4);
    expect(parseFrame(message([0, 0, 0, 0]))).toBeNull();
    expect(parseFrame(new ArrayBuffer(20))).toBeNull();
  });

  it("keeps open → first drawn once and each frame's ages, for the probe", () => {
    const stats = openStats();
    expect((globalThis as { __doorstepLive?: unknown }).__doorstepLive).toBe(stats);
    const now = Date.now();
    recordDrawn(stats, { capturedAt: now - 40, sentAt: now - 30 }, now - 10);
    const first = stats.firstDrawnMs;
    recordDrawn(stats, { capturedAt: now - 20, sentAt: now - 15 }, now - 5);
    expect(stats.firstDrawnMs).toBe(first);
    expect(stats.sentAgesMs).toEqual([10, 5]);
    expect(stats.arrivedAgesMs).toEqual([30, 15]);
    expect(stats.drawnAgesMs).toHaveLength(2);
    expect(stats.drawnAgesMs[0]).toBeGreaterThanOrEqual(40);
    for (let i = 0; i < 700; i++) recordDrawn(stats, { capturedAt: now, sentAt: now }, now);
    expect(stats.drawnAgesMs).toHaveLength(600);
    expect(stats.sentAgesMs).toHaveLength(600);
  });

  it("draws the newest frame next and passes over those a newer one replaced", async () => {
    const drawn: number[] = [];
    let skipped = 0;
    let release: () => void = () => {};
    const show = latestFirst(
      (n: number) => {
        drawn.push(n);
        return n === 1 ? new Promise<void>((done) => (release = done)) : Promise.resolve();
      },
      () => skipped++,
    );
    show(1);
    show(2);
    show(3);
    show(4);
    expect(drawn).toEqual([1]);
    release();
    await new Promise((done) => setTimeout(done, 0));
    expect(drawn).toEqual([1, 4]);
    expect(skipped).toBe(2);
    show(5);
    await new Promise((done) => setTimeout(done, 0));
    expect(drawn).toEqual([1, 4, 5]);
  });

  it("goes on after a picture that does not decode", async () => {
    const drawn: number[] = [];
    const show = latestFirst(
      async (n: number) => {
        drawn.push(n);
        if (n === 1) throw new Error("not a JPEG");
      },
      () => {},
    );
    show(1);
    await new Promise((done) => setTimeout(done, 0));
    show(2);
    await new Promise((done) => setTimeout(done, 0));
    expect(drawn).toEqual([1, 2]);
  });
});
