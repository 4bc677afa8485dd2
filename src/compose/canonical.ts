/**
 * The normalised model laid out as compose-go's Go types serialise it, so that `berth compose
 * config` prints what `docker compose config` prints and the config hash is computed over the same
 * bytes as Docker Compose's (pkg/compose/hash.go: sha256 of json.Marshal(ServiceConfig)).
 *
 * compose-go (v2.9, the one Docker Compose v2.40 builds with) declares every type as a Go struct;
 * both encoders emit struct fields in declaration order and map keys sorted, and they differ only
 * in what `omitempty` drops: encoding/json never drops a struct value (`"resources":{}`), yaml.v3
 * drops one whose fields are all zero. A few types marshal themselves: durations as Go's
 * time.Duration.String(), byte sizes as a decimal string, extra_hosts as a sorted `host=ip` list,
 * a single-valued ulimit as a bare number, file modes as an octal string. The tables below are
 * written from compose-go's types/types.go; the field order is the contract.
 */

type Obj = Record<string, unknown>;

export type Mode = 'yaml' | 'json';

type Kind =
  | 's' // string, omitempty
  | 'i' // integer, omitempty
  | 'f' // float32, omitempty
  | 'b' // bool, omitempty
  | 'ptr' // pointer to a scalar: dropped only when unset
  | 'dur' // *Duration: dropped only when unset
  | 'durv' // Duration value: dropped when zero
  | 'bytes' // UnitBytes: a decimal string, dropped when zero
  | 'list' // []string, dropped when empty
  | 'cmd' // ShellCommand: yaml drops it when unset, json always writes it (null when unset)
  | 'map' // map[string]string or map[string]*string, sorted
  | 'hosts' // HostsList: sorted `host=ip` list
  | 'mode' // *FileMode: octal string
  | 'ulimits' // map[string]*UlimitsConfig
  | 'always-bool' // bool without omitempty
  | 'always-int' // integer without omitempty
  | 'always-bytes' // UnitBytes without omitempty
  | 'any' // kept as read, maps sorted
  | { struct: Field[]; ptr: boolean }
  | { listOf: Field[] }
  | { mapOf: Field[] };

/** A struct field: its key in the model, and its JSON name when that differs ("path|Path"). */
type Field = [key: string, kind: Kind];

const ptr = (fields: Field[]): Kind => ({ struct: fields, ptr: true });
const val = (fields: Field[]): Kind => ({ struct: fields, ptr: false });

const FILE_REF: Field[] = [
  ['source', 's'],
  ['target', 's'],
  ['uid', 's'],
  ['gid', 's'],
  ['mode', 'mode'],
];

const ULIMITS: Kind = 'ulimits';

const BUILD: Field[] = [
  ['context', 's'],
  ['dockerfile', 's'],
  ['dockerfile_inline', 's'],
  ['entitlements', 'list'],
  ['args', 'map'],
  ['provenance', 's'],
  ['sbom', 's'],
  ['ssh', 'any'],
  ['labels', 'map'],
  ['cache_from', 'list'],
  ['cache_to', 'list'],
  ['no_cache', 'b'],
  ['additional_contexts', 'map'],
  ['pull', 'b'],
  ['extra_hosts', 'hosts'],
  ['isolation', 's'],
  ['network', 's'],
  ['target', 's'],
  ['secrets', { listOf: FILE_REF }],
  ['shm_size', 'bytes'],
  ['tags', 'list'],
  ['ulimits', ULIMITS],
  ['platforms', 'list'],
  ['privileged', 'b'],
];

// compose-go's WeightDevice and ThrottleDevice have no tags: yaml.v3 lowercases the Go field
// names, encoding/json keeps them.
const WEIGHT_DEVICE: Field[] = [
  ['path|Path', 's'],
  ['weight|Weight', 'always-int'],
];
const THROTTLE_DEVICE: Field[] = [
  ['path|Path', 's'],
  ['rate|Rate', 'always-bytes'],
];

const RESOURCE: Field[] = [
  ['cpus', 'f'],
  ['memory', 'bytes'],
  ['pids', 'i'],
  ['devices', 'any'],
  ['generic_resources', 'any'],
];

const UPDATE: Field[] = [
  ['parallelism', 'ptr'],
  ['delay', 'durv'],
  ['failure_action', 's'],
  ['monitor', 'durv'],
  ['max_failure_ratio', 'f'],
  ['order', 's'],
];

const DEPLOY: Field[] = [
  ['mode', 's'],
  ['replicas', 'ptr'],
  ['labels', 'map'],
  ['update_config', ptr(UPDATE)],
  ['rollback_config', ptr(UPDATE)],
  [
    'resources',
    val([
      ['limits', ptr(RESOURCE)],
      ['reservations', ptr(RESOURCE)],
    ]),
  ],
  [
    'restart_policy',
    ptr([
      ['condition', 's'],
      ['delay', 'dur'],
      ['max_attempts', 'ptr'],
      ['window', 'dur'],
    ]),
  ],
  [
    'placement',
    val([
      ['constraints', 'list'],
      ['preferences', 'any'],
      ['max_replicas_per_node', 'i'],
    ]),
  ],
  ['endpoint_mode', 's'],
];

const HEALTHCHECK: Field[] = [
  ['test', 'list'],
  ['timeout', 'dur'],
  ['interval', 'dur'],
  ['retries', 'ptr'],
  ['start_period', 'dur'],
  ['start_interval', 'dur'],
  ['disable', 'b'],
];

const PORT: Field[] = [
  ['name', 's'],
  ['mode', 's'],
  ['host_ip', 's'],
  ['target', 'i'],
  ['published', 's'],
  ['protocol', 's'],
  ['app_protocol', 's'],
];

const VOLUME: Field[] = [
  ['type', 's'],
  ['source', 's'],
  ['target', 's'],
  ['read_only', 'b'],
  ['consistency', 's'],
  [
    'bind',
    ptr([
      ['selinux', 's'],
      ['propagation', 's'],
      ['create_host_path', 'b'],
      ['recursive', 's'],
    ]),
  ],
  [
    'volume',
    ptr([
      ['labels', 'map'],
      ['nocopy', 'b'],
      ['subpath', 's'],
    ]),
  ],
  [
    'tmpfs',
    ptr([
      ['size', 'bytes'],
      ['mode', 'i'],
    ]),
  ],
  ['image', ptr([['subpath', 's']])],
];

const SERVICE_NETWORK: Field[] = [
  ['aliases', 'list'],
  ['driver_opts', 'map'],
  ['gw_priority', 'i'],
  ['interface_name', 's'],
  ['ipv4_address', 's'],
  ['ipv6_address', 's'],
  ['link_local_ips', 'list'],
  ['mac_address', 's'],
  ['priority', 'i'],
];

/** compose-go types.ServiceConfig, in declaration order (Name and extensions are not marshalled). */
export const SERVICE_FIELDS: Field[] = [
  ['profiles', 'list'],
  ['annotations', 'map'],
  ['attach', 'ptr'],
  ['build', ptr(BUILD)],
  ['develop', 'any'],
  [
    'blkio_config',
    ptr([
      ['weight', 'i'],
      ['weight_device', { listOf: WEIGHT_DEVICE }],
      ['device_read_bps', { listOf: THROTTLE_DEVICE }],
      ['device_read_iops', { listOf: THROTTLE_DEVICE }],
      ['device_write_bps', { listOf: THROTTLE_DEVICE }],
      ['device_write_iops', { listOf: THROTTLE_DEVICE }],
    ]),
  ],
  ['cap_add', 'list'],
  ['cap_drop', 'list'],
  ['cgroup_parent', 's'],
  ['cgroup', 's'],
  ['cpu_count', 'i'],
  ['cpu_percent', 'f'],
  ['cpu_period', 'i'],
  ['cpu_quota', 'i'],
  ['cpu_rt_period', 'i'],
  ['cpu_rt_runtime', 'i'],
  ['cpus', 'f'],
  ['cpuset', 's'],
  ['cpu_shares', 'i'],
  ['command', 'cmd'],
  ['configs', { listOf: FILE_REF }],
  ['container_name', 's'],
  ['credential_spec', 'any'],
  [
    'depends_on',
    {
      mapOf: [
        ['condition', 's'],
        ['restart', 'b'],
        ['required', 'always-bool'],
      ],
    },
  ],
  ['deploy', ptr(DEPLOY)],
  ['device_cgroup_rules', 'list'],
  [
    'devices',
    {
      listOf: [
        ['source', 's'],
        ['target', 's'],
        ['permissions', 's'],
      ],
    },
  ],
  ['dns', 'list'],
  ['dns_opt', 'list'],
  ['dns_search', 'list'],
  ['dockerfile', 's'],
  ['domainname', 's'],
  ['entrypoint', 'cmd'],
  ['provider', 'any'],
  ['environment', 'map'],
  ['env_file', 'any'],
  ['expose', 'list'],
  [
    'extends',
    ptr([
      ['file', 's'],
      ['service', 's'],
    ]),
  ],
  ['external_links', 'list'],
  ['extra_hosts', 'hosts'],
  ['group_add', 'list'],
  ['gpus', 'any'],
  ['hostname', 's'],
  ['healthcheck', ptr(HEALTHCHECK)],
  ['image', 's'],
  ['init', 'ptr'],
  ['ipc', 's'],
  ['isolation', 's'],
  ['labels', 'map'],
  ['label_file', 'list'],
  ['links', 'list'],
  [
    'logging',
    ptr([
      ['driver', 's'],
      ['options', 'map'],
    ]),
  ],
  ['log_driver', 's'],
  ['log_opt', 'map'],
  ['mem_limit', 'bytes'],
  ['mem_reservation', 'bytes'],
  ['memswap_limit', 'bytes'],
  ['mem_swappiness', 'bytes'],
  ['mac_address', 's'],
  ['models', 'any'],
  ['net', 's'],
  ['network_mode', 's'],
  ['networks', { mapOf: SERVICE_NETWORK }],
  ['oom_kill_disable', 'b'],
  ['oom_score_adj', 'i'],
  ['pid', 's'],
  ['pids_limit', 'i'],
  ['platform', 's'],
  ['ports', { listOf: PORT }],
  ['privileged', 'b'],
  ['pull_policy', 's'],
  ['read_only', 'b'],
  ['restart', 's'],
  ['runtime', 's'],
  ['scale', 'ptr'],
  ['secrets', { listOf: FILE_REF }],
  ['security_opt', 'list'],
  ['shm_size', 'bytes'],
  ['stdin_open', 'b'],
  ['stop_grace_period', 'dur'],
  ['stop_signal', 's'],
  ['storage_opt', 'map'],
  ['sysctls', 'map'],
  ['tmpfs', 'list'],
  ['tty', 'b'],
  ['ulimits', ULIMITS],
  ['use_api_socket', 'b'],
  ['user', 's'],
  ['userns_mode', 's'],
  ['uts', 's'],
  ['volume_driver', 's'],
  ['volumes', { listOf: VOLUME }],
  ['volumes_from', 'list'],
  ['working_dir', 's'],
  ['post_start', 'any'],
  ['pre_stop', 'any'],
];

export const SERVICE_KEYS = new Set(SERVICE_FIELDS.map(([k]) => k));

const NETWORK_FIELDS: Field[] = [
  ['name', 's'],
  ['driver', 's'],
  ['driver_opts', 'map'],
  [
    'ipam',
    val([
      ['driver', 's'],
      [
        'config',
        {
          listOf: [
            ['subnet', 's'],
            ['gateway', 's'],
            ['ip_range', 's'],
            ['aux_addresses', 'map'],
          ],
        },
      ],
    ]),
  ],
  ['external', 'b'],
  ['internal', 'b'],
  ['attachable', 'b'],
  ['labels', 'map'],
  ['enable_ipv4', 'ptr'],
  ['enable_ipv6', 'ptr'],
];

const VOLUME_FIELDS: Field[] = [
  ['name', 's'],
  ['driver', 's'],
  ['driver_opts', 'map'],
  ['external', 'b'],
  ['labels', 'map'],
];

const FILE_OBJECT_FIELDS: Field[] = [
  ['name', 's'],
  ['file', 's'],
  ['environment', 's'],
  ['content', 's'],
  ['external', 'b'],
  ['labels', 'map'],
  ['driver', 's'],
  ['driver_opts', 'map'],
  ['template_driver', 's'],
];

/**
 * yaml.v3's map key order (sorter.go): like byte order, except that runs of digits compare as
 * numbers ("web2" < "web10") and, at the first difference, a non-letter sorts before a letter.
 */
export function yamlKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  const isDigit = (c: string) => c >= '0' && c <= '9';
  const isLetter = (c: string) => /\p{L}/u.test(c);
  let digits = false;
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const x = ar[i] as string;
    const y = br[i] as string;
    if (x === y) {
      digits = isDigit(x);
      continue;
    }
    const al = isLetter(x);
    const bl = isLetter(y);
    if (al && bl) return x < y;
    if (al || bl) return digits ? al : bl;
    let an = 0;
    let bn = 0;
    if (x === '0' || y === '0') {
      for (let j = i - 1; j >= 0 && isDigit(ar[j] as string); j--) {
        if (ar[j] !== '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && isDigit(ar[ai] as string); ai++) an = an * 10 + Number(ar[ai]);
    for (; bi < br.length && isDigit(br[bi] as string); bi++) bn = bn * 10 + Number(br[bi]);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return x < y;
  }
  return ar.length < br.length;
}

function sortedKeys(o: Obj, mode: Mode): string[] {
  const keys = Object.keys(o);
  if (mode === 'json') return keys.sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
  return keys.sort((a, b) => (yamlKeyLess(a, b) ? -1 : yamlKeyLess(b, a) ? 1 : 0));
}

/** float32 printed as Go does: the shortest decimal that reads back as the same float32. */
export function float32String(n: number): string {
  const f = Math.fround(n);
  if (Number.isInteger(f)) return String(f);
  for (let p = 1; p <= 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(f);
}

function octal(mode: unknown): string {
  return `0${Number(mode).toString(8)}`;
}

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as Obj).length === 0;
  return false;
}

function emitAny(v: unknown, mode: Mode): unknown {
  if (Array.isArray(v)) return v.map((x) => emitAny(x, mode));
  if (v && typeof v === 'object') {
    const o = v as Obj;
    const out: Obj = {};
    for (const k of sortedKeys(o, mode)) out[k] = emitAny(o[k], mode);
    return out;
  }
  return v;
}

/** Returns [present, value] for one field of a struct. */
function emitField(kind: Kind, v: unknown, mode: Mode): [boolean, unknown] {
  if (typeof kind === 'object') {
    if ('struct' in kind) {
      if (v === undefined || v === null) {
        if (kind.ptr) return [false, undefined];
        if (mode === 'yaml') return [false, undefined];
        return [true, emitStruct(kind.struct, {}, mode)];
      }
      const out = emitStruct(kind.struct, v as Obj, mode);
      if (!kind.ptr && mode === 'yaml' && Object.keys(out).length === 0) return [false, undefined];
      return [true, out];
    }
    if ('listOf' in kind) {
      if (isEmpty(v)) return [false, undefined];
      return [true, (v as Obj[]).map((e) => emitStruct(kind.listOf, e, mode))];
    }
    if (isEmpty(v)) return [false, undefined];
    const o = v as Obj;
    const out: Obj = {};
    for (const k of sortedKeys(o, mode)) {
      const e = o[k];
      out[k] = e === null || e === undefined ? null : emitStruct(kind.mapOf, e as Obj, mode);
    }
    return [true, out];
  }
  switch (kind) {
    case 's':
      return v === undefined || v === '' ? [false, undefined] : [true, String(v)];
    case 'i':
      return v === undefined || v === 0 ? [false, undefined] : [true, Number(v)];
    case 'f':
      return v === undefined || Number(v) === 0
        ? [false, undefined]
        : [true, Number(float32String(Number(v)))];
    case 'b':
      return v ? [true, true] : [false, undefined];
    case 'always-bool':
      return [true, v === true];
    case 'always-int':
      return [true, Number(v ?? 0)];
    case 'always-bytes':
      return [true, String(v ?? 0)];
    case 'ptr':
    case 'dur':
      return v === undefined || v === null ? [false, undefined] : [true, v];
    case 'durv':
      return v === undefined || v === '0s' ? [false, undefined] : [true, v];
    case 'bytes':
      return v === undefined || Number(v) === 0 ? [false, undefined] : [true, String(v)];
    case 'mode':
      return v === undefined || v === null ? [false, undefined] : [true, octal(v)];
    case 'list':
      return isEmpty(v) ? [false, undefined] : [true, (v as unknown[]).map(String)];
    case 'cmd':
      if (v === undefined || v === null) return mode === 'json' ? [true, null] : [false, undefined];
      return [true, (v as unknown[]).map(String)];
    case 'map': {
      if (isEmpty(v)) return [false, undefined];
      const o = v as Obj;
      const out: Obj = {};
      for (const k of sortedKeys(o, mode)) out[k] = o[k] === null || o[k] === undefined ? null : String(o[k]);
      return [true, out];
    }
    case 'hosts': {
      if (isEmpty(v)) return [false, undefined];
      return [true, [...(v as string[])].sort()];
    }
    case 'ulimits': {
      if (isEmpty(v)) return [false, undefined];
      const o = v as Obj;
      const out: Obj = {};
      for (const k of sortedKeys(o, mode)) {
        const u = o[k];
        if (typeof u === 'number') out[k] = u;
        else {
          const { soft, hard } = u as { soft?: number; hard?: number };
          if (mode === 'yaml') out[k] = { soft: soft ?? 0, hard: hard ?? 0 };
          else out[k] = { ...(soft ? { soft } : {}), ...(hard ? { hard } : {}) };
        }
      }
      return [true, out];
    }
    default:
      return isEmpty(v) && v !== null ? [false, undefined] : [true, emitAny(v, mode)];
  }
}

function emitStruct(fields: Field[], o: Obj, mode: Mode): Obj {
  const out: Obj = {};
  for (const [name, kind] of fields) {
    const [key, jsonKey] = name.split('|') as [string, string?];
    const [present, value] = emitField(kind, o[key], mode);
    if (present) out[mode === 'json' && jsonKey ? jsonKey : key] = value;
  }
  if (mode === 'yaml') {
    // Extensions (x-*) are inlined after the struct fields.
    for (const k of sortedKeys(o, mode)) if (k.startsWith('x-')) out[k] = emitAny(o[k], mode);
  }
  return out;
}

/** A top-level network or volume as encoding/json writes compose-go's NetworkConfig / VolumeConfig. */
export function resourceForJson(kind: 'network' | 'volume', o: Obj): Obj {
  return emitStruct(kind === 'network' ? NETWORK_FIELDS : VOLUME_FIELDS, o, 'json');
}

export function serviceForOutput(svc: Obj, mode: Mode): Obj {
  return emitStruct(SERVICE_FIELDS, svc, mode);
}

export interface ConfigSections {
  name: string;
  services: Record<string, Obj>;
  networks: Record<string, Obj>;
  volumes: Record<string, Obj>;
  secrets: Record<string, Obj>;
  configs: Record<string, Obj>;
  extensions?: Obj;
}

/** The project as compose-go's Project.MarshalYAML lays it out. */
export function projectForYaml(p: ConfigSections): Obj {
  const out: Obj = { name: p.name };
  const section = (m: Record<string, Obj>, fields: Field[], strip?: (o: Obj) => Obj) => {
    const o: Obj = {};
    for (const k of sortedKeys(m, 'yaml'))
      o[k] = emitStruct(fields, strip ? strip(m[k] ?? {}) : (m[k] ?? {}), 'yaml');
    return o;
  };
  out.services = section(p.services, SERVICE_FIELDS);
  if (Object.keys(p.networks).length) out.networks = section(p.networks, NETWORK_FIELDS);
  if (Object.keys(p.volumes).length) out.volumes = section(p.volumes, VOLUME_FIELDS);
  // Secret content is never printed; a config's is, unless it came from the environment.
  if (Object.keys(p.secrets).length)
    out.secrets = section(p.secrets, FILE_OBJECT_FIELDS, ({ content: _c, ...rest }) => rest);
  if (Object.keys(p.configs).length)
    out.configs = section(p.configs, FILE_OBJECT_FIELDS, (c) => {
      if (c.environment) {
        const { content: _c, ...rest } = c;
        return rest;
      }
      return c;
    });
  for (const [k, v] of Object.entries(p.extensions ?? {})) out[k] = emitAny(v, 'yaml');
  return out;
}

/** encoding/json's string escaping: JSON plus HTML-safe `<`, `>`, `&` and U+2028/U+2029. */
export function goJson(v: unknown, indent?: number): string {
  return JSON.stringify(v, null, indent)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
