import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { JobEvents } from '../src/dashboard.tsx';
import { LiveJobs } from '../src/features/jobs/live-jobs.tsx';
import { createFakeGateway } from './support/fake-gateway.ts';
import { announcements, renderSignedIn } from './support/render.tsx';

const live = (
  <>
    <JobEvents />
    <LiveJobs />
  </>
);
const card = (prompt: string) => {
  const item = within(screen.getByRole('region', { name: /Live/ }))
    .getAllByRole('listitem')
    .find((candidate) => candidate.textContent?.includes(prompt));
  if (!item) throw new Error(`no card for ${prompt}`);
  return within(item);
};

describe('cancel, honestly', () => {
  it('offers a free cancel only while the job waits in the gateway queue', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'still waiting', queuePosition: 1 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('still waiting');
    expect(await card('still waiting').findByRole('button', { name: 'Cancel' })).toBeTruthy();

    // Dispatch sent it to Pixazo: it is paid from now on.
    gateway.updateJob(job.id, { queuePosition: null, requestId: 'req_1' });
    expect(await card('still waiting').findByText('Already sent — paid')).toBeTruthy();
    expect(card('still waiting').queryByRole('button', { name: 'Cancel' })).toBeNull();

    gateway.updateJob(job.id, { status: 'PROCESSING', startedAt: new Date().toISOString() });
    expect(await card('still waiting').findByText('Processing')).toBeTruthy();
    expect(card('still waiting').getByText('Already sent — paid')).toBeTruthy();
    expect(card('still waiting').queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('never shows an older state of a job: a generateImage answer overtaken by the event that sent it', async () => {
    const gateway = createFakeGateway();
    renderSignedIn({ gateway });
    await screen.findByRole('textbox', { name: 'Prompt' });
    await waitFor(() => expect(gateway.operationsNamed('MyJobs')).toHaveLength(1));

    // The gateway answers generateImage with the job as admitted (QUEUED, number 1); before
    // that answer arrives, the event of its submission to Pixazo does.
    const release = gateway.holdNextAnswer('GenerateImage');
    await userEvent.type(screen.getByRole('textbox', { name: 'Prompt' }), 'a race');
    await userEvent.click(screen.getByRole('button', { name: /Generate/ }));
    expect(await card('a race').findByText(/Number 1 in the gateway's queue/)).toBeTruthy();
    const [job] = [...gateway.jobs.values()];
    if (!job) throw new Error('no job');
    gateway.updateJob(job.id, { queuePosition: null, requestId: 'req_race' });
    expect(await card('a race').findByText('Already sent — paid')).toBeTruthy();

    release();
    // The submission's own answer has now been handled…
    await waitFor(() => expect(announcements()).toContain('Submitted “a race”.'));
    // …and the card still shows the newer state.
    expect(card('a race').getByText('Already sent — paid')).toBeTruthy();
    expect(card('a race').queryByRole('button', { name: 'Cancel' })).toBeNull();
    expect(card('a race').queryByText(/Number 1/)).toBeNull();
  });
});

describe("a job's detail", () => {
  it('offers Cancel job while queued in the gateway, and says it is paid once sent', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'in detail', queuePosition: 1 });
    window.history.replaceState(null, '', `/?job=${job.id}`);
    renderSignedIn({ gateway });
    const detail = within(await screen.findByRole('dialog', { name: 'Job details' }));
    expect(await detail.findByRole('button', { name: 'Cancel job' })).toBeTruthy();

    gateway.updateJob(job.id, { queuePosition: null, requestId: 'req_2' });
    expect(await detail.findByText('Already sent — paid')).toBeTruthy();
    expect(detail.queryByRole('button', { name: 'Cancel job' })).toBeNull();
  });
});
