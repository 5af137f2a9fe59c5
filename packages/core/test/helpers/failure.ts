import { PixazoError } from '../../src/index.ts';

/** The PixazoError a promise rejects with; anything else (or no rejection) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<PixazoError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PixazoError) return error;
    throw error;
  }
  throw new Error('expected a PixazoError');
}
