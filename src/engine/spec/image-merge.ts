/**
 * The image's run config merged into a container's Config, as dockerd does at create (moby
 * daemon/commit.go merge, then create.go mergeAndVerifyConfig's Entrypoint `[""]` reset and the
 * `No command specified` check), and Docker's Path/Args split.
 */
import type { ContainerConfig, HealthConfig } from '../../api/types/index.ts';
import { invalidParameter } from '../../common/index.ts';
import type { ContainerConfig as ImageRunConfig } from '../../oci/index.ts';

/** `x` → `[x]`, null/undefined → undefined (Docker's StrSlice JSON rules). */
export function strSlice(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : [...v];
}

const envKey = (e: string): string => {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
};

/**
 * Merges the image's run config into the container's Config (moby daemon/commit.go merge, then
 * the Entrypoint `[""]` reset of mergeAndVerifyConfig). Throws `No command specified`.
 */
export function mergeImageConfig(
  body: ContainerConfig,
  image: ImageRunConfig | undefined,
): {
  user: string;
  env: string[] | null;
  cmd: string[] | null;
  entrypoint: string[] | null;
  workingDir: string;
  labels: Record<string, string>;
  exposedPorts: Record<string, object> | null;
  volumes: Record<string, object> | null;
  healthcheck?: HealthConfig;
  stopSignal: string;
} {
  const img = image ?? {};
  const user = body.User || img.User || '';

  const userPorts = body.ExposedPorts ?? {};
  let exposedPorts: Record<string, object> | null;
  if (Object.keys(userPorts).length === 0) exposedPorts = img.ExposedPorts ?? null;
  else
    exposedPorts = {
      ...userPorts,
      ...Object.fromEntries(
        Object.keys(img.ExposedPorts ?? {})
          .filter((p) => !(p in userPorts))
          .map((p) => [p, {}]),
      ),
    };

  let env: string[] | null;
  const userEnv = body.Env ?? [];
  if (userEnv.length === 0) env = img.Env ? [...img.Env] : null;
  else {
    const keys = new Set(userEnv.map(envKey));
    env = [...userEnv, ...(img.Env ?? []).filter((e) => !keys.has(envKey(e)))];
  }

  const labels: Record<string, string> = { ...(body.Labels ?? {}) };
  for (const [k, v] of Object.entries(img.Labels ?? {})) if (!(k in labels)) labels[k] = v;

  let entrypoint = strSlice(body.Entrypoint);
  let cmd = strSlice(body.Cmd);
  // An Entrypoint given by the client (even []) replaces the image's; only when the client gave
  // no Entrypoint and no Cmd does the image's Cmd apply. `--entrypoint ""` arrives as [""]: it
  // drops the image's Entrypoint *and* Cmd.
  if (entrypoint === undefined || entrypoint.length === 0) {
    if (cmd === undefined || cmd.length === 0) cmd = img.Cmd ? [...img.Cmd] : cmd;
    if (entrypoint === undefined) entrypoint = img.Entrypoint ? [...img.Entrypoint] : undefined;
  }

  let healthcheck = body.Healthcheck ? { ...body.Healthcheck } : undefined;
  if (img.Healthcheck) {
    if (!healthcheck) healthcheck = { ...img.Healthcheck };
    else {
      const fromImage = img.Healthcheck;
      if (!healthcheck.Test?.length && fromImage.Test) healthcheck.Test = fromImage.Test;
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) {
        const v = fromImage[k];
        if (!healthcheck[k] && v !== undefined) healthcheck[k] = v;
      }
    }
  }

  const workingDir = body.WorkingDir || img.WorkingDir || '';
  const userVolumes = body.Volumes ?? {};
  const volumes =
    Object.keys(userVolumes).length === 0
      ? (img.Volumes ?? null)
      : { ...userVolumes, ...(img.Volumes ?? {}) };
  const stopSignal = body.StopSignal || img.StopSignal || '';

  if (entrypoint?.length === 1 && entrypoint[0] === '') entrypoint = undefined;
  if ((entrypoint?.length ?? 0) === 0 && (cmd?.length ?? 0) === 0) {
    // Docker 20.10's text (newer daemons say "no command specified").
    throw invalidParameter('No command specified');
  }
  return {
    user,
    env,
    cmd: cmd ?? null,
    entrypoint: entrypoint ?? null,
    workingDir,
    labels,
    exposedPorts,
    volumes,
    ...(healthcheck ? { healthcheck } : {}),
    stopSignal,
  };
}

/** Docker's Path/Args: the first word of Entrypoint+Cmd and the rest. */
export function entrypointAndArgs(entrypoint: string[], cmd: string[]): { path: string; args: string[] } {
  const all = [...entrypoint, ...cmd];
  return { path: all[0] ?? '', args: all.slice(1) };
}
