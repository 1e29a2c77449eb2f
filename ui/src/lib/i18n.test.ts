import { describe, expect, it } from "vitest";
import { translate, untranslated } from "./i18n.svelte";

describe("i18n", () => {
  it("fills in parameters", () => {
    expect(translate("en", "live.age", { ms: 42 })).toBe("42 ms old when it arrived");
    expect(translate("de", "live.age", { ms: 42 })).toBe("42 ms alt bei Ankunft");
  });

  it("has German for every English sentence", () => {
    expect(untranslated()).toEqual([]);
  });
});
