/**
 * The `data` of an outbound webhook: the job exactly as GraphQL returns it, by the schema's
 * own Job type and resolvers (so image URLs are absolute and nothing is a second copy of the
 * schema). The job is executed as the root of a schema whose query type is Job, selecting
 * every field but its webhook deliveries and fields that take arguments.
 */
import {
  type DocumentNode,
  execute,
  GraphQLObjectType,
  GraphQLSchema,
  getNamedType,
  isObjectType,
  parse,
} from 'graphql';
import type { JobRecord } from '../domain/job.ts';
import type { GatewayContext } from './builder.ts';
import { schema } from './schema.ts';
import { WEBHOOK_DELIVERIES_FIELD } from './webhook.ts';

function selection(type: GraphQLObjectType, skip: ReadonlySet<string>): string {
  return Object.values(type.getFields())
    .filter((field) => !skip.has(field.name) && field.args.length === 0)
    .map((field) => {
      const named = getNamedType(field.type);
      return isObjectType(named) ? `${field.name} { ${selection(named, new Set())} }` : field.name;
    })
    .join(' ');
}

const jobType = schema.getType('Job');
if (!(jobType instanceof GraphQLObjectType)) throw new Error('The schema has no Job type');
const jobSchema = new GraphQLSchema({ query: jobType });
const document: DocumentNode = parse(
  `{ ${selection(jobType, new Set([WEBHOOK_DELIVERIES_FIELD]))} }`,
);

/** Renders jobs with `context` (an unauthenticated one: the job is given, not looked up). */
export function createJobRenderer(context: Omit<GatewayContext, 'principal'>) {
  return async (job: JobRecord): Promise<Record<string, unknown>> => {
    const result = await execute({
      schema: jobSchema,
      document,
      rootValue: job,
      contextValue: { ...context, principal: null },
    });
    if (result.errors?.length) throw result.errors[0];
    return result.data as Record<string, unknown>;
  };
}
