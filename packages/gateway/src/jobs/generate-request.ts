/**
 * What a generate request may ask for: the caller's scopes, then core's parameter table (the
 * same rules Pixazo applies, so a job that would be refused is refused here, before any money
 * or queue slot is spent on it). Every refusal names its input field.
 */
import {
  type GenerateParams,
  ValidationError,
  validateGenerateInput,
  withinCharacterLimit,
} from '@zimage/core';
import type { JobStatus } from '../domain/job.ts';
import { hasScope, type Principal } from '../domain/principal.ts';
import { DEFAULT_WEBHOOK_EVENTS } from '../domain/webhook.ts';
import { badUserInput, GatewayError } from '../errors.ts';
import { checkWebhookUrl, WebhookUrlError } from '../webhooks/webhook-url.ts';
import type { GenerateRequest } from './engine.ts';

/** Long enough for any real id (a Discord snowflake, a UUID, an email), short enough to index. */
const MAX_ID_LENGTH = 200;

export interface AcceptedRequest {
  params: GenerateParams;
  endUserId: string | null;
  idempotencyKey: string | null;
}

/** A repeated idempotency key with other parameters than its first request's. */
export function idempotencyKeyReused(): GatewayError {
  return badUserInput(
    'idempotencyKey',
    'This idempotencyKey was already used for another request with different parameters; ' +
      'send a new key for a new request (the same parameters with the same key return its job)',
  );
}

function optionalId(field: string, value: string | null | undefined): string | null {
  if (value == null) return null;
  if (value.trim() === '' || value.length > MAX_ID_LENGTH) {
    throw badUserInput(field, `${field} must be 1 to ${MAX_ID_LENGTH} characters, not blank`);
  }
  return value;
}

export function readGenerateRequest(
  principal: Principal,
  request: GenerateRequest,
  maxPromptLength: number,
): AcceptedRequest {
  if (!hasScope(principal.key, 'generate')) {
    throw new GatewayError('FORBIDDEN', 'This API key lacks the generate scope');
  }
  const { idempotencyKey, endUserId, webhookUrl, webhookEvents, ...input } = request;
  const endUser = optionalId('endUserId', endUserId ?? principal.endUserId);
  if (endUser !== null && !hasScope(principal.key, 'act-as')) {
    throw new GatewayError('FORBIDDEN', 'Acting for an end user needs the act-as scope', {
      field: 'endUserId',
    });
  }
  // Characters as people count them (an emoji is one), as core and Pixazo's simulator count.
  if (typeof input.prompt === 'string' && !withinCharacterLimit(input.prompt, maxPromptLength)) {
    throw badUserInput('prompt', `prompt must be at most ${maxPromptLength} characters`);
  }
  try {
    return {
      params: validateGenerateInput(input),
      endUserId: endUser,
      idempotencyKey: optionalId('idempotencyKey', idempotencyKey),
    };
  } catch (error) {
    if (error instanceof ValidationError) throw badUserInput(error.field, error.message);
    throw error;
  }
}

/**
 * The job's outbound webhook: its URL checked (form, length, and unless private addresses
 * are allowed, every address its host resolves to) and its events (default the terminal
 * statuses), or none.
 */
export async function readWebhookRequest(
  request: Pick<GenerateRequest, 'webhookUrl' | 'webhookEvents'>,
  allowPrivateAddresses: boolean,
): Promise<{ webhookUrl: string | null; webhookEvents: JobStatus[] }> {
  const { webhookUrl, webhookEvents } = request;
  if (webhookUrl == null) {
    if (webhookEvents != null) {
      throw badUserInput('webhookEvents', 'webhookEvents needs a webhookUrl to send them to');
    }
    return { webhookUrl: null, webhookEvents: [] };
  }
  if (webhookEvents != null && webhookEvents.length === 0) {
    throw badUserInput('webhookEvents', 'webhookEvents must name at least one status');
  }
  try {
    const url = await checkWebhookUrl(webhookUrl, allowPrivateAddresses);
    return {
      webhookUrl: url.href,
      webhookEvents: [...new Set(webhookEvents ?? DEFAULT_WEBHOOK_EVENTS)],
    };
  } catch (error) {
    if (error instanceof WebhookUrlError) throw badUserInput('webhookUrl', error.message);
    throw error;
  }
}
