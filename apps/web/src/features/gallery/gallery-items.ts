/**
 * The images of a list of jobs, one item each, in the list's order (newest job first); jobs
 * whose images retention deleted have none left to show.
 */
import type { Job } from '../../graphql/operations.ts';
import { imagesExpired } from '../jobs/expired-images.tsx';

export interface GalleryItem {
  /** Unique per image: its URL. */
  key: string;
  job: Job;
  /** Its place in the job, from 0. */
  index: number;
  image: Job['images'][number];
}

export const galleryItems = (jobs: readonly Job[]): GalleryItem[] =>
  jobs.flatMap((job) =>
    imagesExpired(job)
      ? []
      : job.images.map((image, index) => ({ key: image.url, job, index, image })),
  );

/** Compare takes 2 to 4 images: side by side is unreadable past four. */
export const MIN_COMPARE = 2;
export const MAX_COMPARE = 4;
