import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadStoreConfig } from '../src/config.ts';

/** The one-line error loadConfig throws for `env`. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('has a default for everything', () => {
    expect(loadConfig({})).toEqual({
      port: 4000,
      host: '127.0.0.1',
      dataDir: resolve('.data'),
      pixazo: {
        mode: 'embedded',
        apiKey: 'dev-key',
        simKeys: { 'dev-key': 5 },
        simTimeScale: 1,
      },
      publicUrl: null,
      adminApiKey: null,
      pixazoMaxConcurrency: 8,
      maxPromptLength: 2000,
      corsOrigins: [],
      graphiql: true,
      logLevel: 'info',
      maxSubscriptionsPerSocket: 20,
      upstreamCooldownMs: {},
      databaseUrl: null,
      redisUrl: null,
      redisKeyPrefix: 'zimage:',
      instances: { heartbeatMs: 5000, ttlMs: 30_000, submitTimeoutMs: 30_000 },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '0',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/zimage',
      PIXAZO_API_KEY: 'real-key',
      PIXAZO_BASE_URL: 'http://127.0.0.1:4010/',
      PUBLIC_URL: 'https://zimage.example.com/gateway/',
      ADMIN_API_KEY: 'x'.repeat(24),
      PIXAZO_MAX_CONCURRENCY: '32',
      MAX_PROMPT_LENGTH: '4000',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      GRAPHIQL: 'false',
      LOG_LEVEL: 'debug',
      MAX_SUBSCRIPTIONS_PER_SOCKET: '100',
      PIXAZO_COOLDOWN_WALLET_EMPTY_SECONDS: '300',
      PIXAZO_COOLDOWN_KEY_REJECTED_SECONDS: '0',
      PIXAZO_COOLDOWN_UNREACHABLE_SECONDS: '5',
      DATABASE_URL: 'postgresql://zimage:pw@db.internal:5432/zimage?sslmode=require',
      REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
      REDIS_KEY_PREFIX: 'staging:zimage:',
      INSTANCE_HEARTBEAT_SECONDS: '2',
      INSTANCE_TTL_SECONDS: '10',
      PIXAZO_SUBMIT_TIMEOUT_SECONDS: '45',
    });
    expect(config).toEqual({
      port: 0,
      host: '0.0.0.0',
      dataDir: '/var/lib/zimage',
      pixazo: { mode: 'remote', apiKey: 'real-key', baseUrl: 'http://127.0.0.1:4010' },
      publicUrl: 'https://zimage.example.com/gateway',
      adminApiKey: 'x'.repeat(24),
      pixazoMaxConcurrency: 32,
      maxPromptLength: 4000,
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      graphiql: false,
      logLevel: 'debug',
      maxSubscriptionsPerSocket: 100,
      upstreamCooldownMs: { wallet_empty: 300_000, key_rejected: 0, unreachable: 5_000 },
      databaseUrl: 'postgresql://zimage:pw@db.internal:5432/zimage?sslmode=require',
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
      redisKeyPrefix: 'staging:zimage:',
      instances: { heartbeatMs: 2000, ttlMs: 10_000, submitTimeoutMs: 45_000 },
    });
  });

  it('uses Pixazo itself when only the key is given', () => {
    expect(loadConfig({ PIXAZO_API_KEY: 'k' }).pixazo).toEqual({
      mode: 'remote',
      apiKey: 'k',
      baseUrl: 'https://gateway.pixazo.ai',
    });
  });

  it('runs the simulator with the given keys, using the first as its own', () => {
    expect(
      loadConfig({ PIXAZO_SIM_KEYS: 'zeta=0.5, 42=10,alpha=.25', PIXAZO_SIM_TIME_SCALE: '0.01' })
        .pixazo,
    ).toEqual({
      mode: 'embedded',
      apiKey: 'zeta',
      simKeys: { zeta: 0.5, 42: 10, alpha: 0.25 },
      simTimeScale: 0.01,
    });
  });

  it('treats empty and blank values as unset', () => {
    expect(loadConfig({ PORT: '', PIXAZO_API_KEY: '  ', CORS_ORIGINS: '' })).toEqual(
      loadConfig({}),
    );
  });

  it('reads GRAPHIQL in any letter case', () => {
    expect(loadConfig({ GRAPHIQL: 'FALSE' }).graphiql).toBe(false);
    expect(loadConfig({ GRAPHIQL: 'True' }).graphiql).toBe(true);
  });

  it('accepts * as the CORS origin', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it.each([
    ['PORT', 'abc', 'PORT must be an integer from 0 to 65535 (got "abc")'],
    ['PORT', '65536', 'PORT must be an integer from 0 to 65535 (got "65536")'],
    [
      'PIXAZO_COOLDOWN_UNREACHABLE_SECONDS',
      '1.5',
      'PIXAZO_COOLDOWN_UNREACHABLE_SECONDS must be an integer from 0 to 86400 (got "1.5")',
    ],
    ['PORT', '-1', 'PORT must be an integer from 0 to 65535 (got "-1")'],
    ['PORT', '80.5', 'PORT must be an integer from 0 to 65535 (got "80.5")'],
    ['HOST', 'my host', 'HOST must be a host name or IP address without spaces (got "my host")'],
    [
      'PIXAZO_BASE_URL',
      'ftp://pixazo',
      'PIXAZO_BASE_URL must be an http(s) URL without query or fragment, like https://gateway.example.com (got "ftp://pixazo")',
    ],
    [
      'PUBLIC_URL',
      'zimage.example.com',
      'PUBLIC_URL must be an http(s) URL without query or fragment, like https://gateway.example.com (got "zimage.example.com")',
    ],
    [
      'PUBLIC_URL',
      'https://zimage.example.com/?x=1',
      'PUBLIC_URL must be an http(s) URL without query or fragment, like https://gateway.example.com (got "https://zimage.example.com/?x=1")',
    ],
    [
      'PIXAZO_SIM_TIME_SCALE',
      '0',
      'PIXAZO_SIM_TIME_SCALE must be a number greater than 0 (got "0")',
    ],
    [
      'PIXAZO_SIM_TIME_SCALE',
      'fast',
      'PIXAZO_SIM_TIME_SCALE must be a number greater than 0 (got "fast")',
    ],
    [
      'PIXAZO_MAX_CONCURRENCY',
      '0',
      'PIXAZO_MAX_CONCURRENCY must be an integer from 1 to 1000 (got "0")',
    ],
    [
      'MAX_PROMPT_LENGTH',
      '4001',
      'MAX_PROMPT_LENGTH must be an integer from 1 to 4000 (got "4001")',
    ],
    [
      'CORS_ORIGINS',
      'https://app.example.com/path',
      'CORS_ORIGINS must be a comma-separated list of origins like https://app.example.com, or * (got "https://app.example.com/path")',
    ],
    ['GRAPHIQL', 'off', 'GRAPHIQL must be true or false (got "off")'],
    [
      'LOG_LEVEL',
      'verbose',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ],
    [
      'MAX_SUBSCRIPTIONS_PER_SOCKET',
      'many',
      'MAX_SUBSCRIPTIONS_PER_SOCKET must be an integer from 1 to 10000 (got "many")',
    ],
    [
      'REDIS_KEY_PREFIX',
      'my prefix',
      'REDIS_KEY_PREFIX must be 1 to 64 characters without spaces (got "my prefix")',
    ],
    [
      'INSTANCE_HEARTBEAT_SECONDS',
      '0',
      'INSTANCE_HEARTBEAT_SECONDS must be an integer from 1 to 3600 (got "0")',
    ],
    [
      'INSTANCE_TTL_SECONDS',
      '1',
      'INSTANCE_TTL_SECONDS must be an integer from 2 to 86400 (got "1")',
    ],
    [
      'PIXAZO_SUBMIT_TIMEOUT_SECONDS',
      '0.5',
      'PIXAZO_SUBMIT_TIMEOUT_SECONDS must be an integer from 1 to 600 (got "0.5")',
    ],
  ])('rejects %s=%j in one line', (variable, value, message) => {
    const error = configError({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(message);
  });

  describe('never repeats a secret in an error', () => {
    it.each([
      [
        'ADMIN_API_KEY',
        'short-secret',
        'ADMIN_API_KEY must be at least 24 characters without spaces (got 12 characters)',
      ],
      [
        'ADMIN_API_KEY',
        'has a space but is long enough',
        'ADMIN_API_KEY must be at least 24 characters without spaces (got 30 characters)',
      ],
      [
        'PIXAZO_API_KEY',
        'two words',
        'PIXAZO_API_KEY must be a Pixazo subscription key without spaces',
      ],
      [
        'PIXAZO_SIM_KEYS',
        'dev-key=5,secret-key',
        'PIXAZO_SIM_KEYS must be key=balanceUsd[,key=balanceUsd...]; entry 2 is not key=balanceUsd',
      ],
      [
        'PIXAZO_SIM_KEYS',
        'secret-key=-1',
        'PIXAZO_SIM_KEYS must be key=balanceUsd[,key=balanceUsd...]; entry 1 is not key=balanceUsd',
      ],
      ['PIXAZO_SIM_KEYS', 'a=1,b=2,a=3', 'PIXAZO_SIM_KEYS repeats a key (entry 3)'],
      [
        'DATABASE_URL',
        'mysql://user:secret@db/zimage',
        'DATABASE_URL must be a postgres:// or postgresql:// URL, like postgres://zimage:password@db:5432/zimage',
      ],
      [
        'DATABASE_URL',
        'postgres:secret@db',
        'DATABASE_URL must be a postgres:// or postgresql:// URL, like postgres://zimage:password@db:5432/zimage',
      ],
      [
        'REDIS_URL',
        'http://:secret@redis:6379',
        'REDIS_URL must be a redis:// or rediss:// URL, like redis://redis:6379',
      ],
    ])('%s=%j', (variable, value, message) => {
      const error = configError({ [variable]: value });
      expect(error.variable).toBe(variable);
      expect(error.message).toBe(message);
    });
  });

  it('refuses a Pixazo URL without a Pixazo key, which the simulator would ignore', () => {
    const error = configError({ PIXAZO_BASE_URL: 'http://127.0.0.1:4010' });
    expect(error.variable).toBe('PIXAZO_BASE_URL');
    expect(error.message).toBe(
      'PIXAZO_BASE_URL is set but PIXAZO_API_KEY is not: set both to use that server, or neither for the embedded simulator',
    );
  });
});

describe('scale-out settings', () => {
  const both = { DATABASE_URL: 'postgres://db/zimage', REDIS_URL: 'redis://redis' };

  it('reads PostgreSQL and Redis together, with the default key prefix', () => {
    expect(loadConfig(both)).toMatchObject({
      databaseUrl: 'postgres://db/zimage',
      redisUrl: 'redis://redis',
      redisKeyPrefix: 'zimage:',
    });
  });

  it.each([
    ['REDIS_URL', { DATABASE_URL: both.DATABASE_URL }, 'DATABASE_URL is set but REDIS_URL is not'],
    ['DATABASE_URL', { REDIS_URL: both.REDIS_URL }, 'REDIS_URL is set but DATABASE_URL is not'],
  ])('stops on a missing %s in one line naming it', (missing, env, start) => {
    const error = configError(env);
    expect(error.variable).toBe(missing);
    expect(error.message).toBe(
      `${start}: set both to run several instances, or neither for one process on SQLite`,
    );
  });

  it('refuses an instance TTL under two heartbeats, which would adopt live instances', () => {
    const error = configError({ INSTANCE_HEARTBEAT_SECONDS: '10', INSTANCE_TTL_SECONDS: '15' });
    expect(error.variable).toBe('INSTANCE_TTL_SECONDS');
    expect(error.message).toBe(
      'INSTANCE_TTL_SECONDS must be at least twice INSTANCE_HEARTBEAT_SECONDS (got 15 and 10)',
    );
    expect(
      loadConfig({ INSTANCE_HEARTBEAT_SECONDS: '1', INSTANCE_TTL_SECONDS: '2' }).instances,
    ).toMatchObject({ heartbeatMs: 1000, ttlMs: 2000 });
  });
});

describe('loadStoreConfig', () => {
  it('resolves DATA_DIR to an absolute path', () => {
    expect(loadStoreConfig({ DATA_DIR: 'relative/dir' })).toEqual({
      dataDir: resolve('relative/dir'),
      databaseUrl: null,
    });
    expect(loadStoreConfig({})).toEqual({ dataDir: resolve('.data'), databaseUrl: null });
  });

  it('reads DATABASE_URL alone: the keys CLI needs no Redis', () => {
    expect(loadStoreConfig({ DATABASE_URL: 'postgres://db/zimage' }).databaseUrl).toBe(
      'postgres://db/zimage',
    );
  });
});
