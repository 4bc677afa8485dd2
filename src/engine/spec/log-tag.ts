/**
 * json-file's `--log-opt tag=TEMPLATE` (moby loggerutils.ParseLogTag with no default): the Go
 * template is executed on the container's logger.Info and the result is the `tag` attribute.
 * Info's fields and methods are those of moby's daemon/logger/loginfo.go: `{{.ID}}` (12
 * characters), `{{.FullID}}`, `{{.Name}}` (no leading slash), `{{.ImageID}}`,
 * `{{.ImageFullID}}`, `{{.ImageName}}`, `{{.Command}}`, `{{.DaemonName}}`, `{{.Hostname}}`,
 * and the fields ContainerID, ContainerName, ContainerEntrypoint, ContainerArgs,
 * ContainerImageID, ContainerImageName, ContainerCreated, ContainerEnv, ContainerLabels,
 * LogPath, DaemonName, Config; plus Docker's template functions (json, join, split, lower, …).
 */
import { hostname } from 'node:os';
import { parseTemplate } from '../../common/template/index.ts';

export interface LogTagSource {
  id: string;
  /** With or without the leading '/'. */
  name: string;
  /** Config.Image as the user gave it. */
  image: string;
  /** sha256:… */
  imageId: string;
  /** RFC 3339. */
  created: string;
  path: string;
  args: string[];
  env: string[];
  labels: Record<string, string>;
  logPath: string;
  config: Record<string, string>;
}

/** moby logger.Info: fields as own properties, methods on the prototype (template methods). */
class LogInfo {
  Config: Record<string, string>;
  ContainerID: string;
  ContainerName: string;
  ContainerEntrypoint: string;
  ContainerArgs: string[];
  ContainerImageID: string;
  ContainerImageName: string;
  ContainerCreated: string;
  ContainerEnv: string[];
  ContainerLabels: Record<string, string>;
  LogPath: string;
  DaemonName: string;

  constructor(s: LogTagSource) {
    this.Config = s.config;
    this.ContainerID = s.id;
    this.ContainerName = s.name.startsWith('/') ? s.name : `/${s.name}`;
    this.ContainerEntrypoint = s.path;
    this.ContainerArgs = s.args;
    this.ContainerImageID = s.imageId;
    this.ContainerImageName = s.image;
    this.ContainerCreated = goTime(s.created);
    this.ContainerEnv = s.env;
    this.ContainerLabels = s.labels;
    this.LogPath = s.logPath;
    this.DaemonName = 'docker';
  }

  ID(): string {
    return truncateId(this.ContainerID);
  }
  FullID(): string {
    return this.ContainerID;
  }
  Name(): string {
    return this.ContainerName.replace(/^\//, '');
  }
  Command(): string {
    return [this.ContainerEntrypoint, ...this.ContainerArgs].join(' ');
  }
  ImageID(): string {
    return truncateId(this.ContainerImageID);
  }
  ImageFullID(): string {
    return this.ContainerImageID;
  }
  ImageName(): string {
    return this.ContainerImageName;
  }
  Hostname(): string {
    return hostname();
  }
}

/** stringid.TruncateID: without the algorithm prefix, 12 characters. */
function truncateId(id: string): string {
  const i = id.indexOf(':');
  return (i >= 0 ? id.slice(i + 1) : id).slice(0, 12);
}

/** Go's time.Time String() for a UTC time: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
function goTime(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

/** The tag for `config.tag`; '' when no tag is asked for (json-file has no default). */
export function logTag(source: LogTagSource): string {
  const text = source.config.tag ?? '';
  if (!text) return '';
  return parseTemplate(text, { name: 'log-tag', missingKey: 'error' }).execute(new LogInfo(source));
}
