/**
 * What `/history` and `/job`'s autocomplete read of a user's jobs at the gateway, as that
 * end user (the gateway shows an end user only their own jobs).
 */
import type { Job, ZimageClient } from '@zimage/client';

export const HISTORY_PAGE_SIZE = 5;
/**
 * How far back /history goes: the gateway's largest page (`jobs(first:)` takes 1–100), so any
 * page is one request. Pages are numbers in the buttons' custom ids, which outlive the bot,
 * and the gateway pages forward only (`after`), so "newer" is read from the start again.
 */
export const HISTORY_DEPTH = 100;
const LAST_PAGE = HISTORY_DEPTH / HISTORY_PAGE_SIZE - 1;

/** Discord shows at most 25 autocomplete choices. */
const MAX_CHOICES = 25;
/** A typed fragment longer than any prompt word anyone looks for is cut, not sent whole. */
const MAX_SEARCH_LENGTH = 100;

type JobsReader = Pick<ZimageClient, 'jobs'>;

export interface HistoryPage {
  index: number;
  jobs: Job[];
  hasOlder: boolean;
}

/** Page `index` (0: the newest jobs) of the user's history. */
export async function historyPage(gateway: JobsReader, index: number): Promise<HistoryPage> {
  const page = Math.min(Math.max(0, index), LAST_PAGE);
  const through = (page + 1) * HISTORY_PAGE_SIZE;
  const { nodes, pageInfo } = await gateway.jobs({ first: through });
  return {
    index: page,
    jobs: nodes.slice(page * HISTORY_PAGE_SIZE, through),
    hasOlder: page < LAST_PAGE && pageInfo.hasNextPage,
  };
}

/**
 * Suggestions for what the user has typed into `/job id:`: their newest jobs, those whose id
 * starts with it when it looks like an id, else those whose prompt matches it.
 */
export async function recentJobs(gateway: JobsReader, typed: string): Promise<Job[]> {
  const text = typed.trim().slice(0, MAX_SEARCH_LENGTH);
  if (text === '' || text.startsWith('job_')) {
    const { nodes } = await gateway.jobs({ first: MAX_CHOICES });
    return nodes.filter((job) => job.id.startsWith(text));
  }
  return (await gateway.jobs({ first: MAX_CHOICES, search: text })).nodes;
}
