/**
 * Human names for the schema's enum values. They are derived from the values themselves
 * (Z_IMAGE_TURBO → Turbo, LANDSCAPE_16_9 → Landscape 16:9), so a value the gateway adds later
 * still reads sensibly without a release of the dashboard.
 */
const capitalize = (words: string) => words.charAt(0).toUpperCase() + words.slice(1);
const words = (value: string) => value.toLowerCase().replaceAll('_', ' ');

export const modelLabel = (model: string) => capitalize(words(model.replace(/^Z_IMAGE_/, '')));

/** Values that read as words once cased: ULTRA_FAST → Ultra fast, CANCELLED → Cancelled. */
export const enumLabel = (value: string) => capitalize(words(value));

export const formatLabel = (format: string) => (format === 'WEBP' ? 'WebP' : format);

export interface AspectRatio {
  /** Square, Portrait, Landscape… */
  name: string;
  /** 16:9 */
  ratio: string;
  width: number;
  height: number;
}

export function aspectRatio(imageSize: string): AspectRatio {
  const match = /^(.*)_(\d+)_(\d+)$/.exec(imageSize);
  if (!match) return { name: enumLabel(imageSize), ratio: '', width: 1, height: 1 };
  const [, name = '', width = '1', height = '1'] = match;
  return {
    name: enumLabel(name),
    ratio: `${width}:${height}`,
    width: Number(width),
    height: Number(height),
  };
}

export const sizeLabel = (imageSize: string) => {
  const { name, ratio } = aspectRatio(imageSize);
  return ratio ? `${name} ${ratio}` : name;
};

/** A prompt shortened for announcements and titles. */
export function shortPrompt(prompt: string, length = 48): string {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}
