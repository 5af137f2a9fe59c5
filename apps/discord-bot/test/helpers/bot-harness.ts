/**
 * The bot as `main.ts` wires it (real discord.js client, real gateway client), with Discord
 * replaced by the fake REST server and the gateway reached through a stallable proxy. There
 * is no Discord gateway WebSocket here: the guild and the interactions are fed to the client
 * as the dispatches it would have received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createZimageClient, type ZimageClient } from '@zimage/client';
import { HttpProxy } from '@zimage/gateway/testing';
import type { Client } from 'discord.js';
import WebSocket from 'ws';
import { downloadImage } from '../../src/attachments.ts';
import { systemClock } from '../../src/clock.ts';
import { attachBot, createDiscordClient } from '../../src/discord-adapter.ts';
import { GatewayModels } from '../../src/gateway-models.ts';
import { JobRunner } from '../../src/job-runner.ts';
import { UnfinishedJobs } from '../../src/unfinished-jobs.ts';
import { UserLimits } from '../../src/user-limits.ts';
import { UserSettings } from '../../src/user-settings.ts';
import { FakeDiscord } from './fake-discord.ts';
import { APP_ID, CHANNEL_ID, guildCreatePayload, type InteractionIds } from './interactions.ts';
import { Timeline } from './timeline.ts';

export interface BotHarnessOptions {
  gatewayUrl: string;
  apiKey: string;
  maxJobsPerUser?: number;
  cooldownSeconds?: number;
  /** BOT_DATA_DIR, for a bot that restarts on an earlier one's; default a new one, removed on close. */
  dataDir?: string;
  /** The production value is 2 s; tests that do not look at throttling go faster. */
  editIntervalMs?: number;
}

interface InternalClient {
  actions: { InteractionCreate: { handle(data: unknown): void } };
  guilds: { _add(data: unknown): unknown };
}

export class BotHarness {
  readonly timeline: Timeline;
  readonly discord: FakeDiscord;
  readonly proxy: HttpProxy;
  readonly client: Client;
  readonly gateway: ZimageClient;
  readonly unfinished: UnfinishedJobs;
  readonly settings: UserSettings;
  readonly logs: string[] = [];
  readonly #detach: () => void;
  readonly #ownsDataDir: boolean;

  private constructor(
    timeline: Timeline,
    discord: FakeDiscord,
    proxy: HttpProxy,
    options: BotHarnessOptions,
  ) {
    this.timeline = timeline;
    this.discord = discord;
    this.proxy = proxy;
    this.client = createDiscordClient({
      discordToken: 'fake-bot-token',
      applicationId: APP_ID,
      discordApiUrl: discord.url,
    });
    (this.client as unknown as InternalClient).guilds._add({ ...guildCreatePayload(), shardId: 0 });
    this.gateway = createZimageClient({
      url: proxy.url,
      apiKey: options.apiKey,
      webSocketImpl: WebSocket,
    });
    this.#ownsDataDir = options.dataDir === undefined;
    this.unfinished = UnfinishedJobs.open(
      options.dataDir ?? mkdtempSync(join(tmpdir(), 'zimage-bot-')),
    );
    this.settings = new UserSettings(this.unfinished.path);
    const log = (level: string, message: string, details?: Record<string, unknown>) => {
      this.logs.push(`${level} ${message} ${JSON.stringify(details ?? {})}`);
    };
    const models = new GatewayModels({ fetch: () => this.gateway.models(), clock: systemClock });
    this.#detach = attachBot({
      client: this.client,
      gateway: this.gateway,
      models,
      clock: systemClock,
      log,
      settings: this.settings,
      limits: new UserLimits({
        maxInFlight: options.maxJobsPerUser ?? 2,
        cooldownSeconds: options.cooldownSeconds ?? 0,
        clock: systemClock,
      }),
      runner: new JobRunner({
        gateway: this.gateway,
        models,
        downloadImage: downloadImage(),
        unfinished: this.unfinished,
        clock: systemClock,
        log,
        ...(options.editIntervalMs === undefined ? {} : { editIntervalMs: options.editIntervalMs }),
      }),
    });
  }

  static async start(options: BotHarnessOptions): Promise<BotHarness> {
    const timeline = new Timeline();
    const discord = await FakeDiscord.start({ webhookChannelId: CHANNEL_ID, timeline });
    const proxy = await HttpProxy.start(options.gatewayUrl, {
      onConnection: (requestLine) => timeline.record('gateway', requestLine),
    });
    return new BotHarness(timeline, discord, proxy, options);
  }

  /** Delivers an interaction as the INTERACTION_CREATE dispatch would. */
  inject(interaction: { ids: InteractionIds; payload: unknown }): InteractionIds {
    (this.client as unknown as InternalClient).actions.InteractionCreate.handle(
      interaction.payload,
    );
    return interaction.ids;
  }

  async close(): Promise<void> {
    this.#detach();
    await this.client.destroy();
    await this.gateway.close();
    this.settings.close();
    this.unfinished.close();
    if (this.#ownsDataDir) rmSync(dirname(this.unfinished.path), { recursive: true, force: true });
    await this.proxy.close();
    await this.discord.close();
  }
}
