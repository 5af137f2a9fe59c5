import { describe, expect, it } from 'vitest';
import {
  checkWebhookUrl,
  isPublicAddress,
  MAX_WEBHOOK_URL_LENGTH,
  parseWebhookUrl,
} from '../src/webhooks/webhook-url.ts';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254', // cloud metadata
    '100.100.100.200', // shared address space (Alibaba's metadata)
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '64:ff9b::a9fe:a9fe',
    'ff02::1',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'accepts %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it('refuses what is not an address', () => {
    expect(isPublicAddress('example.com')).toBe(false);
  });
});

describe('parseWebhookUrl', () => {
  it('accepts http(s) URLs up to the length bound', () => {
    const url = `https://example.com/${'x'.repeat(MAX_WEBHOOK_URL_LENGTH - 20)}`;
    expect(parseWebhookUrl(url).href).toBe(url);
    expect(() => parseWebhookUrl(`${url}x`)).toThrow(/at most 2048/);
  });

  it.each([
    'ftp://example.com',
    'example.com/hook',
    'https://user:pw@example.com/',
    'file:///etc/passwd',
  ])('refuses %s', (url) => {
    expect(() => parseWebhookUrl(url)).toThrow(/webhookUrl/);
  });
});

describe('checkWebhookUrl', () => {
  it('resolves the host and refuses a loopback name unless private addresses are allowed', async () => {
    await expect(checkWebhookUrl('http://localhost:8080/hook', false)).rejects.toThrow(
      "webhookUrl's host localhost resolves to a private, loopback, link-local or reserved address",
    );
    expect((await checkWebhookUrl('http://localhost:8080/hook', true)).port).toBe('8080');
    await expect(checkWebhookUrl('http://[::1]/hook', false)).rejects.toThrow(
      "webhookUrl's host ::1 is a private",
    );
  });
});
