/**
 * The bot as `pnpm start` runs it: `src/main.ts` in its own process, its JSON-line log read
 * as it comes, so a test can wait for what the bot says it did, or kill it outright.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

export interface LogLine {
  level: string;
  message: string;
  [detail: string]: unknown;
}

export class BotProcess {
  readonly #child: ChildProcess;
  readonly #events = new EventEmitter();
  readonly exited: Promise<unknown>;
  /** Everything the bot wrote on stderr, line by line. */
  readonly stderr: string[] = [];

  constructor(env: Record<string, string>) {
    this.#child = spawn(process.execPath, ['src/main.ts'], {
      cwd: packageDir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.exited = once(this.#child, 'exit');
    createInterface({ input: this.#child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      this.stderr.push(line);
      this.#events.emit('line');
    });
  }

  get logs(): LogLine[] {
    return this.stderr.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  }

  /** Resolves with the first log line (past or future) that matches; rejects if the bot exits first. */
  async waitForLog(match: (line: LogLine) => boolean, what: string): Promise<LogLine> {
    const exited = this.exited.then(() => {
      throw new Error(`the bot exited before ${what}:\n${this.stderr.join('\n')}`);
    });
    exited.catch(() => {}); // only the race below reports it
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      await Promise.race([once(this.#events, 'line'), exited]);
    }
  }

  /** SIGKILL: no shutdown of any kind, as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    await this.exited;
  }
}
