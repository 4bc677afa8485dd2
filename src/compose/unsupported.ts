/**
 * Service keys of the Compose Specification that berth cannot honour when it creates a
 * container: each is refused with a clear error instead of being silently dropped. Keys that
 * Docker Compose itself does not turn into container settings (swarm-only `deploy` parts such as
 * placement, update_config, rollback_config, endpoint_mode, mode: replicated; `develop`, which only
 * `compose watch` reads; `attach`, which only attached `up` reads) are accepted, as Compose does.
 */
import { invalidParameter } from '../common/errors.ts';
import { injectedFiles, secretAndConfigMounts } from './file-refs.ts';
import type { Project, Service } from './model.ts';

const REFUSED: Record<string, string> = {
  provider: 'service providers (provider:) need Compose provider plugins, which berth does not run',
  models: 'models need Docker Model Runner, which berth does not provide',
  gpus: 'GPU device requests are not supported by berth',
  credential_spec: 'credential_spec is a Windows-only setting',
  post_start: 'lifecycle hooks (post_start) are not supported by berth compose',
  pre_stop: 'lifecycle hooks (pre_stop) are not supported by berth compose',
  pre_start: 'lifecycle hooks (pre_start) are not supported by berth compose',
  pull_refresh_after: 'pull_refresh_after is not supported by berth compose',
  use_api_socket: 'use_api_socket is not supported by berth compose',
  net: 'the legacy `net` key is not supported; use network_mode',
  log_driver: 'the legacy `log_driver` key is not used by Compose v2; use logging.driver',
  log_opt: 'the legacy `log_opt` key is not used by Compose v2; use logging.options',
  dockerfile: 'the service-level `dockerfile` key is not used by Compose v2; use build.dockerfile',
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
  const pull = svc.pull_policy;
  if (pull && !['always', 'never', 'missing', 'build', 'if_not_present'].includes(pull))
    throw invalidParameter(
      `service "${name}": pull_policy ${pull} (refresh on a schedule) is not supported by berth compose`,
    );
  const mode = (svc.deploy as { mode?: string } | undefined)?.mode;
  if (mode && mode !== 'replicated')
    throw invalidParameter(
      `service "${name}": deploy.mode ${mode} needs swarm; berth compose runs replicated services only`,
    );
}

/**
 * Everything about the project's services that would fail at container creation, checked before
 * `up` creates anything: refused keys, volume types, external/driver secrets and configs, and
 * environment-based ones whose variable is unset.
 */
export function preflight(project: Project): void {
  for (const [key, svc] of Object.entries(project.services)) {
    checkServiceKeys(key, svc);
    for (const v of svc.volumes ?? []) {
      if (v.type !== 'bind' && v.type !== 'volume' && v.type !== 'tmpfs')
        throw invalidParameter(`service "${key}": volumes of type "${v.type}" are not supported by berth`);
    }
    secretAndConfigMounts(project, key);
    injectedFiles(project, key);
  }
}
