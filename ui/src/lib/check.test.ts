import { describe, expect, it } from "vitest";
import { describeError, summarize } from "./check";
import type { SystemCheck } from "./bindings";

const base: SystemCheck = {
  appVersion: "0.1.0",
  appId: "dev.doorstep.app",
  dataDir: "/tmp/x",
  secureStore: { ok: true, detail: "fine", found: null },
  notifications: { ok: true, detail: "fine", found: "dunst 1.9.0" },
};

describe("summarize", () => {
  it("says the computer is ready when every part works", () => {
    expect(summarize(base)).toEqual({
      ready: true,
      headline: "This computer has everything Doorstep needs.",
    });
  });

  it("names every missing part", () => {
    const check = {
      ...base,
      secureStore: { ok: false, detail: "no keyring", found: null },
      notifications: { ok: false, detail: "no server", found: null },
    };
    expect(summarize(check).headline).toBe(
      "Doorstep needs a system keyring and a notification service on this computer.",
    );
    expect(summarize(check).ready).toBe(false);
  });
});

describe("describeError", () => {
  it("shows the message of an error from the core", () => {
    expect(describeError({ code: "internal", message: "The keyring is locked." })).toBe(
      "The keyring is locked.",
    );
  });

  it("never shows an empty sentence", () => {
    expect(describeError(undefined)).toMatch(/went wrong/);
    expect(describeError("")).toMatch(/went wrong/);
  });
});
