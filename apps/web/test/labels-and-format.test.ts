import { describe, expect, it } from 'vitest';
import { formatClock, formatDuration, formatUsd } from '../src/ui/format.ts';
import { aspectRatio, enumLabel, modelLabel, sizeLabel } from '../src/ui/labels.ts';

describe('labels', () => {
  it('reads enum values as words, including values added later', () => {
    expect(modelLabel('Z_IMAGE_TURBO')).toBe('Turbo');
    expect(modelLabel('Z_IMAGE_EDIT_PRO')).toBe('Edit pro');
    expect(enumLabel('ULTRA_FAST')).toBe('Ultra fast');
    expect(enumLabel('CANCELLED')).toBe('Cancelled');
    expect(sizeLabel('LANDSCAPE_16_9')).toBe('Landscape 16:9');
    expect(aspectRatio('PORTRAIT_3_4')).toEqual({
      name: 'Portrait',
      ratio: '3:4',
      width: 3,
      height: 4,
    });
    expect(sizeLabel('PANORAMA')).toBe('Panorama');
  });
});

describe('format', () => {
  it('shows prices to the tenth of a cent', () => {
    expect(formatUsd(0.008)).toBe('$0.008');
    expect(formatUsd(0.03)).toBe('$0.03');
    expect(formatUsd(5)).toBe('$5.00');
  });

  it('shows durations at a useful precision', () => {
    expect(formatDuration(900)).toBe('0.9 s');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(65_000)).toBe('1 min 05 s');
    expect(formatClock(92_500)).toBe('1:32');
  });
});
