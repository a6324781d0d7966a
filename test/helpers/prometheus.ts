/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): it throws, naming
 * the line, on anything a Prometheus server would refuse or misread (bad names, labels or
 * values, a family split in two, a repeated series, a histogram whose buckets do not add up).
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

/** As Prometheus reads values (Go's ParseFloat): Inf and NaN in any case; prom-client writes "Nan". */
function parseValue(raw: string, where: string): number {
  if (/^nan$/i.test(raw)) return NaN;
  const infinite = /^([-+]?)inf(inity)?$/i.exec(raw);
  if (infinite) return infinite[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`${where}: "${raw}" is not a number`);
  return Number(raw);
}

function parseLabels(raw: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /\s*([^=\s]+)\s*=\s*"((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)/y;
  while (pair.lastIndex < raw.length) {
    const at = pair.lastIndex;
    const match = pair.exec(raw);
    if (!match || match.index !== at) throw new Error(`${where}: malformed labels {${raw}}`);
    const [, name, escaped, comma] = match;
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${where}: bad label name ${name}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = escaped.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    if (comma === '' && pair.lastIndex < raw.length) throw new Error(`${where}: malformed labels {${raw}}`);
  }
  return labels;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = seriesKey('', rest);
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([parseValue(le, family.name), sample.value]);
    } else if (sample.name.endsWith('_count')) group.count = sample.value;
    else group.sum = sample.value;
  }
  for (const [key, group] of groups) {
    const sorted = [...group.buckets].sort(([a], [b]) => a - b);
    sorted.forEach(([, count], i) => {
      if (i > 0 && count < sorted[i - 1][1]) throw new Error(`${family.name}${key}: bucket counts decrease`);
    });
    const last = sorted[sorted.length - 1];
    if (!last || last[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (group.count !== last[1] || group.sum === undefined) throw new Error(`${family.name}${key}: _count differs from the +Inf bucket, or _sum is missing`);
  }
}

export class Exposition {
  constructor(readonly families: ReadonlyMap<string, Family>) {}

  /** Samples named `name` whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    return [...this.families.values()]
      .flatMap((family) => family.samples)
      .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  }

  /** The sum of those samples: 0 when there are none (a counter or histogram not yet touched). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((total, sample) => total + sample.value, 0);
  }
}

export function parsePrometheus(text: string): Exposition {
  const families = new Map<string, Family>();
  const types = new Map<string, Family['type']>();
  const series = new Set<string>();
  let current: Family | null = null;

  const familyOf = (sampleName: string): string => {
    for (const [name, type] of types) {
      if (sampleName === name && !SUFFIXES[type]) return name;
      if ((SUFFIXES[type] ?? []).some((suffix) => sampleName === `${name}${suffix}`)) return name;
    }
    return sampleName;
  };

  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!meta) return; // a plain comment
      const [, keyword, name, rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if (types.has(name) || families.has(name)) throw new Error(`${where}: TYPE for ${name} after its samples or twice`);
        types.set(name, rest as Family['type']);
      }
      return;
    }
    const sample = /^([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
    if (!sample) throw new Error(`${where}: not a sample: ${line}`);
    const [, name, rawLabels = '', rawValue] = sample;
    if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
    const labels = parseLabels(rawLabels, where);
    const value = parseValue(rawValue, where);
    const key = seriesKey(name, labels);
    if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
    series.add(key);
    const familyName = familyOf(name);
    if (current?.name !== familyName) {
      if (families.has(familyName)) throw new Error(`${where}: the samples of ${familyName} are not together`);
      current = { name: familyName, type: types.get(familyName) ?? 'untyped', samples: [] };
      families.set(familyName, current);
    }
    if (current.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${rawValue}`);
    current.samples.push({ name, labels, value });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return new Exposition(families);
}
