/**
 * Outbound webhooks in the schema: each job's delivery attempts, and the calling key's signing
 * secret (read and rotate). The input fields (webhookUrl, webhookEvents) are GenerateImageInput's.
 */
import type { WebhookAttempt } from '../domain/webhook.ts';
import { requirePrincipal } from './access.ts';
import { builder } from './builder.ts';
import { Job, JobStatusEnum } from './job.ts';

const WebhookDelivery = builder.objectRef<WebhookAttempt>('WebhookDelivery').implement({
  fields: (t) => ({
    id: t.id({
      description: 'The webhook-id header: the same for every attempt at the same event.',
      resolve: (attempt) => attempt.deliveryId,
    }),
    event: t.field({ type: JobStatusEnum, resolve: (attempt) => attempt.event }),
    attempt: t.exposeInt('attempt'),
    at: t.expose('at', { type: 'DateTime' }),
    statusCode: t.exposeInt('statusCode', {
      nullable: true,
      description: "The receiver's HTTP status; null when no answer came (timeout, refused).",
    }),
    error: t.exposeString('error', { nullable: true }),
    nextAttemptAt: t.expose('nextAttemptAt', {
      type: 'DateTime',
      nullable: true,
      description: 'A later attempt is planned at this time; null when delivered or given up.',
    }),
  }),
});

/** Not part of a webhook's own body (job-payload.ts): the deliveries are its envelope's story. */
export const WEBHOOK_DELIVERIES_FIELD = 'webhookDeliveries';

builder.objectField(Job, WEBHOOK_DELIVERIES_FIELD, (t) =>
  t.field({
    type: [WebhookDelivery],
    description: 'Every attempt to deliver this job to its webhookUrl, oldest first.',
    resolve: (job, _args, context) =>
      job.webhookUrl === null ? [] : context.store.listWebhookAttempts(job.id),
  }),
);

builder.queryField('webhookSigningSecret', (t) =>
  t.string({
    description: "The calling key's secret for verifying outbound webhooks (whsec_...).",
    resolve: (_root, _args, context) =>
      context.webhookSecrets.get(requirePrincipal(context).key.id),
  }),
);

builder.mutationField('rotateWebhookSigningSecret', (t) =>
  t.string({
    description: 'A new signing secret for the calling key; the old one stops signing at once.',
    resolve: (_root, _args, context) =>
      context.webhookSecrets.rotate(requirePrincipal(context).key.id),
  }),
);
