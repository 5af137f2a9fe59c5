/**
 * Spend per day as stacked bars, one colour per model: a small SVG drawn here (no chart
 * library). The picture is one labelled image for screen readers, summarised in its label;
 * the figures themselves are in the table under it.
 */
import { useEffect, useRef, useState } from 'react';
import type { Model } from '../../graphql/operations.ts';
import { formatUsd } from '../../ui/format.ts';
import { modelLabel } from '../../ui/labels.ts';
import { usdOfMicro } from '../../ui/money.ts';
import type { DaySpend } from './usage-report.ts';

/** Until the figure is measured (and in jsdom, which has no layout). */
const DEFAULT_WIDTH = 600;
const HEIGHT = 220;
const PLOT = { left: 64, right: 8, top: 12, bottom: 30 };

const dayFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
export const formatDay = (day: string) => dayFormat.format(new Date(`${day}T00:00:00Z`));

/**
 * A round top for the axis (1, 2 or 5 times a power of ten, at least the highest day) and the
 * number of grid steps that keeps each step round too (0.2, 0.5 or 1 of that power).
 */
export function axisOf(highest: number): { maxMicroUsd: number; steps: number } {
  if (highest <= 0) return { maxMicroUsd: 10_000, steps: 5 };
  const power = 10 ** Math.floor(Math.log10(highest));
  const factor = [1, 2, 5, 10].find((candidate) => candidate * power >= highest) ?? 10;
  return { maxMicroUsd: factor * power, steps: factor === 2 ? 4 : 5 };
}

/** The element's width in CSS pixels, so the chart draws at its real size (text stays 13 px). */
function useWidth<T extends Element>() {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = entry?.contentRect.width ?? 0;
      if (measured > 0) setWidth(Math.round(measured));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

/** Every 7th day, counted back from the last one, carries its date on the axis. */
const labelled = (index: number, count: number) => (count - 1 - index) % 7 === 0;

export function UsageChart({
  days,
  models,
  label,
}: {
  days: readonly DaySpend[];
  models: readonly Model[];
  /** Whose spend this is, e.g. "the whole gateway". */
  label: string;
}) {
  const [figureRef, width] = useWidth<HTMLDivElement>();
  const highest = Math.max(0, ...days.map((day) => day.totalMicroUsd));
  const { maxMicroUsd: axisMax, steps } = axisOf(highest);
  const plotWidth = width - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const slot = plotWidth / Math.max(1, days.length);
  const barWidth = Math.max(2, slot * 0.7);
  const y = (micro: number) => PLOT.top + plotHeight - (micro / axisMax) * plotHeight;
  const total = days.reduce((sum, day) => sum + day.totalMicroUsd, 0);
  const peak = days.find((day) => day.totalMicroUsd === highest && highest > 0);
  const summary =
    `Spend per day of ${label}, last ${days.length} days: ${formatUsd(usdOfMicro(total))} in all` +
    (peak ? `, highest ${formatUsd(usdOfMicro(highest))} on ${formatDay(peak.day)}.` : '.');

  return (
    <div ref={figureRef} className="usage-chart">
      <ul className="chart-legend" aria-label="Models">
        {models.map((model, index) => (
          <li key={model}>
            <span className={`swatch series-${index}`} aria-hidden="true" />
            {modelLabel(model)}
          </li>
        ))}
      </ul>
      <svg
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label={summary}
      >
        {Array.from({ length: steps + 1 }, (_, index) => {
          const micro = (axisMax / steps) * index;
          return (
            <g key={micro} className="chart-grid">
              <line x1={PLOT.left} x2={width - PLOT.right} y1={y(micro)} y2={y(micro)} />
              <text x={PLOT.left - 6} y={y(micro)} dy="0.32em" textAnchor="end">
                {formatUsd(usdOfMicro(micro))}
              </text>
            </g>
          );
        })}
        {days.map((day, index) => {
          const x = PLOT.left + index * slot + (slot - barWidth) / 2;
          let stacked = 0;
          return (
            <g key={day.day}>
              <title>
                {`${formatDay(day.day)}: ${formatUsd(usdOfMicro(day.totalMicroUsd))}${models
                  .map(
                    (model, at) =>
                      ` · ${modelLabel(model)} ${formatUsd(usdOfMicro(day.byModel[at] ?? 0))}`,
                  )
                  .join('')}`}
              </title>
              {/* An invisible full-height bar, so hovering a quiet day still shows its title. */}
              <rect className="chart-hit" x={x} width={barWidth} y={PLOT.top} height={plotHeight} />
              {day.byModel.map((micro, at) => {
                if (micro <= 0) return null;
                const top = y(stacked + micro);
                const bottom = y(stacked);
                stacked += micro;
                return (
                  <rect
                    key={models[at]}
                    className={`series-${at}`}
                    x={x}
                    width={barWidth}
                    y={top}
                    height={Math.max(1, bottom - top)}
                  />
                );
              })}
              {labelled(index, days.length) && (
                <text className="chart-day" x={x + barWidth / 2} y={HEIGHT - 8} textAnchor="middle">
                  {formatDay(day.day)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
