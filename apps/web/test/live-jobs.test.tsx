import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { JobEvents } from '../src/dashboard.tsx';
import { LiveJobs } from '../src/features/jobs/live-jobs.tsx';
import { createFakeGateway } from './support/fake-gateway.ts';
import { announcements, renderSignedIn } from './support/render.tsx';

/** The live panel with the dashboard's `myJobs` subscription, as on the page. */
const live = (
  <>
    <JobEvents />
    <LiveJobs />
  </>
);
const liveList = () => within(screen.getByRole('region', { name: /Live/ }));
const card = (prompt: string) => {
  const item = liveList()
    .getAllByRole('listitem')
    .find((candidate) => candidate.textContent?.includes(prompt));
  if (!item) throw new Error(`no card for ${prompt}`);
  return within(item);
};

describe('live jobs', () => {
  it('says so when nothing runs', async () => {
    renderSignedIn({ ui: live });
    expect(await screen.findByText('Nothing running')).toBeTruthy();
  });

  it('reattaches to the jobs still running on the server after a page load', async () => {
    const gateway = createFakeGateway();
    gateway.addJob({ prompt: 'waiting in line', queuePosition: 2 });
    const running = gateway.addJob({ prompt: 'being painted' });
    gateway.updateJob(
      running.id,
      { status: 'PROCESSING', startedAt: running.createdAt },
      { silently: true },
    );
    gateway.addJob({ prompt: 'long finished', status: 'COMPLETED' });
    renderSignedIn({ gateway, ui: live });

    await screen.findByText('being painted');
    expect(card('waiting in line').getByText(/Number 2 in the gateway's queue/)).toBeTruthy();
    expect(card('being painted').getByText('Processing')).toBeTruthy();
    expect(screen.queryByText('long finished')).toBeNull();
    expect(screen.getByText('2 running')).toBeTruthy();
  });

  it('follows a job live from queued to its images, and announces each step', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'a lighthouse at dawn', queuePosition: 1 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText(/Number 1 in the gateway's queue/);

    gateway.updateJob(job.id, {
      status: 'PROCESSING',
      queuePosition: null,
      startedAt: job.createdAt,
    });
    expect(await card('a lighthouse').findByText('Processing')).toBeTruthy();
    await waitFor(() => expect(announcements()).toContain('“a lighthouse at dawn” is processing.'));

    gateway.updateJob(job.id, gateway.completed(job, 6200));
    const image = await card('a lighthouse').findByRole('img', { name: /Result 1/ });
    expect(image.getAttribute('src')).toBe(`/images/${job.id}/0.png`);
    expect(card('a lighthouse').getByText(/Done in 6.2 s/)).toBeTruthy();
    await waitFor(() =>
      expect(announcements()).toContain(
        '“a lighthouse at dawn” is done: 1 image, in its card under Live and in History; Details has the downloads.',
      ),
    );
  });

  it('replaces a card\'s images with "Image expired" once retention deleted them', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'a short-lived sketch' });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('a short-lived sketch');
    gateway.updateJob(job.id, gateway.completed(job));
    expect(await card('a short-lived').findByRole('img', { name: /Result 1/ })).toBeTruthy();

    gateway.updateJob(job.id, { imagesExpiredAt: new Date().toISOString() });
    expect(await card('a short-lived').findByText('Image expired')).toBeTruthy();
    expect(card('a short-lived').queryByRole('img')).toBeNull();
  });

  it("gives a first job, with no runs to learn from, the gateway's own estimate", async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({
      prompt: 'the first ever',
      queuePosition: 1,
      expectedDurationMs: 40_000,
    });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('the first ever');
    expect(card('the first ever').getByText(/usually runs 40 s or less/)).toBeTruthy();

    gateway.updateJob(job.id, {
      status: 'PROCESSING',
      queuePosition: null,
      startedAt: new Date().toISOString(),
    });
    expect(await card('the first ever').findByText(/About \d+ s left/)).toBeTruthy();
  });

  it('estimates the time left from recent jobs of the same model and steps', async () => {
    const gateway = createFakeGateway();
    for (const runMs of [4000, 5000, 6000]) {
      const done = gateway.addJob({ prompt: 'earlier' });
      gateway.updateJob(done.id, gateway.completed(done, runMs), { silently: true });
    }
    const other = gateway.addJob({ prompt: 'other steps', numInferenceSteps: 20 });
    gateway.updateJob(other.id, gateway.completed(other, 60_000), { silently: true });
    const job = gateway.addJob({ prompt: 'now running' });
    gateway.updateJob(
      job.id,
      { status: 'PROCESSING', startedAt: new Date().toISOString() },
      { silently: true },
    );
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('now running');

    expect(await card('now running').findByText(/About \d\.\d–[56]\.\d s left/)).toBeTruthy();
  });

  it('shows a failure with its message, and retries it as a new job that takes its card', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({
      prompt: 'will fail',
      model: 'Z_IMAGE_BASE',
      numInferenceSteps: 40,
      queuePosition: 1,
    });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('will fail');

    gateway.updateJob(job.id, { status: 'FAILED', error: 'content policy', queuePosition: null });
    expect(await card('will fail').findByText(/content policy/)).toBeTruthy();
    await waitFor(() => expect(announcements()).toContain('“will fail” failed: content policy.'));

    await userEvent.click(card('will fail').getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(gateway.operationsNamed('GenerateImage')).toHaveLength(1));
    expect(gateway.operationsNamed('GenerateImage')[0]?.variables.input).toMatchObject({
      prompt: 'will fail',
      model: 'Z_IMAGE_BASE',
      numInferenceSteps: 40,
      guidanceScale: job.guidanceScale,
    });
    // The new job's card replaces the failed one, and has the focus the Retry button had.
    await waitFor(() =>
      expect(liveList().getAllByRole('listitem')[0]?.textContent).not.toContain('content policy'),
    );
    const cards = liveList().getAllByRole('listitem');
    expect(cards).toHaveLength(1);
    expect(cards[0]?.textContent).toContain('will fail');
    expect(cards[0]?.textContent).toContain("Number 1 in the gateway's queue");
    expect(document.activeElement).toBe(cards[0]);
  });

  it('cancels a job', async () => {
    const gateway = createFakeGateway();
    gateway.addJob({ prompt: 'changed my mind', queuePosition: 1 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('changed my mind');

    await userEvent.click(card('changed my mind').getByRole('button', { name: 'Cancel' }));
    expect(await card('changed my mind').findByText(/Cancelled · not charged/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Clear finished' })).toBeTruthy();
  });

  it('shows a job submitted from another tab or client as soon as its event arrives', async () => {
    const gateway = createFakeGateway();
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('Nothing running');
    await waitFor(() => expect(gateway.operationsNamed('MyJobs')).toHaveLength(1));

    const job = gateway.addJob({ prompt: 'from the bot', queuePosition: 1 });
    gateway.updateJob(job.id, {});
    expect(await screen.findByText('from the bot')).toBeTruthy();
  });

  it('updates queue positions when a job ahead leaves the queue', async () => {
    const gateway = createFakeGateway();
    const first = gateway.addJob({ prompt: 'first in line', queuePosition: 1 });
    gateway.addJob({ prompt: 'second in line', queuePosition: 2 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText(/Number 2/);

    // The gateway moves the second job up without an event of its own.
    gateway.updateJob(first.id, {
      status: 'PROCESSING',
      queuePosition: null,
      startedAt: first.createdAt,
    });
    const second = [...gateway.jobs.values()].find((job) => job.prompt === 'second in line');
    if (second) gateway.updateJob(second.id, { queuePosition: 1 }, { silently: true });
    expect(await card('second in line').findByText(/Number 1/)).toBeTruthy();
  });

  it('catches up with what it missed while disconnected when asked to re-query', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'finished offline', queuePosition: 1 });
    const view = renderSignedIn({ gateway, ui: live });
    await screen.findByText('finished offline');

    gateway.updateJob(job.id, gateway.completed(job), { silently: true });
    view.refetchActiveQueries();
    expect(await card('finished offline').findByRole('img')).toBeTruthy();
  });
});
