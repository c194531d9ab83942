// Turns the services' JSON log lines into one readable line each, prefixed with the service's name.
const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const COLORS = [36, 35, 33, 32, 34, 91, 96];
const LEVEL_COLORS: Record<string, number> = { warn: 33, error: 31, fatal: 31 };
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'service', 'name', 'msg']);

export function createLineFormatter(color: boolean) {
  const width = 13;
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const colorOf = new Map<string, number>();

  return (source: string, line: string): string => {
    if (!colorOf.has(source)) colorOf.set(source, COLORS[colorOf.size % COLORS.length] ?? 36);
    const prefix = paint(colorOf.get(source) ?? 36, source.padEnd(width).slice(0, width));
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return `${prefix} ${line}`;
    }
    if (typeof record !== 'object' || record === null) return `${prefix} ${line}`;
    const level = LEVELS[Number(record.level)] ?? formatValue(record.level ?? 'info');
    const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
    const details = Object.entries(record)
      .filter(([key]) => !OMITTED.has(key))
      .map(([key, value]) => `${key}=${formatValue(value)}`)
      .join(' ');
    const levelText = LEVEL_COLORS[level]
      ? paint(LEVEL_COLORS[level], level.toUpperCase())
      : level.toUpperCase();
    return `${prefix} ${time} ${levelText} ${typeof record.msg === 'string' ? record.msg : ''}${details ? ` ${paint(90, details)}` : ''}`;
  };
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object' && 'stack' in value && typeof value.stack === 'string') {
    return `\n${value.stack}`;
  }
  return JSON.stringify(value);
}
