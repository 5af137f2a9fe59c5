/**
 * How much of a budget is spent, as a meter the browser colours: past 70 % of the budget it
 * warns, past 90 % it alarms.
 */
export function BudgetMeter({
  spentUsd,
  budgetUsd,
  label,
}: {
  spentUsd: number;
  budgetUsd: number;
  label: string;
}) {
  return (
    <meter
      min={0}
      max={budgetUsd}
      low={budgetUsd * 0.7}
      high={budgetUsd * 0.9}
      optimum={0}
      value={Math.min(spentUsd, budgetUsd)}
      aria-label={label}
    />
  );
}
