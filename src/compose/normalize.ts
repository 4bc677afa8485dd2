/**
 * Short syntax -> long syntax, per compose-spec (and as `docker compose config` prints it):
 * environment/labels lists become maps, ports and volumes become their long form, depends_on and
 * networks lists become maps, build strings become `{context}`, string commands are split like a
 * POSIX shell would. Applied to each file before merging, so merges compare like with like.
 */
import { isAbsolute, posix, resolve } from 'node:path';
import { invalidParameter } from '../common/errors.ts';
import type { DependsOn, PortConfig, ServiceVolume } from './model.ts';

type Obj = Record<string, unknown>;

/** Splits a command string as a POSIX shell would (quotes and backslashes, no expansion). */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1] as string)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (quote)
    throw invalidParameter(`invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
  if (has || cur) out.push(cur);
  return out;
}

/** `["A=1", "B"]` or `{A: 1}` -> `{A: "1", B: null}` (null: taken from the environment later). */
export function toMap(v: unknown, sep = '='): Record<string, string | null> {
  if (v === undefined || v === null) return {};
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i < 0) out[s] = null;
      else out[s.slice(0, i)] = s.slice(i + 1);
    }
    return out;
  }
  for (const [k, val] of Object.entries(v as Obj)) out[k] = val === null ? null : scalar(val);
  return out;
}

function scalar(v: unknown): string {
  return typeof v === 'boolean' || typeof v === 'number' ? String(v) : (v as string);
}

/** Ports: "8080:80", "127.0.0.1:5000-5001:5000-5001/udp", 80, or the long form. */
export function parsePorts(list: unknown[]): PortConfig[] {
  const out: PortConfig[] = [];
  for (const p of list) {
    if (p && typeof p === 'object') {
      const o = p as Obj;
      out.push({
        mode: (o.mode as PortConfig['mode']) ?? 'ingress',
        ...(o.host_ip ? { host_ip: String(o.host_ip) } : {}),
        target: Number(o.target),
        ...(o.published !== undefined && o.published !== '' ? { published: String(o.published) } : {}),
        protocol: (o.protocol as PortConfig['protocol']) ?? 'tcp',
        ...(o.name ? { name: String(o.name) } : {}),
        ...(o.app_protocol ? { app_protocol: String(o.app_protocol) } : {}),
      });
      continue;
    }
    out.push(...parseShortPort(String(p)));
  }
  return out;
}

function parseShortPort(spec: string): PortConfig[] {
  let rest = spec;
  let protocol: PortConfig['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    protocol = rest.slice(slash + 1) as PortConfig['protocol'];
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  // [ip:]published:target, where ip may be a bracketed IPv6 address.
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(rest);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = (v6[2] as string).split(':');
  } else {
    parts = rest.split(':');
    if (parts.length === 3) hostIp = parts.shift();
  }
  if (parts.length > 2 || parts.some((x) => x !== '' && !/^\d+(-\d+)?$/.test(x)) || !parts.at(-1)) {
    throw invalidParameter(`Invalid port specification: ${JSON.stringify(spec)}`);
  }
  const target = parts.at(-1) as string;
  const published = parts.length === 2 ? parts[0] : undefined;
  const [t0, t1] = range(target);
  const out: PortConfig[] = [];
  const pubRange = published ? range(published) : undefined;
  for (let t = t0; t <= t1; t++) {
    let pub: string | undefined;
    if (pubRange) {
      pub = pubRange[0] === pubRange[1] || t1 === t0 ? published : String(pubRange[0] + (t - t0));
    }
    out.push({
      mode: 'ingress',
      ...(hostIp ? { host_ip: hostIp } : {}),
      target: t,
      ...(pub ? { published: pub } : {}),
      protocol,
    });
  }
  return out;
}

function range(s: string): [number, number] {
  const [a, b] = s.split('-');
  return [Number(a), Number(b ?? a)];
}

/** Volumes: "./src:/code:ro", "data:/var/lib", "/tmp" (anonymous), or the long form (compose-go format.ParseVolume). */
export function parseVolumes(list: unknown[], baseDir: string): ServiceVolume[] {
  return list.map((v) => {
    if (v && typeof v === 'object') {
      const o = { ...(v as Obj) } as unknown as ServiceVolume;
      if (o.type === 'bind' && o.source) o.source = resolvePath(baseDir, o.source);
      if (o.target) o.target = posix.normalize(o.target).replace(/(.)\/$/, '$1');
      return o;
    }
    return parseShortVolume(String(v), baseDir);
  });
}

function parseShortVolume(spec: string, baseDir: string): ServiceVolume {
  const parts = spec.split(':');
  if (parts.some((p) => p === ''))
    throw invalidParameter(`invalid spec: ${spec}: empty section between colons`);
  if (parts.length > 3) throw invalidParameter(`invalid spec: ${spec}: too many colons`);
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) target = spec;
  else [source, target, mode = ''] = parts as [string, string, string?];
  const vol: ServiceVolume = { type: 'volume', target: posix.normalize(target).replace(/(.)\/$/, '$1') };
  if (source) vol.source = source;
  for (const o of mode ? mode.split(',') : []) {
    if (o === 'ro') vol.read_only = true;
    else if (o === 'rw') vol.read_only = false;
    else if (o === 'nocopy') vol.volume = { nocopy: true };
    else if (/^r?(shared|slave|private)$/.test(o)) vol.bind = { ...vol.bind, propagation: o };
    else if (o === 'z' || o === 'Z') vol.bind = { ...vol.bind, selinux: o };
  }
  if (/^[./~]/.test(source)) {
    vol.type = 'bind';
    vol.source = resolvePath(baseDir, source);
    vol.bind = { ...vol.bind, create_host_path: true };
  } else {
    vol.volume ??= {};
  }
  if (vol.read_only === false) delete vol.read_only;
  return vol;
}

function resolvePath(baseDir: string, p: string): string {
  if (p.startsWith('~')) p = (process.env.HOME ?? '/root') + p.slice(1);
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** Normalises one file's service shapes in place. */
export function normalizeServiceShapes(svc: Obj, baseDir: string): Obj {
  const s: Obj = { ...svc };
  if (s.environment !== undefined) s.environment = toMap(s.environment);
  if (s.labels !== undefined) s.labels = labelMap(s.labels);
  if (s.annotations !== undefined) s.annotations = labelMap(s.annotations);
  for (const key of ['sysctls', 'storage_opt'] as const) {
    if (s[key] !== undefined) s[key] = labelMap(s[key]);
  }
  if (Array.isArray(s.devices)) {
    s.devices = s.devices.map((d) => {
      if (typeof d !== 'string') return d;
      const parts = d.split(':');
      if (parts.length > 3) throw invalidParameter(`confusing device mapping, please use long syntax: ${d}`);
      const [source, target, permissions = 'rwm'] = parts;
      return { source, target: target || source, permissions };
    });
  }
  if (s.pull_policy === 'if_not_present') s.pull_policy = 'missing';
  if (typeof s.extends === 'string') s.extends = { service: s.extends };
  for (const key of ['secrets', 'configs'] as const) {
    if (Array.isArray(s[key])) {
      s[key] = (s[key] as unknown[]).map((e) => {
        const ref: Obj = typeof e === 'string' ? { source: e } : { ...(e as Obj) };
        if (key === 'secrets' && ref.target === undefined) ref.target = `/run/secrets/${ref.source}`;
        if (typeof ref.mode === 'string') ref.mode = Number.parseInt(ref.mode, 8);
        return ref;
      });
    }
  }
  for (const key of ['dns', 'dns_search', 'tmpfs', 'label_file'] as const) {
    if (typeof s[key] === 'string') s[key] = [s[key]];
  }
  if (Array.isArray(s.label_file)) s.label_file = s.label_file.map((f) => resolvePath(baseDir, String(f)));
  if (typeof s.command === 'string') s.command = shellSplit(s.command);
  if (typeof s.entrypoint === 'string') s.entrypoint = shellSplit(s.entrypoint);
  if (Array.isArray(s.ports)) s.ports = parsePorts(s.ports);
  if (Array.isArray(s.expose)) s.expose = s.expose.map(String);
  if (Array.isArray(s.volumes)) s.volumes = parseVolumes(s.volumes, baseDir);
  if (typeof s.env_file === 'string') s.env_file = [s.env_file];
  if (Array.isArray(s.env_file)) {
    s.env_file = s.env_file.map((f) => {
      const e = typeof f === 'string' ? { path: f, required: true } : (f as Obj);
      return { ...e, path: resolvePath(baseDir, String(e.path)) };
    });
  }
  if (Array.isArray(s.networks)) s.networks = Object.fromEntries(s.networks.map((n) => [String(n), null]));
  if (Array.isArray(s.depends_on)) {
    s.depends_on = Object.fromEntries(
      s.depends_on.map((n) => [String(n), { condition: 'service_started', required: true } as DependsOn]),
    );
  } else if (s.depends_on && typeof s.depends_on === 'object') {
    s.depends_on = Object.fromEntries(
      Object.entries(s.depends_on as Obj).map(([k, v]) => {
        const o = (v ?? {}) as Obj;
        return [k, { condition: 'service_started', required: true, ...o } as DependsOn];
      }),
    );
  }
  if (typeof s.build === 'string') s.build = { context: s.build };
  if (s.build && typeof s.build === 'object') {
    const b = { ...(s.build as Obj) };
    b.context = resolvePath(baseDir, String(b.context ?? '.'));
    if (b.args !== undefined) b.args = toMap(b.args);
    if (b.labels !== undefined) b.labels = labelMap(b.labels);
    if (b.extra_hosts !== undefined) b.extra_hosts = hostsList(b.extra_hosts);
    if (b.dockerfile === undefined && b.dockerfile_inline === undefined) b.dockerfile = 'Dockerfile';
    s.build = b;
  }
  if (s.healthcheck && typeof s.healthcheck === 'object') {
    const h = { ...(s.healthcheck as Obj) };
    if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
    s.healthcheck = h;
  }
  if (s.extra_hosts !== undefined) s.extra_hosts = hostsList(s.extra_hosts);
  if (s.ulimits && typeof s.ulimits === 'object') {
    s.ulimits = Object.fromEntries(
      Object.entries(s.ulimits as Obj).map(([k, v]) => [k, typeof v === 'string' ? Number(v) : v]),
    );
  }
  return s;
}

/** Labels: a list entry without `=` is a label with an empty value (compose-go types.Labels). */
function labelMap(v: unknown): Record<string, string> {
  const m = toMap(v);
  return Object.fromEntries(Object.entries(m).map(([k, x]) => [k, x ?? '']));
}

/** extra_hosts (list of `host:ip` / `host=ip`, or a map) -> compose-go's HostsList as `host=ip`. */
export function hostsList(v: unknown): string[] {
  const out: string[] = [];
  const add = (host: string, ips: string) => {
    if (!host || /[:=]/.test(host)) throw invalidParameter(`bad host name '${host}'`);
    for (let ip of ips.split(',')) {
      if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
      out.push(`${host}=${ip}`);
    }
  };
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      const i = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
      if (i < 0) throw invalidParameter(`invalid additional host, missing IP: ${s}`);
      add(s.slice(0, i), s.slice(i + 1));
    }
  } else if (v && typeof v === 'object') {
    for (const [h, ips] of Object.entries(v as Obj)) {
      for (const ip of Array.isArray(ips) ? ips : [ips ?? '']) add(h, String(ip));
    }
  }
  return out;
}
