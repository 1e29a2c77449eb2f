import { describe, expect, it, vi } from "vitest";

vi.mock("@tauri-apps/api/core", () => ({ Channel: class {}, invoke: vi.fn() }));
const { openStats, parseFrame, recordDrawn } = await import("./live");

describe("live view", () => {
  it("reads a frame message and refuses one that is not a JPEG", () => {
    const buffer = new ArrayBuffer(20);
    const view = new DataView(buffer);
    view.setBigUint64(0, 7n);
    view.setBigInt64(8, 1_700_000_000_000n);
    view.setUint8(16, 0xff);
    view.setUint8(17, 0xd8);
    expect(parseFrame(buffer)).toMatchObject({ seq: 7, capturedAt: 1_700_000_000_000 });
    expect(parseFrame(new ArrayBuffer(20))).toBeNull();
  });

  it("keeps open → first drawn once and each frame's age when drawn, for the probe", () => {
    const stats = openStats();
    expect((globalThis as { __doorstepLive?: unknown }).__doorstepLive).toBe(stats);
    recordDrawn(stats, Date.now() - 40);
    const first = stats.firstDrawnMs;
    recordDrawn(stats, Date.now() - 20);
    expect(stats.firstDrawnMs).toBe(first);
    expect(stats.drawnAgesMs).toHaveLength(2);
    expect(stats.drawnAgesMs[0]).toBeGreaterThanOrEqual(40);
    for (let i = 0; i < 700; i++) recordDrawn(stats, Date.now());
    expect(stats.drawnAgesMs).toHaveLength(600);
  });
});
