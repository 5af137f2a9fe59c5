/**
 * The bot as `main.ts` wires it (real discord.js client, real gateway client), with Discord
 * replaced by the fake REST server and the gateway reached through a stallable proxy. There
 * is no Discord gateway WebSocket here: the guild and the interactions are fed to the client
 * as the dispatches it would have received.
 */
import type { Client } from 'discord.js';
import { attachBot, createDiscordClient } from '../../src/discord-adapter.ts';
import { GatewayClient } from '../../src/gateway-client.ts';
import { EtaEstimator, systemClock, UserLimits } from '../../src/imagine-service.ts';
import { JobRunner } from '../../src/job-runner.ts';
import { FakeDiscord } from './fake-discord.ts';
import { GatewayProxy } from './gateway-proxy.ts';
import { APP_ID, CHANNEL_ID, guildCreatePayload, type InteractionIds } from './interactions.ts';
import { Timeline } from './timeline.ts';

export interface BotHarnessOptions {
  gatewayUrl: string;
  apiKey: string;
  maxJobsPerUser?: number;
  cooldownSeconds?: number;
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
  readonly proxy: GatewayProxy;
  readonly client: Client;
  readonly gateway: GatewayClient;
  readonly logs: string[] = [];
  readonly #detach: () => void;

  private constructor(
    timeline: Timeline,
    discord: FakeDiscord,
    proxy: GatewayProxy,
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
    this.gateway = new GatewayClient({ url: proxy.url, apiKey: options.apiKey });
    const log = (level: string, message: string, details?: Record<string, unknown>) => {
      this.logs.push(`${level} ${message} ${JSON.stringify(details ?? {})}`);
    };
    this.#detach = attachBot({
      client: this.client,
      gateway: this.gateway,
      clock: systemClock,
      log,
      limits: new UserLimits({
        maxInFlight: options.maxJobsPerUser ?? 2,
        cooldownSeconds: options.cooldownSeconds ?? 0,
        clock: systemClock,
      }),
      runner: new JobRunner({
        gateway: this.gateway,
        clock: systemClock,
        eta: new EtaEstimator(),
        log,
        ...(options.editIntervalMs === undefined ? {} : { editIntervalMs: options.editIntervalMs }),
      }),
    });
  }

  static async start(options: BotHarnessOptions): Promise<BotHarness> {
    const timeline = new Timeline();
    const discord = await FakeDiscord.start({ webhookChannelId: CHANNEL_ID, timeline });
    const proxy = await GatewayProxy.start(options.gatewayUrl, timeline);
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
    await this.proxy.close();
    await this.discord.close();
  }
}
