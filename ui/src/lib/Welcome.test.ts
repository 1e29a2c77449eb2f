import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

const { default: Welcome } = await import("./Welcome.svelte");

afterEach(() => {
  cleanup();
  invoke.mockReset();
});

describe("Welcome", () => {
  it("says honestly that sign-in is not available yet", async () => {
    render(Welcome);
    await fireEvent.click(screen.getByTestId("sign-in"));
    expect(screen.getByTestId("notice").textContent).toMatch(/does not include yet/);
    expect(invoke).not.toHaveBeenCalled();
  });

  it("shows what the computer check found", async () => {
    invoke.mockResolvedValue({
      appVersion: "0.1.0",
      appId: "dev.doorstep.app",
      dataDir: "/data",
      secureStore: { ok: false, detail: "no secure store is available" },
      notifications: { ok: true, detail: "Popups are shown by dunst 1.9.0." },
    });
    render(Welcome);
    await fireEvent.click(screen.getByTestId("run-check"));
    expect(invoke).toHaveBeenCalledWith("system_check");
    const headline = await screen.findByTestId("check-headline");
    expect(headline.textContent).toBe("Doorstep needs a system keyring on this computer.");
    expect(screen.getByTestId("check-keyring").dataset.ok).toBe("false");
  });

  it("shows the sentence of a failed check, not a code", async () => {
    invoke.mockRejectedValue({ code: "internal", message: "The check stopped unexpectedly." });
    render(Welcome);
    await fireEvent.click(screen.getByTestId("run-check"));
    const error = await screen.findByTestId("check-error");
    expect(error.textContent).toBe("The check stopped unexpectedly.");
  });
});
