/**
 * Docker Compose's `com.docker.compose.config-hash` (docker/compose pkg/compose/hash.go,
 * ServiceHash): the service configuration with build, pull_policy, scale, deploy.replicas,
 * depends_on and profiles cleared, marshalled by Go's encoding/json as compose-go's
 * types.ServiceConfig, then sha256 in hex. Computing the same bytes lets `docker compose` and
 * `berth compose` each see the other's containers as up to date.
 *
 * Compose hashes the service after resolving references to other services' containers
 * (volumes_from `service` -> that service's first container ID, `container:name` -> `name`,
 * network_mode/ipc/pid `service:x` -> `container:<ID>`); callers pass the service so resolved.
 */
import { createHash } from 'node:crypto';
import { goJson, resourceForJson, serviceForOutput } from './canonical.ts';
import type { NetworkConfig, Service, VolumeConfig } from './model.ts';

/** The JSON document Compose hashes for a service. */
export function serviceHashInput(svc: Service): string {
  const {
    build: _b,
    pull_policy: _p,
    scale: _s,
    depends_on: _d,
    profiles: _pr,
    ...rest
  } = svc as Record<string, unknown>;
  const o: Record<string, unknown> = { ...rest };
  if (o.deploy && typeof o.deploy === 'object') {
    const { replicas: _r, ...deploy } = o.deploy as Record<string, unknown>;
    o.deploy = deploy;
  }
  return goJson(serviceForOutput(o, 'json'));
}

export function serviceHash(svc: Service): string {
  return createHash('sha256').update(serviceHashInput(svc)).digest('hex');
}

/** Compose's NetworkHash: sha256 of the network's NetworkConfig as encoding/json writes it. */
export function networkHash(net: NetworkConfig): string {
  return createHash('sha256')
    .update(goJson(resourceForJson('network', net as Record<string, unknown>)))
    .digest('hex');
}

/** Compose's VolumeHash: the same for a VolumeConfig, its driver defaulting to "local". */
export function volumeHash(vol: VolumeConfig): string {
  const v = { ...vol, driver: vol.driver || 'local' };
  return createHash('sha256')
    .update(goJson(resourceForJson('volume', v as Record<string, unknown>)))
    .digest('hex');
}
