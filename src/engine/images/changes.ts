/**
 * `docker import --change` / `commit --change`: a few Dockerfile instructions applied to an
 * image config (Docker accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER,
 * VOLUME, WORKDIR). Values use the Dockerfile forms: JSON arrays or shell form for CMD and
 * ENTRYPOINT, `k=v` pairs (or the legacy `k v`) for ENV and LABEL.
 */
import type { ContainerConfig } from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';

export function applyChanges(base: ContainerConfig, changes: string[]): ContainerConfig {
  const cfg: ContainerConfig = { ...base };
  for (const change of changes) {
    const m = /^\s*(\w+)\s+([\s\S]*?)\s*$/.exec(change);
    if (!m) throw invalidParameter(`dockerfile parse error: invalid change: ${change}`);
    const [, instr = '', rest = ''] = m;
    switch (instr.toUpperCase()) {
      case 'CMD':
        cfg.Cmd = execOrShell(rest);
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = execOrShell(rest);
        break;
      case 'ENV': {
        const env = [...(cfg.Env ?? [])];
        for (const [k, v] of pairs(rest)) {
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        cfg.Env = env;
        break;
      }
      case 'LABEL':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(pairs(rest)) };
        break;
      case 'EXPOSE': {
        const ports = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
        cfg.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(cfg.Volumes ?? {}) };
        const list = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
        for (const v of list) vols[v] = {};
        cfg.Volumes = vols;
        break;
      }
      case 'USER':
        cfg.User = rest;
        break;
      case 'WORKDIR':
        cfg.WorkingDir = rest;
        break;
      case 'STOPSIGNAL':
        cfg.StopSignal = rest;
        break;
      case 'ONBUILD':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest];
        break;
      default:
        throw invalidParameter(`${instr} is not a valid change command`);
    }
  }
  return cfg;
}

function execOrShell(rest: string): string[] {
  if (rest.startsWith('[')) {
    try {
      const v = JSON.parse(rest);
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch {
      // Not JSON: shell form, as Docker falls back to.
    }
  }
  return ['/bin/sh', '-c', rest];
}

function pairs(rest: string): Array<[string, string]> {
  if (!rest.includes('=')) {
    const [k = '', ...v] = rest.split(/\s+/);
    return [[k, v.join(' ')]];
  }
  const out: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  for (const m of rest.matchAll(re)) {
    let v = m[2] ?? '';
    if (v.startsWith('"')) v = JSON.parse(v);
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}
