/** One ordered record of what reached the fake Discord and the gateway, to assert on order. */
export class Timeline {
  readonly events: { source: 'discord' | 'gateway'; what: string }[] = [];

  record(source: 'discord' | 'gateway', what: string): void {
    this.events.push({ source, what });
  }

  indexOf(source: 'discord' | 'gateway', what?: RegExp): number {
    return this.events.findIndex((e) => e.source === source && (!what || what.test(e.what)));
  }
}
