/**
 * Keeps a running api's FlowCatalog in step with its flows directory, without a restart: a new
 * or changed file serves within one scan (every second by default), a removed one stops
 * serving. Every replica scans on its own, so nothing has to tell them. It polls (a `stat` per
 * file) rather than relying on fs.watch, which misses changes on network and container volumes.
 *
 * A file that is not a valid flow is reported once per content, with every problem, and
 * skipped: the other flows keep serving, and a flow whose file became invalid keeps serving its
 * last valid version until the file is fixed or removed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FlowCatalog, FlowLoadError, parseFlowFile, type FlowFileFailure } from './catalog';
import type { FlowFile } from './core/types';

/** What the watcher reports; the api passes its logger. */
export interface FlowWatchLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

interface FileState {
  /** mtime and size: a changed file is read again. */
  stamp: string;
  /** The last valid version of this file's flow, served while the file is invalid. */
  valid?: FlowFile;
  /** The problems of the file's current content, when it is not a valid flow. */
  problems?: string[];
}

export const DEFAULT_FLOW_SCAN_INTERVAL_MS = 1_000;

export class FlowWatcher {
  private readonly files = new Map<string, FileState>();
  private timer: NodeJS.Timeout | null = null;
  private unreadableReported = false;
  /** Reports made before a logger was attached, handed to it on attachLog. */
  private readonly held: Array<{ level: 'info' | 'error'; fields: object; message: string }> = [];
  private readonly log: FlowWatchLog = {
    info: (fields, message) => (this.target ? this.target.info(fields, message) : this.held.push({ level: 'info', fields, message })),
    error: (fields, message) => (this.target ? this.target.error(fields, message) : this.held.push({ level: 'error', fields, message })),
  };

  constructor(
    private readonly dir: string,
    readonly catalog: FlowCatalog,
    private target?: FlowWatchLog,
  ) {}

  /** Where reports go from now on; the ones made before (the first scan at start) go there first. */
  attachLog(log: FlowWatchLog): void {
    this.target = log;
    for (const { level, fields, message } of this.held.splice(0)) log[level](fields, message);
  }

  /** Reads the directory now; throws FlowLoadError only when the directory itself cannot be read. */
  scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((name) => name.endsWith('.json'));
    } catch {
      throw new FlowLoadError(this.dir, ['the flows directory cannot be read']);
    }
    let changed = false;
    for (const name of [...this.files.keys()]) {
      if (names.includes(name)) continue;
      this.files.delete(name);
      changed = true;
      this.log.info({ file: name }, 'flow file removed: its flow no longer starts sessions');
    }
    for (const name of names.sort()) changed = this.scanFile(name) || changed;
    if (!changed) return;
    const flows = new Map<string, FlowFile>();
    const failures: FlowFileFailure[] = [];
    for (const [file, state] of this.files) {
      if (state.valid) flows.set(state.valid.id, state.valid);
      if (state.problems) failures.push({ file, problems: state.problems, servesEarlierVersion: state.valid !== undefined });
    }
    this.catalog.replace(flows, failures);
  }

  /** Scans every `intervalMs` until stop(); a directory that becomes unreadable is reported once and the catalog kept. */
  start(intervalMs = DEFAULT_FLOW_SCAN_INTERVAL_MS): void {
    this.timer = setInterval(() => {
      try {
        this.scan();
        this.unreadableReported = false;
      } catch (err) {
        if (!this.unreadableReported) this.log.error({ dir: this.dir, err }, 'flows directory cannot be read; the flows loaded before keep serving');
        this.unreadableReported = true;
      }
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** True when the file's flow or its problems changed. */
  private scanFile(name: string): boolean {
    const path = join(this.dir, name);
    let stamp: string;
    let text: string;
    try {
      const stat = statSync(path);
      stamp = `${stat.mtimeMs}:${stat.size}`;
      if (this.files.get(name)?.stamp === stamp) return false;
      text = readFileSync(path, 'utf8');
    } catch {
      return false; // removed between listing and reading: the next scan sees it gone
    }
    const state: FileState = this.files.get(name) ?? { stamp };
    state.stamp = stamp;
    this.files.set(name, state);
    const parsed = parseFlowFile(name, text);
    if (parsed.ok) {
      const before = state.valid;
      state.valid = parsed.flow;
      state.problems = undefined;
      this.log.info({ file: name, flow: parsed.flow.id }, before ? 'flow file changed: new sessions use it' : 'flow file loaded');
      return true;
    }
    if (state.problems?.join('\n') === parsed.problems.join('\n')) return false;
    state.problems = parsed.problems;
    this.log.error(
      { file: name, problems: parsed.problems },
      state.valid ? 'flow file skipped: it is not a valid flow; its last valid version keeps serving' : 'flow file skipped: it is not a valid flow',
    );
    return true;
  }
}
