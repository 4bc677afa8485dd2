/**
 * The normalised compose model: what `berth compose config` prints and what `up` converges to.
 * It keeps compose-spec's field names (snake_case, as in the file), with every short syntax
 * expanded into its long form, as `docker compose config` shows it.
 */
export interface Project {
  name: string;
  /** Directory relative paths resolve against (the first file's directory). */
  workingDir: string;
  configFiles: string[];
  /** `--env-file` as given (the com.docker.compose.project.environment_file label). */
  envFiles?: string[];
  services: Record<string, Service>;
  networks: Record<string, NetworkConfig>;
  volumes: Record<string, VolumeConfig>;
  secrets: Record<string, FileObjectConfig>;
  configs: Record<string, FileObjectConfig>;
  /** Top-level `x-*` extensions, printed back by `config`. */
  extensions: Record<string, unknown>;
  /** Services left out because none of their profiles is active. */
  disabledServices: Record<string, Service>;
}

export interface PortConfig {
  mode: 'ingress' | 'host';
  target: number;
  published?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  host_ip?: string;
  name?: string;
  app_protocol?: string;
}

export interface ServiceVolume {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean; propagation?: string; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number };
  image?: { subpath?: string };
  consistency?: string;
}

export interface DependsOn {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  required: boolean;
  restart?: boolean;
}

/** A service's use of a secret or config (compose-go FileReferenceConfig). */
export interface FileReference {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

/** A top-level secret or config (compose-go FileObjectConfig). */
export interface FileObjectConfig {
  name?: string;
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  labels?: Record<string, string>;
  driver?: string;
  driver_opts?: Record<string, string>;
  template_driver?: string;
}

export interface ServiceNetwork {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  priority?: number;
}

export interface Healthcheck {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

export interface BuildConfig {
  context: string;
  dockerfile?: string;
  args?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  network?: string;
  no_cache?: boolean;
}

/** A service; fields the engine does not use are kept as read (printed by `config`). */
export interface Service {
  image?: string;
  build?: BuildConfig;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  ports?: PortConfig[];
  expose?: string[];
  volumes?: ServiceVolume[];
  tmpfs?: string[];
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  depends_on?: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  restart?: string;
  deploy?: { replicas?: number; resources?: unknown; [k: string]: unknown };
  scale?: number;
  labels?: Record<string, string>;
  user?: string;
  working_dir?: string;
  hostname?: string;
  domainname?: string;
  cap_add?: string[];
  cap_drop?: string[];
  mem_limit?: string | number;
  memswap_limit?: string | number;
  cpus?: string | number;
  /** A single number sets soft and hard alike (compose-go keeps it as `single`). */
  ulimits?: Record<string, number | { soft: number; hard: number }>;
  profiles?: string[];
  init?: boolean;
  stop_grace_period?: string;
  stop_signal?: string;
  container_name?: string;
  privileged?: boolean;
  read_only?: boolean;
  tty?: boolean;
  stdin_open?: boolean;
  /** compose-go HostsList as `host=ip` entries. */
  extra_hosts?: string[];
  secrets?: FileReference[];
  configs?: FileReference[];
  links?: string[];
  volumes_from?: string[];
  logging?: { driver?: string; options?: Record<string, string> };
  dns?: string[] | string;
  sysctls?: Record<string, string | number>;
  pull_policy?: string;
  shm_size?: string | number;
  pids_limit?: number;
  security_opt?: string[];
  [key: string]: unknown;
}

export interface NetworkConfig {
  name?: string;
  external?: boolean;
  driver?: string;
  driver_opts?: Record<string, string>;
  ipam?: { driver?: string; config?: { subnet?: string; gateway?: string; ip_range?: string }[] };
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  labels?: Record<string, string>;
}

export interface VolumeConfig {
  name?: string;
  external?: boolean;
  driver?: string;
  driver_opts?: Record<string, string>;
  labels?: Record<string, string>;
}
