/**
 * Service keys of the Compose Specification that berth cannot honour when it creates a
 * container: each is refused with a clear error instead of being silently dropped. Keys that
 * Docker Compose itself does not turn into container settings (swarm-only `deploy` parts such as
 * placement, update_config, rollback_config, endpoint_mode, mode: replicated; `develop`, which only
 * `compose watch` reads; `attach`, which only attached `up` reads) are accepted, as Compose does.
 */
import { invalidParameter } from '../common/errors.ts';
import type { Service } from './model.ts';

const REFUSED: Record<string, string> = {
  provider: 'service providers (provider:) need Compose provider plugins, which berth does not run',
  models: 'models need Docker Model Runner, which berth does not provide',
  gpus: 'GPU device requests are not supported by berth',
  credential_spec: 'credential_spec is a Windows-only setting',
  post_start: 'lifecycle hooks (post_start) are not supported by berth compose',
  pre_stop: 'lifecycle hooks (pre_stop) are not supported by berth compose',
  use_api_socket: 'use_api_socket is not supported by berth compose',
  net: 'the legacy `net` key is not supported; use network_mode',
};

export function checkServiceKeys(name: string, svc: Service): void {
  for (const [key, why] of Object.entries(REFUSED)) {
    if (
      svc[key] !== undefined &&
      svc[key] !== null &&
      !(Array.isArray(svc[key]) && !(svc[key] as unknown[]).length)
    )
      throw invalidParameter(`service "${name}": ${why}`);
  }
  const mode = (svc.deploy as { mode?: string } | undefined)?.mode;
  if (mode && mode !== 'replicated')
    throw invalidParameter(
      `service "${name}": deploy.mode ${mode} needs swarm; berth compose runs replicated services only`,
    );
}
