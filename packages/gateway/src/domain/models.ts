/** How the contract names a model: after the family, `turbo` → `Z_IMAGE_TURBO`. */
import type { ModelKey } from '@zimage/core';

export const modelEnumName = (model: ModelKey): string => `Z_IMAGE_${model.toUpperCase()}`;
