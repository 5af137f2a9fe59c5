/**
 * What jsdom lacks for these components: the modal <dialog> API and scrolling (the virtualized
 * history reads the window's size, jsdom's 1024×768). Tests render into a fresh document state
 * each time.
 */
import { cleanup, configure } from '@testing-library/react';
import { afterEach } from 'vitest';

// findBy* and waitFor give up after 1 s by default, which a first render can take on a busy
// machine; this is the upper bound of a wait for what a passing test does see, well inside
// the test's own timeout (vitest.shared.ts).
configure({ asyncUtilTimeout: 10_000 });

afterEach(() => {
  cleanup();
  window.localStorage.clear();
  window.history.replaceState(null, '', '/');
});

HTMLDialogElement.prototype.showModal = function showModal() {
  this.setAttribute('open', '');
  // As browsers do (the dialog focusing steps): the first focusable element inside gets the focus.
  this.querySelector<HTMLElement>(
    'button:not(:disabled), [href], input, select, textarea',
  )?.focus();
};
HTMLDialogElement.prototype.close = function close() {
  this.removeAttribute('open');
  this.dispatchEvent(new Event('close'));
};

Element.prototype.scrollIntoView = function scrollIntoView() {};
