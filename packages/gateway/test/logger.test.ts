import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, loggablePath } from '../src/logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), text: () => lines.join('') };
}

describe('logger', () => {
  it('never writes credentials, wherever they sit', () => {
    const { logger, text } = capture();
    logger.info(
      {
        authorization: 'Bearer zk_top',
        req: {
          headers: { authorization: 'Bearer zk_header', 'ocp-apim-subscription-key': 'pixazo-key' },
        },
        config: { pixazoApiKey: 'pixazo-secret', adminApiKey: 'zk_admin' },
        webhook: { token: 'hook-token', webhookUrl: 'https://gw/webhooks/pixazo/job_1/hook-token' },
      },
      'request',
    );
    const written = text();
    for (const secret of [
      'zk_top',
      'zk_header',
      'pixazo-key',
      'pixazo-secret',
      'zk_admin',
      'hook-token',
    ]) {
      expect(written).not.toContain(secret);
    }
    expect(written).toContain('[redacted]');
  });

  it('hides the token of webhook paths', () => {
    expect(loggablePath('/webhooks/pixazo/job_1/s3cret')).toBe('/webhooks/pixazo/job_1/[redacted]');
    expect(loggablePath('/graphql')).toBe('/graphql');
  });
});
