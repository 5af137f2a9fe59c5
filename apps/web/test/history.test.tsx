import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { JobEvents } from '../src/dashboard.tsx';
import { HistoryPanel } from '../src/features/history/history-panel.tsx';
import { PAGE_SIZE } from '../src/features/history/use-history.ts';
import { formatUsd } from '../src/ui/format.ts';
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

/** The page scrolls the history (jsdom does no layout: the scroll position is set by hand). */
function scrollPageTo(y: number) {
  act(() => {
    window.scrollY = y;
    fireEvent.scroll(window);
  });
}

afterEach(() => {
  window.scrollY = 0;
});

describe('history', () => {
  it('has a clear empty state', async () => {
    renderSignedIn({ ui: history });
    expect(await screen.findByText('No jobs yet')).toBeTruthy();
  });

  it('lists jobs newest first with their status and cost', async () => {
    const gateway = createFakeGateway();
    gateway.addJob({ prompt: 'older' });
    const newer = gateway.addJob({ prompt: 'newer', numImages: 2 });
    gateway.updateJob(newer.id, gateway.completed(newer), { silently: true });
    renderSignedIn({ gateway, ui: history });

    await screen.findByText('newer');
    expect(rows()).toHaveLength(2);
    expect(rows()[0]).toMatch(/newer.*Turbo · Square 1:1 · 2×.*Completed/);
    expect(rows()[0]).toContain(formatUsd(newer.costUsd));
    expect(rows()[1]).toMatch(/older.*Queued/);
  });

  it('shows no thumbnail for a job whose images expired, and says so', async () => {
    const gateway = createFakeGateway();
    const kept = gateway.addJob({ prompt: 'kept' });
    gateway.updateJob(kept.id, gateway.completed(kept), { silently: true });
    const old = gateway.addJob({ prompt: 'old' });
    gateway.updateJob(
      old.id,
      { ...gateway.completed(old), imagesExpiredAt: new Date().toISOString() },
      { silently: true },
    );
    const { container } = renderSignedIn({ gateway, ui: history });

    await screen.findByText('old');
    expect(rows()[0]).toMatch(/old.*images expired/);
    expect(rows()[1]).not.toContain('expired');
    const thumbnails = [...container.querySelectorAll('img.history-thumb-image')];
    expect(thumbnails.map((img) => img.getAttribute('src'))).toEqual([`/images/${kept.id}/0.png`]);
  });

  it("names each job's key and end user where the gateway tells them (an admin's history)", async () => {
    const gateway = createFakeGateway();
    gateway.addJob({
      prompt: 'for a friend',
      apiKey: { id: 'key_1', name: 'Discord bot', keyPrefix: 'zk_1' },
      endUserId: 'alice',
    });
    gateway.addJob({ prompt: 'mine' });
    renderSignedIn({ gateway, ui: history });

    await screen.findByText('for a friend');
    expect(rows()[1]).toMatch(/for a friend.*· Discord bot · for alice/);
    expect(rows()[0]).not.toContain(' · for ');
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

    scrollPageTo(68 * PAGE_SIZE);

    await waitFor(() => expect(gateway.operationsNamed('Jobs')).toHaveLength(2));
    expect(gateway.operationsNamed('Jobs')[1]?.variables.after).toBeTruthy();
    scrollPageTo(68 * (PAGE_SIZE + 15));
    expect(await screen.findByText('job number 0')).toBeTruthy();
  });

  it('refreshes every loaded page after a reconnect, not only the last one', async () => {
    const gateway = createFakeGateway();
    const created = Array.from({ length: PAGE_SIZE + 15 }, (_, index) =>
      gateway.addJob({ prompt: `job number ${index}` }),
    );
    const view = renderSignedIn({ gateway, ui: history });
    await screen.findByText(`job number ${PAGE_SIZE + 14}`);
    const scrollTo = (row: number) => scrollPageTo(68 * row);
    scrollTo(PAGE_SIZE + 15);
    expect(await screen.findByText('job number 0')).toBeTruthy();
    expect(gateway.operationsNamed('Jobs')).toHaveLength(2);

    // While the socket is down, a job on each page finishes; no event reaches the page.
    act(() => view.connection.set('reconnecting'));
    const [onSecondPage, onFirstPage] = [created[0], created.at(-1)];
    if (!onSecondPage || !onFirstPage) throw new Error('no jobs');
    gateway.updateJob(onSecondPage.id, gateway.completed(onSecondPage), { silently: true });
    gateway.updateJob(onFirstPage.id, { status: 'FAILED', error: 'boom' }, { silently: true });

    act(() => view.connection.set('online'));
    view.refetchActiveQueries();
    const row = (prompt: string) => screen.getByRole('button', { name: new RegExp(prompt) });
    await waitFor(() => expect(row('job number 0').textContent).toContain('Completed'));
    // Both pages went out again by their own cursors, so the rows stay where they were.
    const refetched = gateway.operationsNamed('Jobs').slice(2);
    expect(refetched.map((operation) => operation.variables.after ?? null).sort()).toEqual(
      [null, gateway.operationsNamed('Jobs')[1]?.variables.after].sort(),
    );
    expect(window.scrollY).toBe(68 * (PAGE_SIZE + 15));
    expect(row('job number 0').closest('[aria-setsize]')?.getAttribute('aria-setsize')).toBe(
      String(PAGE_SIZE + 15),
    );

    scrollTo(0);
    await waitFor(() =>
      expect(row(`job number ${PAGE_SIZE + 14}`).textContent).toContain('Failed'),
    );
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
