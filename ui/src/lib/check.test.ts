import { describe, expect, it } from "vitest";
import { describeError, summarize } from "./check";
import { setLocale } from "./i18n.svelte";
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

  it("words the errors a person meets most in the app's language", () => {
    const unreachable = {
      code: "unreachable",
      message: "cannot reach the Doorstep cloud at http://x (os error 111); check the address",
      worded: { what: "unreachable", url: "http://x" },
    } as const;
    expect(describeError(unreachable)).toBe(
      "Cannot reach the Doorstep cloud at http://x. Check the address and your connection.",
    );
    setLocale("de");
    expect(describeError(unreachable)).toContain("nicht erreichbar");
    expect(describeError(unreachable)).not.toContain("os error");
    expect(
      describeError({
        code: "invalid",
        message: "a recovery key has no 'O'",
        worded: { what: "recovery_key_symbol", symbol: "O" },
      }),
    ).toContain("kein „O“");
    expect(describeError({ code: "credentials", message: "wrong e-mail or password", worded: { what: "wrong_password" } })).toBe(
      "E-Mail-Adresse oder Passwort falsch.",
    );
    setLocale("en");
  });

  it("never shows an empty sentence", () => {
    expect(describeError(undefined)).toMatch(/went wrong/);
    expect(describeError("")).toMatch(/went wrong/);
  });
});
