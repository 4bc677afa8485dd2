/**
 * berth-runtime's resource commands: update, events, features, and checkpoint/restore (refused).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { LinuxResources } from '../oci/index.ts';
import { UsageError } from './args.ts';
import {
  CliError,
  type Command,
  cgroups,
  checkId,
  type Globals,
  loadRecord,
  log,
  OCI_VERSION,
  oneId,
  runtime,
  statusOf,
} from './common.ts';
import { encodeEvent, oomKills, parseDuration, runcStats } from './events.ts';
import { features } from './features.ts';
import { resourcesFromFlags, resourcesFromJson, UPDATE_OPTIONS } from './update.ts';

/** The container's cgroup.procs files (its cgroup as create made it). */
async function procsFiles(g: Globals, id: string): Promise<string[]> {
  const rec = JSON.parse(await readFile(join(g.root, id, 'runtime.json'), 'utf8')) as { cgroupsPath: string };
  return cgroups.open(rec.cgroupsPath).procsFiles();
}

/**
 * CRIU as runc looks for it before a checkpoint or restore: missing, runc's error; present,
 * berth-runtime still refuses, as its containers cannot be handed to CRIU.
 */
function refuseCriu(g: Globals, command: 'checkpoint' | 'restore'): never {
  const path = g.criu.includes('/') ? (existsSync(g.criu) ? g.criu : undefined) : lookPath(g.criu);
  if (!path)
    throw new CliError(
      g.criu.includes('/')
        ? `CRIU version check failed: fork/exec ${g.criu}: no such file or directory`
        : `CRIU version check failed: exec: ${JSON.stringify(g.criu)}: executable file not found in $PATH`,
    );
  throw new CliError(
    `${command} is not supported by berth-runtime: its containers cannot be checkpointed or restored with CRIU (${path})`,
  );
}

function lookPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export const RESOURCE_COMMANDS: Record<string, Command> = {
  update: {
    options: UPDATE_OPTIONS,
    async run(g, p) {
      const id = oneId(p, 'update');
      await loadRecord(g, id);
      const { status } = await statusOf(g, id);
      if (status === 'stopped') throw new CliError('container not running');
      const file = p.strings.get('resources');
      let resources: LinuxResources;
      if (file) {
        let text: string;
        try {
          text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
        } catch (err) {
          throw new CliError(
            `open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`,
          );
        }
        resources = resourcesFromJson(text);
      } else {
        for (const opt of ['l3-cache-schema', 'mem-bw-schema'] as const) {
          if (!p.strings.get(opt)) continue;
          throw new CliError(
            existsSync('/sys/fs/resctrl/schemata')
              ? `--${opt} is not supported by berth-runtime (no Intel RDT)`
              : opt === 'l3-cache-schema'
                ? 'Intel RDT/CAT: l3 cache schema is not enabled'
                : 'Intel RDT/MBA: memory bandwidth schema is not enabled',
          );
        }
        resources = resourcesFromFlags(p, (msg) => log(g, 'warning', msg));
      }
      await runtime.update(join(g.root, id), resources);
      return 0;
    },
  },
  events: {
    options: [
      { name: 'interval', kind: 'string' },
      { name: 'stats', kind: 'bool' },
    ],
    async run(g, p) {
      const id = oneId(p, 'events');
      await loadRecord(g, id);
      let interval: number;
      try {
        interval = parseDuration(p.strings.get('interval') ?? '5s');
      } catch {
        throw new UsageError(
          `invalid value ${JSON.stringify(p.strings.get('interval'))} for flag -interval: parse error`,
        );
      }
      if (interval <= 0) throw new CliError('duration interval must be greater than 0');
      const { status } = await statusOf(g, id);
      if (status === 'stopped') throw new CliError(`container with id ${id} is not running`);
      const files = await procsFiles(g, id);
      const stats = async () =>
        encodeEvent({ type: 'stats', id, data: await runcStats(files, cgroups.version) });
      if (p.bools.has('stats')) {
        process.stdout.write(await stats());
        return 0;
      }
      // Stats every interval; an OOM kill is reported as it is seen (checked every 200 ms).
      let kills = await oomKills(files, cgroups.version).catch(() => 0n);
      const oomTimer = setInterval(() => {
        void oomKills(files, cgroups.version)
          .then((n) => {
            if (n > kills) process.stdout.write(encodeEvent({ type: 'oom', id }));
            kills = n;
          })
          .catch(() => {});
      }, 200);
      const statsTimer = setInterval(() => {
        void stats().then(
          (line) => process.stdout.write(line),
          (err: unknown) => log(g, 'error', (err as Error).message),
        );
      }, interval);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        process.stdout.once('error', stop);
      });
      clearInterval(oomTimer);
      clearInterval(statsTimer);
      return 0;
    },
  },
  features: {
    options: [],
    async run(_g, p) {
      if (p.args.length > 0) throw new CliError('"features" requires exactly 0 argument(s)');
      process.stdout.write(`${JSON.stringify(features('0.1.0', OCI_VERSION), null, '    ')}\n`);
      return 0;
    },
  },
  checkpoint: {
    options: [
      { name: 'image-path', kind: 'string' },
      { name: 'work-path', kind: 'string' },
      { name: 'parent-path', kind: 'string' },
      { name: 'leave-running', kind: 'bool' },
      { name: 'tcp-established', kind: 'bool' },
      { name: 'ext-unix-sk', kind: 'bool' },
      { name: 'shell-job', kind: 'bool' },
      { name: 'lazy-pages', kind: 'bool' },
      { name: 'status-fd', kind: 'string' },
      { name: 'page-server', kind: 'string' },
      { name: 'file-locks', kind: 'bool' },
      { name: 'pre-dump', kind: 'bool' },
      { name: 'manage-cgroups-mode', kind: 'string' },
      { name: 'empty-ns', kind: 'list' },
      { name: 'auto-dedup', kind: 'bool' },
    ],
    async run(g, p) {
      const id = oneId(p, 'checkpoint');
      await loadRecord(g, id);
      const { status } = await statusOf(g, id);
      if (status === 'stopped') throw new CliError('Container cannot be checkpointed in stopped state');
      refuseCriu(g, 'checkpoint');
    },
  },
  restore: {
    options: [
      { name: 'console-socket', kind: 'string' },
      { name: 'image-path', kind: 'string' },
      { name: 'work-path', kind: 'string' },
      { name: 'tcp-established', kind: 'bool' },
      { name: 'ext-unix-sk', kind: 'bool' },
      { name: 'shell-job', kind: 'bool' },
      { name: 'file-locks', kind: 'bool' },
      { name: 'manage-cgroups-mode', kind: 'string' },
      { name: 'bundle', alias: 'b', kind: 'string' },
      { name: 'detach', alias: 'd', kind: 'bool' },
      { name: 'pid-file', kind: 'string' },
      { name: 'no-subreaper', kind: 'bool' },
      { name: 'no-pivot', kind: 'bool' },
      { name: 'empty-ns', kind: 'list' },
      { name: 'auto-dedup', kind: 'bool' },
      { name: 'lazy-pages', kind: 'bool' },
      { name: 'lsm-profile', kind: 'string' },
      { name: 'lsm-mount-context', kind: 'string' },
    ],
    async run(g, p) {
      const id = oneId(p, 'restore');
      checkId(id);
      const bundle = resolve(p.strings.get('bundle') ?? '.');
      if (!existsSync(join(bundle, 'config.json')))
        throw new CliError('JSON specification file config.json not found');
      refuseCriu(g, 'restore');
    },
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
