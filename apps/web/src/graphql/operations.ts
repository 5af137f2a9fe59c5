/**
 * Every operation the dashboard sends. One job fragment serves every view; it and the models
 * selection build on the client's fragments, so both clients read a job and a model alike.
 */
import { JobFields, ModelFields } from '@zimage/client/fragments';
import { graphql, type ResultOf, type VariablesOf } from '@zimage/client/graphql';

/** The client's job selection, plus whose key made the job (admins only; null for other keys). */
export const DashboardJobFields = graphql(
  `
  fragment DashboardJobFields on Job {
    ...JobFields
    apiKey {
      id
      name
      keyPrefix
    }
  }
`,
  [JobFields],
);

export type Job = ResultOf<typeof DashboardJobFields>;
export type JobStatus = Job['status'];
export type Model = Job['model'];
export type ImageSize = Job['imageSize'];
export type OutputFormat = Job['outputFormat'];
export type Acceleration = Job['acceleration'];

export const ModelsQuery = graphql(
  `
  query Models {
    models {
      ...ModelFields
    }
    # The form's other choices and defaults are the schema's own (introspection).
    imageSizes: __type(name: "ImageSize") {
      enumValues {
        name
      }
    }
    outputFormats: __type(name: "OutputFormat") {
      enumValues {
        name
      }
    }
    generateImageInput: __type(name: "GenerateImageInput") {
      inputFields {
        name
        defaultValue
      }
    }
  }
`,
  [ModelFields],
);

export type ModelsAnswer = ResultOf<typeof ModelsQuery>;
export type ModelInfo = ModelsAnswer['models'][number];

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      name
      keyPrefix
      scopes
      usage {
        spentTodayUsd
        dailyBudgetUsd
        jobsInFlight
        maxConcurrentJobs
      }
    }
  }
`);

export type Usage = ResultOf<typeof ViewerQuery>['viewer']['usage'];

/**
 * What the whole gateway has spent today (admin keys only): the header shows it beside the
 * key's own spend. The days are UTC, as the gateway's budgets count them.
 */
export const GatewaySpendQuery = graphql(`
  query GatewaySpend($day: Date!) {
    usageReport(from: $day, to: $day, groupBy: [DAY]) {
      day
      jobs
      costUsd
    }
  }
`);

/** The jobs not yet finished: what the live panel reattaches to after a page load. */
export const ActiveJobsQuery = graphql(
  `
  query ActiveJobs($first: Int!) {
    queued: jobs(first: $first, status: QUEUED) {
      edges {
        node {
          ...DashboardJobFields
        }
      }
    }
    processing: jobs(first: $first, status: PROCESSING) {
      edges {
        node {
          ...DashboardJobFields
        }
      }
    }
  }
`,
  [DashboardJobFields],
);

export const JobsQuery = graphql(
  `
  query Jobs($first: Int!, $after: String, $status: JobStatus, $model: Model, $search: String) {
    jobs(first: $first, after: $after, status: $status, model: $model, search: $search) {
      edges {
        node {
          ...DashboardJobFields
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`,
  [DashboardJobFields],
);

export type JobsVariables = VariablesOf<typeof JobsQuery>;

export const JobQuery = graphql(
  `
  query Job($id: ID!) {
    job(id: $id) {
      ...DashboardJobFields
    }
  }
`,
  [DashboardJobFields],
);

export const GenerateImageMutation = graphql(
  `
  mutation GenerateImage($input: GenerateImageInput!) {
    generateImage(input: $input) {
      ...DashboardJobFields
    }
  }
`,
  [DashboardJobFields],
);

export type GenerateImageInput = VariablesOf<typeof GenerateImageMutation>['input'];

export const CancelJobMutation = graphql(
  `
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...DashboardJobFields
    }
  }
`,
  [DashboardJobFields],
);

export const MyJobsSubscription = graphql(
  `
  subscription MyJobs {
    myJobs {
      ...DashboardJobFields
    }
  }
`,
  [DashboardJobFields],
);

/** The cheapest authenticated question: used to check a key before keeping it. */
export const ViewerNameQuery = graphql(`
  query ViewerName {
    viewer {
      name
    }
  }
`);
