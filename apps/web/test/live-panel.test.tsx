import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobEvents } from '../src/dashboard.tsx';
import { LiveJobs } from '../src/features/jobs/live-jobs.tsx';
import { RECENT_FINISHED } from '../src/features/jobs/use-live-jobs.ts';
import { createFakeGateway } from './support/fake-gateway.ts';
import { renderSignedIn } from './support/render.tsx';

const live = (
  <>
    <JobEvents />
    <LiveJobs />
  </>
);
const liveList = () => within(screen.getByRole('region', { name: /Live/ }));
const cardTexts = () =>
  liveList()
    .getAllByRole('listitem')
    .map((item) => item.textContent ?? '');

afterEach(() => {
  vi.unstubAllGlobals();
  document.title = '';
});

describe('the live panel', () => {
  it(`keeps the running jobs and the last ${RECENT_FINISHED} finished; the rest are in History`, async () => {
    const gateway = createFakeGateway();
    const jobs = Array.from({ length: RECENT_FINISHED + 2 }, (_, index) =>
      gateway.addJob({ prompt: `job number ${index}`, queuePosition: index + 1 }),
    );
    renderSignedIn({ gateway, ui: live });
    await screen.findByText(`job number ${jobs.length - 1}`);
    expect(cardTexts()).toHaveLength(jobs.length);

    // All but the newest finish, oldest first.
    for (const job of jobs.slice(0, -1)) gateway.updateJob(job.id, gateway.completed(job));
    await waitFor(() => expect(cardTexts()).toHaveLength(1 + RECENT_FINISHED));
    const shown = cardTexts().join('|');
    expect(shown).toContain(`job number ${jobs.length - 1}`);
    for (const index of [1, 2, 3]) expect(shown).toContain(`job number ${index}`);
    expect(shown).not.toContain('job number 0');
  });

  it('puts the tab title in step with the running jobs', async () => {
    const gateway = createFakeGateway();
    const first = gateway.addJob({ prompt: 'one', queuePosition: 1 });
    gateway.addJob({ prompt: 'two', queuePosition: 2 });
    renderSignedIn({ gateway, ui: live });
    await waitFor(() => expect(document.title).toBe('(2) zimage'));

    gateway.updateJob(first.id, gateway.completed(first));
    await waitFor(() => expect(document.title).toBe('(1) zimage'));
  });

  it('gives the focus of the last dismissed card to the Live heading', async () => {
    const gateway = createFakeGateway();
    const only = gateway.addJob({ prompt: 'newer one', queuePosition: 1 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('newer one');
    gateway.updateJob(only.id, { status: 'CANCELLED', queuePosition: null });
    await screen.findByRole('button', { name: 'Dismiss “newer one”' });

    await userEvent.click(screen.getByRole('button', { name: 'Dismiss “newer one”' }));
    await waitFor(() =>
      expect(document.activeElement).toBe(screen.getByRole('heading', { name: /Live/ })),
    );
  });

  it('moves the focus to the next card when one of several is dismissed', async () => {
    const gateway = createFakeGateway();
    const a = gateway.addJob({ prompt: 'card a', queuePosition: 1 });
    const b = gateway.addJob({ prompt: 'card b', queuePosition: 2 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('card a');
    gateway.updateJob(a.id, gateway.completed(a));
    gateway.updateJob(b.id, gateway.completed(b));
    const dismissB = await screen.findByRole('button', { name: 'Dismiss “card b”' });
    await screen.findByRole('button', { name: 'Dismiss “card a”' });

    await userEvent.click(dismissB);
    const next = liveList().getByRole('listitem');
    expect(next.textContent).toContain('card a');
    await waitFor(() => expect(document.activeElement).toBe(next));
  });

  it('notifies of a job that ends while the tab is hidden, once asked to', async () => {
    const shown: { title: string; body?: string }[] = [];
    // jsdom has no Notification; this stands in for the browser's.
    class FakeNotification {
      static permission: NotificationPermission = 'default';
      static requestPermission = vi.fn(async () => {
        FakeNotification.permission = 'granted';
        return 'granted' as const;
      });
      constructor(title: string, options?: NotificationOptions) {
        shown.push({ title, ...(options?.body ? { body: options.body } : {}) });
      }
    }
    vi.stubGlobal('Notification', FakeNotification);
    const gateway = createFakeGateway();
    const job = gateway.addJob({ prompt: 'while away', queuePosition: 1 });
    renderSignedIn({ gateway, ui: live });
    await screen.findByText('while away');

    await userEvent.click(screen.getByRole('checkbox', { name: 'Notify when a job ends' }));
    expect(FakeNotification.requestPermission).toHaveBeenCalledOnce();
    await waitFor(() =>
      expect(
        (screen.getByRole('checkbox', { name: 'Notify when a job ends' }) as HTMLInputElement)
          .checked,
      ).toBe(true),
    );

    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    act(() => void gateway.updateJob(job.id, gateway.completed(job)));
    await waitFor(() => expect(shown).toHaveLength(1));
    expect(shown[0]?.body).toMatch(/^“while away” is done: 1 image/);
    visibility.mockRestore();
  });

  it('has one live region only: the cost line does not speak', async () => {
    renderSignedIn();
    await screen.findByRole('button', { name: /Generate/ });
    expect(document.querySelectorAll('[aria-live]')).toHaveLength(1);
    expect(
      screen.getByRole('button', { name: /Generate/ }).getAttribute('aria-describedby'),
    ).toBeTruthy();
  });
});
