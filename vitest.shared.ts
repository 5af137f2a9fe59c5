/**
 * What every package's Vitest config shares. The timeouts are upper bounds for a loaded
 * machine (docs/contributing.md, "Under load"): starting a Node process that loads the gateway
 * can take seconds while other work keeps both cores busy, so Vitest's 5 s default fires on
 * tests that are merely slow. A passing test never comes near 30 s; the bound only limits how
 * long a hung one takes to fail. Tests wait for events, never for a time, so it slows nothing.
 */
export const LOADED_MACHINE_TIMEOUTS = { testTimeout: 30_000, hookTimeout: 30_000 } as const;
