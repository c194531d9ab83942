// An order's timeline: its events and the steps of its sagas in time order, as data and as a Mermaid Gantt
// chart (a picture of where the time went and what was undone).

export interface TimelineEvent {
  type: string;
  at: Date;
}

export interface TimelineStep {
  saga: string;
  step: string;
  direction: 'forward' | 'compensation';
  status: string;
  attempts: number;
  error?: string;
  startedAt: Date;
  finishedAt?: Date;
}

export type TimelineEntry =
  | { kind: 'event'; at: string; name: string }
  | {
      kind: 'step';
      at: string;
      name: string;
      saga: string;
      direction: 'forward' | 'compensation';
      status: string;
      attempts: number;
      durationMs?: number;
      error?: string;
    };

export function orderTimeline(
  events: readonly TimelineEvent[],
  steps: readonly TimelineStep[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...events.map((event) => ({ kind: 'event' as const, at: event.at.toISOString(), name: event.type })),
    ...steps.map((step) => ({
      kind: 'step' as const,
      at: step.startedAt.toISOString(),
      name: step.direction === 'compensation' ? `undo ${step.step}` : step.step,
      saga: step.saga,
      direction: step.direction,
      status: step.status,
      attempts: step.attempts,
      ...(step.finishedAt ? { durationMs: step.finishedAt.getTime() - step.startedAt.getTime() } : {}),
      ...(step.error === undefined ? {} : { error: step.error }),
    })),
  ];
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}

/** Mermaid `gantt` source: one section per saga, events as milestones; times relative to the first entry. */
export function timelineGantt(orderId: string, entries: readonly TimelineEntry[]): string {
  const origin = entries.length > 0 ? Date.parse(entries[0]!.at) : 0;
  const ms = (at: string) => Date.parse(at) - origin;
  const label = (text: string) => text.replace(/[:;#]/g, ' ');
  const lines = ['gantt', `  title Order ${orderId.slice(0, 8)}`, '  dateFormat x', '  axisFormat %S.%L s'];
  lines.push('  section order');
  for (const entry of entries.filter((e) => e.kind === 'event')) {
    lines.push(`  ${label(entry.name)} :milestone, ${ms(entry.at)}, 0ms`);
  }
  const sagas = [...new Set(entries.flatMap((e) => (e.kind === 'step' ? [e.saga] : [])))];
  for (const saga of sagas) {
    lines.push(`  section ${label(saga)}`);
    for (const entry of entries) {
      if (entry.kind !== 'step' || entry.saga !== saga) continue;
      const tag = entry.status === 'SUCCEEDED' ? 'done' : entry.status === 'STARTED' ? 'active' : 'crit';
      const attempts = entry.attempts > 1 ? ` ×${entry.attempts}` : '';
      lines.push(
        `  ${label(entry.name)}${attempts} :${tag}, ${ms(entry.at)}, ${Math.max(1, entry.durationMs ?? 1)}ms`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
