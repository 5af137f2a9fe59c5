/** Changes an API key's limits. Only the fields changed are sent; an emptied one is removed. */
import { type FormEvent, useState } from 'react';
import type { ApiKey } from '../../graphql/admin-operations.ts';
import { useAnnounce } from '../../ui/announcer.tsx';
import { Modal } from '../../ui/modal.tsx';
import { LimitsFields } from './limits-fields.tsx';
import { type LimitsFormErrors, limitsChanges, limitsToForm, parseLimits } from './limits-form.ts';
import { formFailure } from './mutation-errors.ts';
import { useUpdateApiKeyLimits } from './use-api-keys.ts';

export function EditLimitsDialog({ apiKey, onClose }: { apiKey: ApiKey; onClose(): void }) {
  const [values, setValues] = useState(() => limitsToForm(apiKey.limits));
  const [errors, setErrors] = useState<LimitsFormErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [{ fetching }, updateLimits] = useUpdateApiKeyLimits();
  const announce = useAnnounce();

  const save = async (event: FormEvent, close: () => void) => {
    event.preventDefault();
    const parsed = parseLimits(values);
    setErrors(parsed.ok ? {} : parsed.errors);
    setFormError(null);
    if (!parsed.ok) return;
    const changes = limitsChanges(apiKey.limits, parsed.limits);
    if (Object.keys(changes).length === 0) return close();
    const result = await updateLimits({ id: apiKey.id, limits: changes });
    if (result.data) {
      announce(`Limits of ${apiKey.name} saved.`);
      close();
    } else if (result.error) {
      const failure = formFailure(result.error);
      if (failure.field && failure.field in values.numbers) {
        setErrors({ [failure.field]: failure.message });
      } else {
        setFormError(failure.message);
      }
    }
  };

  return (
    <Modal className="admin-dialog" labelledBy="edit-limits-title" onClose={onClose}>
      {(close) => (
        <div className="modal-inner">
          <header className="modal-head">
            <h2 id="edit-limits-title">Limits of {apiKey.name}</h2>
            <button type="button" className="button ghost icon" onClick={close} aria-label="Close">
              ×
            </button>
          </header>
          <form
            className="admin-form"
            onSubmit={(event) => save(event, close)}
            aria-busy={fetching}
            noValidate
          >
            <LimitsFields values={values} errors={errors} onChange={setValues} />
            {formError && (
              <p className="form-error" role="alert">
                {formError}
              </p>
            )}
            <div className="admin-dialog-actions">
              <button type="button" className="button" onClick={close}>
                Cancel
              </button>
              <button type="submit" className="button primary" disabled={fetching}>
                {fetching ? 'Saving…' : 'Save limits'}
              </button>
            </div>
          </form>
        </div>
      )}
    </Modal>
  );
}
