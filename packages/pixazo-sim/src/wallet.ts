/**
 * Balances of the accepted API keys, in micro-USD so sums stay exact. A job is charged when it
 * is accepted; a job that will end ERROR is refunded at the instant it ends (Pixazo does not
 * charge for ERROR), which is applied lazily whenever a balance is read.
 */
export class Wallet {
  readonly #initialUsd: Readonly<Record<string, number>>;
  readonly #balances = new Map<string, number>();
  #pendingRefunds: { key: string; amount: number; at: number }[] = [];

  constructor(keysUsd: Readonly<Record<string, number>>) {
    this.#initialUsd = keysUsd;
    this.reset();
  }

  has(key: string): boolean {
    return this.#balances.has(key);
  }

  /** The key's balance at `now` in micro-USD, or undefined for an unknown key. */
  balance(key: string, now: number): number | undefined {
    this.#applyRefunds(now);
    return this.#balances.get(key);
  }

  /** Takes `amount` from the key if it can pay it; false (and nothing taken) otherwise. */
  charge(key: string, amount: number, now: number): boolean {
    const balance = this.balance(key, now);
    if (balance === undefined || balance < amount) return false;
    this.#balances.set(key, balance - amount);
    return true;
  }

  refundAt(key: string, amount: number, at: number): void {
    this.#pendingRefunds.push({ key, amount, at });
  }

  /** Sets a key's balance, adding the key if it is new. */
  set(key: string, usd: number): void {
    this.#balances.set(key, usdToMicro(usd));
  }

  /** Back to the keys and balances given at start. */
  reset(): void {
    this.#balances.clear();
    this.#pendingRefunds = [];
    for (const [key, usd] of Object.entries(this.#initialUsd)) this.set(key, usd);
  }

  #applyRefunds(now: number): void {
    if (this.#pendingRefunds.length === 0) return;
    const due = this.#pendingRefunds.filter((r) => r.at <= now);
    if (due.length === 0) return;
    this.#pendingRefunds = this.#pendingRefunds.filter((r) => r.at > now);
    for (const { key, amount } of due) {
      const balance = this.#balances.get(key);
      if (balance !== undefined) this.#balances.set(key, balance + amount);
    }
  }
}

function usdToMicro(usd: number): number {
  return Math.round(usd * 1_000_000);
}
