/**
 * `pnpm --filter @zimage/discord-bot register [--guild <id>]`: registers the slash commands,
 * built from the gateway's models (choices, ranges, the prompt limit). Global commands can
 * take a while to show up in every server; with --guild they are there at once in that one
 * server, which is what you want while setting up.
 */
import { parseArgs } from 'node:util';
import { createZimageClient } from '@zimage/client';
import { REST, Routes } from 'discord.js';
import { commandDefinitions } from './commands.ts';
import { ConfigError, loadRegisterConfig } from './config.ts';

const { values } = parseArgs({ options: { guild: { type: 'string' } } });

try {
  const config = loadRegisterConfig(process.env);
  const gateway = createZimageClient({ url: config.gatewayUrl, apiKey: config.gatewayApiKey });
  const models = await gateway.models().catch((error: unknown) => {
    throw new ConfigError(
      `cannot read the models from the gateway at ${config.gatewayUrl}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const rest = new REST({ api: config.discordApiUrl }).setToken(config.discordToken);
  const commands = commandDefinitions(models);
  const route = values.guild
    ? Routes.applicationGuildCommands(config.applicationId, values.guild)
    : Routes.applicationCommands(config.applicationId);
  await rest.put(route, { body: commands });
  const names = commands.map((c) => `/${c.name}`).join(', ');
  console.log(
    values.guild
      ? `Registered ${names} in guild ${values.guild}.`
      : `Registered ${names} globally (may take up to an hour to appear everywhere).`,
  );
} catch (error) {
  console.error(`register: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exitCode = 1;
}
