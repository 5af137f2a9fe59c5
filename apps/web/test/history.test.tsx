import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { JobEvents } from '../src/dashboard.tsx';
import { HistoryPanel } from '../src/features/history/history-panel.tsx';
import { PAGE_SIZE } from '../src/features/history/use-history.ts';
import { createFakeGateway } from './support/fake-gateway.ts';
import { renderSignedIn } from './support/render.tsx';

const history = (
  <>
    <JobEvents />
    <HistoryPanel />
  </>
);
const rows = () =>
  within(screen.getByRole('list', { name: 'Jobs, newest first' }))
    .getAllByRole('button')
    .map((row) => row.textContent ?? '');

describe('history', () => {
  it('has a clear empty state', async () => {
    renderSignedIn({ ui: history });
    expect(await screen.findByText('No jobs yet')).toBeTruthy();
  });

  it('lists jobs newest first with their status and cost', async () => {
    const gateway = createFakeGateway();
    gateway.addJob({ prompt: 'older' });
    const newer = gateway.addJob({ prompt: 'newer', numImages: 2, costUsd: 0.016 });
    gateway.updateJob(newer.id, gateway.completed(newer), { silently: true });
    renderSignedIn({ gateway, ui: history });

    await screen.findByText('newer');
    expect(rows()).toHaveLength(2);
    expect(rows()[0]).toMatch(/newer.*Turbo · Square 1:1 · 2×.*Completed.*\$0\.016/);
    expect(rows()[1]).toMatch(/older.*Queued/);
  });

  it('searches prompts on the server and filters by model and status', async () => {
    const gateway = createFakeGateway();
    gateway.addJob({ prompt: 'A red fox' });
    gateway.addJob({ prompt: 'a blue whale', model: 'Z_IMAGE_BASE' });
    gateway.addJob({ prompt: 'red sunset', status: 'FAILED' });
    renderSignedIn({ gateway, ui: history });
    await screen.findByText('a blue whale');
    const user = userEvent.setup();

    await user.type(screen.getByRole('searchbox', { name: 'Search prompts' }), 'RED');
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(gateway.operationsNamed('Jobs').at(-1)?.variables).toMatchObject({ search: 'RED' });

    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'FAILED');
    await waitFor(() => expect(rows()).toEqual([expect.stringContaining('red sunset')]));

    await user.clear(screen.getByRole('searchbox', { name: 'Search prompts' }));
    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), '');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Model' }), 'Z_IMAGE_BASE');
    await waitFor(() => expect(rows()).toEqual([expect.stringContaining('a blue whale')]));

    await user.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'COMPLETED');
    expect(await screen.findByText('No jobs match these filters')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(rows()).toHaveLength(3));
  });

  it('loads the next server page when scrolled near the end', async () => {
    const gateway = createFakeGateway();
    for (let index = 0; index < PAGE_SIZE + 15; index += 1) {
      gateway.addJob({ prompt: `job number ${index}` });
    }
    renderSignedIn({ gateway, ui: history });
    await screen.findByText(`job number ${PAGE_SIZE + 14}`);
    expect(gateway.operationsNamed('Jobs')).toHaveLength(1);
    // Only the rows in view (and a few around them) are rendered.
    expect(rows().length).toBeLessThan(PAGE_SIZE);

    const viewport = document.querySelector('.history-scroll') as HTMLElement;
    viewport.scrollTop = 68 * PAGE_SIZE;
    fireEvent.scroll(viewport);

    await waitFor(() => expect(gateway.operationsNamed('Jobs')).toHaveLength(2));
    expect(gateway.operationsNamed('Jobs')[1]?.variables.after).toBeTruthy();
    viewport.scrollTop = 68 * (PAGE_SIZE + 15);
    fireEvent.scroll(viewport);
    expect(await screen.findByText('job number 0')).toBeTruthy();
  });

  it('puts a new job at the top and moves jobs between status filters as events arrive', async () => {
    const gateway = createFakeGateway();
    gateway.addJob({ prompt: 'already there' });
    renderSignedIn({ gateway, ui: history });
    await screen.findByText('already there');

    const job = gateway.addJob({ prompt: 'just submitted' });
    gateway.updateJob(job.id, {});
    await waitFor(() => expect(rows()[0]).toContain('just submitted'));

    await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Status' }), 'QUEUED');
    await waitFor(() => expect(rows()).toHaveLength(2));
    gateway.updateJob(job.id, gateway.completed(job));
    await waitFor(() => expect(rows()).toEqual([expect.stringContaining('already there')]));
  });

  it('opens a job in its detail', async () => {
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'open me' });
    renderSignedIn({ gateway, ui: history });
    await userEvent.click(await screen.findByRole('button', { name: /open me/ }));
    expect(new URL(window.location.href).searchParams.get('job')).toBe(job.id);
  });
});
