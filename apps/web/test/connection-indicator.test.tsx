import { act, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ConnectionIndicator } from '../src/ui/connection-indicator.tsx';
import { announcements, renderSignedIn } from './support/render.tsx';

describe('connection indicator', () => {
  it('shows the live connection in one place and announces a drop and a recovery', async () => {
    const { connection } = renderSignedIn({ ui: <ConnectionIndicator /> });
    expect(screen.getByText('Live')).toBeTruthy();

    act(() => connection.set('reconnecting'));
    expect(screen.getByText('Reconnecting…')).toBeTruthy();
    await waitFor(() => expect(announcements()).toContain('connection lost, reconnecting'));

    act(() => connection.set('online'));
    expect(screen.getByText('Live')).toBeTruthy();
    await waitFor(() => expect(announcements()).toContain('Live updates are back.'));
  });
});
