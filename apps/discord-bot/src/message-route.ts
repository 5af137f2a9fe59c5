/** Discord accepts interaction-token calls for 15 minutes after the interaction. */
const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Stop trusting the token a little early: a request sent at 14:59 may land at 15:01. */
const TOKEN_SAFETY_MARGIN_MS = 60_000;

/**
 * How to reach a job's message: through the interaction webhook while its token is valid,
 * then through the channel with the bot's own token.
 */
export function messageRoute(interactionCreatedAt: number, now: number): 'interaction' | 'channel' {
  return now < interactionCreatedAt + INTERACTION_TOKEN_LIFETIME_MS - TOKEN_SAFETY_MARGIN_MS
    ? 'interaction'
    : 'channel';
}
