/** Discord users are end users `discord:<user id>` of the bot's act-as key at the gateway. */
export function endUserIdOf(discordUserId: string): string {
  return `discord:${discordUserId}`;
}
