/** Every operation the client sends. One job fragment serves every answer that holds a job. */
import { JobFields, ModelFields } from './fragments.ts';
import { graphql, type ResultOf, type VariablesOf } from './graphql.ts';

export const GenerateMutation = graphql(
  `
    mutation Generate($input: GenerateImageInput!) {
      generateImage(input: $input) {
        ...JobFields
      }
    }
  `,
  [JobFields],
);

export const CancelMutation = graphql(
  `
    mutation Cancel($id: ID!, $endUserId: String) {
      cancelJob(id: $id, endUserId: $endUserId) {
        ...JobFields
      }
    }
  `,
  [JobFields],
);

export const JobQuery = graphql(
  `
    query Job($id: ID!) {
      job(id: $id) {
        ...JobFields
      }
    }
  `,
  [JobFields],
);

export const JobsQuery = graphql(
  `
    query Jobs(
      $first: Int
      $after: String
      $status: JobStatus
      $model: Model
      $search: String
      $endUserId: String
    ) {
      jobs(
        first: $first
        after: $after
        status: $status
        model: $model
        search: $search
        endUserId: $endUserId
      ) {
        edges {
          node {
            ...JobFields
          }
        }
        pageInfo {
          hasNextPage
          hasPreviousPage
          startCursor
          endCursor
        }
      }
    }
  `,
  [JobFields],
);

export const ModelsQuery = graphql(
  `
    query Models {
      models {
        ...ModelFields
      }
    }
  `,
  [ModelFields],
);

export const ViewerQuery = graphql(`
  query Viewer($endUserId: String) {
    viewer(endUserId: $endUserId) {
      name
      keyPrefix
      scopes
      endUserId
      usage {
        spentTodayUsd
        dailyBudgetUsd
        jobsInFlight
        maxConcurrentJobs
        requestsPerMinute
      }
    }
  }
`);

export const JobUpdatedSubscription = graphql(
  `
    subscription JobUpdated($id: ID!, $endUserId: String) {
      jobUpdated(id: $id, endUserId: $endUserId) {
        ...JobFields
      }
    }
  `,
  [JobFields],
);

export type Job = ResultOf<typeof JobFields>;
export type JobStatus = Job['status'];
export type Model = Job['model'];
export type ImageSize = Job['imageSize'];
export type OutputFormat = Job['outputFormat'];
export type Acceleration = Job['acceleration'];
export type Image = Job['images'][number];
export type ModelInfo = ResultOf<typeof ModelsQuery>['models'][number];
export type Viewer = ResultOf<typeof ViewerQuery>['viewer'];
export type Usage = Viewer['usage'];
export type PageInfo = ResultOf<typeof JobsQuery>['jobs']['pageInfo'];

/** What `generate` takes: the schema's input; the end user comes from the client. */
export type GenerateInput = Omit<VariablesOf<typeof GenerateMutation>['input'], 'endUserId'>;
/** What `jobs` takes: the schema's arguments; the end user comes from the client. */
export type JobsFilter = Omit<VariablesOf<typeof JobsQuery>, 'endUserId'>;
