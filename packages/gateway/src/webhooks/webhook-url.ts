/**
 * Which webhook URLs the gateway POSTs to. A URL is bounded, http(s), without credentials, and
 * its host must resolve only to public addresses: private, loopback, link-local (cloud metadata
 * at 169.254.169.254), shared, multicast and reserved ranges are refused, unless private
 * addresses are allowed (WEBHOOK_ALLOW_PRIVATE_ADDRESSES, for receivers on one's own network).
 * The check runs when the job is created and again at every delivery, on the very addresses
 * the connection then uses (DNS may have changed meanwhile).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

const BLOCKED = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(network, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 one carries (IPv4-mapped or NAT64), else null. */
function embeddedIpv4(address: string): string | null {
  const match = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (match?.[1]) return match[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex?.[1] || !hex[2]) return null;
  const high = Number.parseInt(hex[1], 16);
  const low = Number.parseInt(hex[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for an address on the public internet. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !BLOCKED.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIpv4(address);
  if (v4 !== null) return !BLOCKED.check(v4, 'ipv4');
  return !BLOCKED.check(address, 'ipv6');
}

export class WebhookUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookUrlError';
  }
}

/** The URL when its form is acceptable; throws WebhookUrlError saying why not. */
export function parseWebhookUrl(text: string): URL {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) {
    throw new WebhookUrlError(`webhookUrl must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  }
  const url = URL.parse(text);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new WebhookUrlError('webhookUrl must be an http(s) URL, like https://example.com/hook');
  }
  if (url.username || url.password) {
    throw new WebhookUrlError('webhookUrl must not carry a user name or password');
  }
  return url;
}

/** Says which host, never which address a name resolved to (that would map a private network). */
const refusal = (host: string) =>
  new WebhookUrlError(
    `webhookUrl's host ${host} ${isIP(host) ? 'is' : 'resolves to'} a private, loopback, link-local or reserved address; the gateway only calls public addresses`,
  );

/** URL.hostname keeps an IPv6 literal's brackets; lookups and isIP want it bare. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * A `lookup` for node:http that resolves the host and refuses the connection (a
 * WebhookUrlError) when any of its addresses is not public; the addresses it checked are the
 * ones connected to.
 */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const bad = allowPrivate ? undefined : addresses.find((a) => !isPublicAddress(a.address));
      if (bad) return callback(refusal(hostname), '', 0);
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      if (!first) return callback(new WebhookUrlError(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Parses the URL and, unless private addresses are allowed, resolves and checks its host. */
export async function checkWebhookUrl(text: string, allowPrivate: boolean): Promise<URL> {
  const url = parseWebhookUrl(text);
  if (allowPrivate) return url;
  const host = bareHost(url);
  const addresses =
    isIP(host) !== 0
      ? [host]
      : await new Promise<string[]>((resolve, reject) => {
          dnsLookup(host, { all: true }, (error, found) =>
            error
              ? reject(new WebhookUrlError(`webhookUrl's host ${host} does not resolve`))
              : resolve(found.map((a) => a.address)),
          );
        });
  const bad = addresses.find((address) => !isPublicAddress(address));
  if (bad !== undefined) throw refusal(host);
  return url;
}
