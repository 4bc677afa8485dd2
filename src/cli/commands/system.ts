/** `berth version`, `info`, `events` (docker/cli system/version.go, info.go, events.go). */
import type { EventMessage, SystemInfo, SystemVersion } from '../../api/types/index.ts';
import { API_VERSION_CURRENT, BERTH_VERSION } from '../../api/types/version.ts';
import type { CliContext } from '../context.ts';
import { ExitError } from '../errors.ts';
import { renderObject } from '../output.ts';
import { bytesSize, toApiTimestamp } from '../units.ts';
import { gitCommit } from '../version-line.ts';
import { parseFilters } from './ps.ts';

type Opts = Record<string, unknown>;

function clientInfo(apiVersion: string) {
  return {
    Platform: { Name: 'berth' },
    Version: BERTH_VERSION,
    ApiVersion: apiVersion,
    DefaultAPIVersion: API_VERSION_CURRENT,
    GitCommit: gitCommit() ?? 'dev',
    GoVersion: process.version,
    Os: process.platform,
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    BuildTime: '',
    Context: 'default',
  };
}

/** docker's default version template, written out. */
export function formatVersion(
  client: ReturnType<typeof clientInfo>,
  server: SystemVersion | undefined,
): string {
  const lines = [
    `Client: ${client.Platform.Name}`,
    ` Version:           ${client.Version}`,
    ` API version:       ${client.ApiVersion}${client.ApiVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : ''}`,
    ` Node version:      ${client.GoVersion}`,
    ` Git commit:        ${client.GitCommit}`,
    ` OS/Arch:           ${client.Os}/${client.Arch}`,
    ` Context:           ${client.Context}`,
  ];
  if (server) {
    lines.push('', `Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`);
    const components = server.Components?.length
      ? server.Components
      : [{ Name: 'Engine', Version: server.Version, Details: {} as Record<string, string> }];
    for (const c of components) {
      lines.push(` ${c.Name}:`);
      if (c.Name === 'Engine') {
        const d = { ...c.Details };
        const get = (k: keyof SystemVersion) => d[k] ?? String(server[k] ?? '');
        lines.push(
          `  Version:          ${c.Version}`,
          `  API version:      ${get('ApiVersion')} (minimum version ${get('MinAPIVersion')})`,
          `  Go version:       ${get('GoVersion')}`,
          `  Git commit:       ${get('GitCommit')}`,
          `  Built:            ${get('BuildTime')}`,
          `  OS/Arch:          ${get('Os')}/${get('Arch')}`,
          `  Experimental:     ${d.Experimental ?? String(server.Experimental ?? false)}`,
        );
      } else {
        lines.push(`  Version:          ${c.Version}`);
        for (const [k, v] of Object.entries(c.Details ?? {}))
          lines.push(`  ${k}:${' '.repeat(Math.max(1, 17 - k.length))}${v}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function versionCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const client = await ctx.client();
  let server: SystemVersion | undefined;
  let serverError: unknown;
  let apiVersion = API_VERSION_CURRENT;
  try {
    apiVersion = await client.apiVersion();
    server = await client.version();
  } catch (err) {
    serverError = err;
  }
  const info = clientInfo(apiVersion);
  const format = opts.format as string | undefined;
  if (format) {
    ctx.io.stdout.write(await renderObject(format, { Client: info, Server: server ?? null }));
  } else {
    ctx.io.stdout.write(formatVersion(info, server));
  }
  if (serverError) throw serverError;
  return 0;
}

/** docker's `info` text for the server part (the fields berth reports). */
export function formatInfo(i: SystemInfo, debug: boolean): string {
  const l: string[] = [];
  const add = (s: string) => l.push(s);
  add('Client:');
  add(` Version:    ${BERTH_VERSION}`);
  add(' Context:    default');
  add(` Debug Mode: ${debug}`);
  add('');
  add('Server:');
  add(` Containers: ${i.Containers}`);
  add(`  Running: ${i.ContainersRunning}`);
  add(`  Paused: ${i.ContainersPaused}`);
  add(`  Stopped: ${i.ContainersStopped}`);
  add(` Images: ${i.Images}`);
  add(` Server Version: ${i.ServerVersion}`);
  add(` Storage Driver: ${i.Driver}`);
  for (const [k, v] of i.DriverStatus ?? []) add(`  ${k}: ${v}`);
  add(` Logging Driver: ${i.LoggingDriver}`);
  add(` Cgroup Driver: ${i.CgroupDriver}`);
  add(` Cgroup Version: ${i.CgroupVersion}`);
  if (i.Plugins) {
    add(' Plugins:');
    add(`  Volume: ${(i.Plugins.Volume ?? []).join(' ')}`);
    add(`  Network: ${(i.Plugins.Network ?? []).join(' ')}`);
    add(`  Log: ${(i.Plugins.Log ?? []).join(' ')}`);
  }
  add(` Swarm: ${i.Swarm?.LocalNodeState || 'inactive'}`);
  add(
    ` Runtimes: ${Object.keys(i.Runtimes ?? {})
      .sort()
      .join(' ')}`,
  );
  add(` Default Runtime: ${i.DefaultRuntime}`);
  add(` Init Binary: ${i.InitBinary}`);
  if (i.SecurityOptions?.length) {
    add(' Security Options:');
    for (const opt of i.SecurityOptions) {
      const parts = opt.split(',');
      for (const p of parts) {
        const [k, v] = p.split('=');
        if (k === 'name') add(`  ${v}`);
        else if (k && v !== undefined) add(`   ${k.charAt(0).toUpperCase()}${k.slice(1)}: ${v}`);
      }
    }
  }
  add(` Kernel Version: ${i.KernelVersion}`);
  add(` Operating System: ${i.OperatingSystem}`);
  add(` OSType: ${i.OSType}`);
  add(` Architecture: ${i.Architecture}`);
  add(` CPUs: ${i.NCPU}`);
  add(` Total Memory: ${bytesSize(i.MemTotal)}`);
  add(` Name: ${i.Name}`);
  add(` ID: ${i.ID}`);
  add(` Docker Root Dir: ${i.DockerRootDir}`);
  add(` Debug Mode: ${i.Debug}`);
  add(` Experimental: ${i.ExperimentalBuild}`);
  const insecure = i.RegistryConfig?.InsecureRegistryCIDRs ?? [];
  if (insecure.length) {
    add(' Insecure Registries:');
    for (const r of insecure) add(`  ${r}`);
  }
  add(` Live Restore Enabled: ${i.LiveRestoreEnabled}`);
  return `${l.join('\n')}\n`;
}

export async function infoCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const client = await ctx.client();
  const info = await client.info();
  const format = opts.format as string | undefined;
  if (format) {
    ctx.io.stdout.write(
      await renderObject(format, {
        ...info,
        ClientInfo: { Version: BERTH_VERSION, Context: 'default', Debug: !!ctx.globals.debug },
      }),
    );
    return 0;
  }
  ctx.io.stdout.write(formatInfo(info, !!ctx.globals.debug));
  for (const w of info.Warnings ?? []) ctx.err(w);
  return 0;
}

/** jsonmessage.RFC3339NanoFixed in local time: `2006-01-02T15:04:05.000000000Z07:00`. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const nanos = String(timeNano % 1_000_000_000n).padStart(9, '0');
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${nanos}${zone}`;
}

/** events.go prettyPrintEvent. */
export function formatEvent(e: EventMessage): string {
  let out = '';
  if (e.timeNano) out += `${rfc3339NanoFixed(BigInt(e.timeNano))} `;
  else if (e.time) out += `${rfc3339NanoFixed(BigInt(e.time) * 1_000_000_000n)} `;
  out += `${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) out += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return `${out}\n`;
}

export async function eventsCommand(ctx: CliContext, opts: Opts): Promise<number> {
  const stamp = (v: unknown) => {
    if (typeof v !== 'string' || v === '') return undefined;
    try {
      return toApiTimestamp(v);
    } catch (err) {
      throw new ExitError(1, `Error: ${(err as Error).message}`);
    }
  };
  const client = await ctx.client();
  const format = opts.format as string | undefined;
  const events = client.events({
    since: stamp(opts.since),
    until: stamp(opts.until),
    filters: parseFilters(opts.filter as string[] | undefined),
  });
  for await (const e of events) {
    ctx.io.stdout.write(format ? await renderObject(format, e) : formatEvent(e));
  }
  return 0;
}
