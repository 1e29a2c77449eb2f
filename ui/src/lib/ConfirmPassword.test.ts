import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

const { default: ConfirmPassword } = await import("./ConfirmPassword.svelte");
const { withConfirmation } = await import("./confirm.svelte");

afterEach(() => {
  cleanup();
  invoke.mockReset();
});

describe("a sensitive action", () => {
  it("asks for the password when the cloud wants it, confirms, and retries once", async () => {
    render(ConfirmPassword);
    const action = vi
      .fn()
      .mockRejectedValueOnce({ code: "reauth_required", message: "confirm your password to do this" })
      .mockResolvedValueOnce("added");
    invoke.mockResolvedValue(null);
    const result = withConfirmation(action);
    await fireEvent.input(await screen.findByTestId("confirm-password-input"), {
      target: { value: "correct horse" },
    });
    await fireEvent.submit(screen.getByTestId("confirm-password"));
    await expect(result).resolves.toBe("added");
    expect(invoke).toHaveBeenCalledWith("confirm_password", { password: "correct horse", totp: null });
    expect(action).toHaveBeenCalledTimes(2);
    expect(screen.queryByTestId("confirm-password")).toBeNull();
  });

  it("passes any other failure straight through without asking", async () => {
    render(ConfirmPassword);
    const failure = { code: "invalid", message: "field `name`: must not be empty" };
    await expect(withConfirmation(() => Promise.reject(failure))).rejects.toBe(failure);
    expect(screen.queryByTestId("confirm-password")).toBeNull();
    expect(invoke).not.toHaveBeenCalled();
  });
});
