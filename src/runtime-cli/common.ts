/** What berth-runtime's commands share: options, the runtime, the container records, errors. */
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot, silentLogger } from '../common/index.ts';
import type { RuntimeSpec } from '../oci/index.ts';
import { createCgroupManager, Runtime } from '../runtime/index.ts';
import type { OptionDef, Parsed } from './args.ts';

/** The OCI runtime spec version we implement (as `runc state` reports its own). */
export const OCI_VERSION = '1.0.2-dev';
export const ID_RE = /^[\w+.-]+$/;

export class CliError extends Error {}

export interface Globals {
  root: string;
  /** --criu: the CRIU binary checkpoint/restore would use. */
  criu: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
}

export function log(g: Globals, level: 'error' | 'warning' | 'debug' | 'info', msg: string): void {
  if (level === 'debug' && !g.debug) return;
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const line =
    g.logFormat === 'json'
      ? `${JSON.stringify({ level, msg, time })}\n`
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
  if (g.log) appendFileSync(g.log, line);
  else process.stderr.write(line);
}

export interface Command {
  options: OptionDef[];
  run(g: Globals, p: Parsed): Promise<number>;
}

export const cgroups = createCgroupManager({ log: silentLogger() });
export const runtime = new Runtime({
  shimPath: process.env.BERTH_SHIM ?? join(packageRoot(), 'native', 'build', 'berth-shim'),
  cgroups,
  log: silentLogger(),
});

export function oneId(p: Parsed, command: string, more = false): string {
  const id = p.args[0];
  if (!id || (!more && p.args.length > 1)) throw new CliError(`"${command}" requires exactly 1 argument(s)`);
  return id;
}

export function checkId(id: string): void {
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new CliError(`invalid container id format: ${id}`);
}

export async function loadRecord(g: Globals, id: string): Promise<ContainerRecord> {
  checkId(id);
  try {
    return JSON.parse(await readFile(join(g.root, id, 'state.json'), 'utf8')) as ContainerRecord;
  } catch {
    throw new CliError('container does not exist');
  }
}

export async function loadSpec(bundle: string): Promise<RuntimeSpec> {
  const path = join(bundle, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`JSON specification file ${path} not found`);
  }
  try {
    return JSON.parse(text) as RuntimeSpec;
  } catch (err) {
    throw new CliError(`invalid JSON in ${path}: ${(err as Error).message}`);
  }
}

export type Status = 'created' | 'running' | 'paused' | 'stopped';

export async function statusOf(g: Globals, id: string): Promise<{ status: Status; pid: number }> {
  const dir = join(g.root, id);
  const s = await runtime.state(dir);
  if (s.status === 'created' || s.status === 'running') {
    // A frozen cgroup is "paused", also before start (runc pauses created containers too).
    const paused = await runtime.paused(dir).catch(() => false);
    return { status: paused ? 'paused' : s.status, pid: s.pid };
  }
  return { status: 'stopped', pid: 0 };
}
