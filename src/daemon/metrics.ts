/**
 * --metrics-addr: Prometheus metrics at http://<addr>/metrics, as dockerd serves them
 * (moby daemon/internal/metrics, builder/dockerfile/metrics.go, with go-metrics' names:
 * `<namespace>_<subsystem>_<name>_<unit>`, counters with `_total`, timers as histograms in
 * seconds). Only what berth can measure truthfully is exported; the Go runtime's `go_*` series
 * are Node's `nodejs_*` here (prom-client's default collectors, with `process_*`).
 *
 * Measured by wrapping the engine's API-facing methods (the API server calls nothing else):
 * container create/start/delete/changes/commit, image delete/history/pull/push, network connect,
 * GET /info (host_info_functions, function=system_info), builds; events and subscribers through
 * the event service; health probes through the engine's hook. Checked against the families a
 * dockerd 20.10 serves (metrics.test.ts).
 */
import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JsonMessage } from '../api/types/index.ts';
import type { Engine } from '../engine/index.ts';

export interface DaemonMetrics {
  readonly registry: Registry;
  /** The engine's health-probe hook (dockerd's health_checks and health_checks_failed). */
  healthProbe(ok: boolean): void;
  /** Wraps the engine's services so their calls are counted and timed. */
  instrument(engine: Engine): void;
  /** Ends the event subscription instrument() opened. */
  close(): void;
  /** The Prometheus text of every metric (one engine info() per scrape). */
  scrape(): Promise<string>;
}

export function createMetrics(): DaemonMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const timer = (name: string, help: string, label: string) =>
    new Histogram({ name, help, labelNames: [label], registers: [registry] });
  const containerActions = timer(
    'engine_daemon_container_actions_seconds',
    'The number of seconds it takes to process each container action',
    'action',
  );
  const networkActions = timer(
    'engine_daemon_network_actions_seconds',
    'The number of seconds it takes to process each network action',
    'action',
  );
  const imageActions = timer(
    'engine_daemon_image_actions_seconds',
    'The number of seconds it takes to process each image action',
    'action',
  );
  const hostInfoFunctions = timer(
    'engine_daemon_host_info_functions_seconds',
    'The number of seconds it takes to call functions gathering info about the host',
    'function',
  );
  // dockerd records a zero for these actions at start, so they are always present.
  for (const a of ['start', 'changes', 'commit', 'create', 'delete'])
    containerActions.observe({ action: a }, 0);
  const healthChecks = new Counter({
    name: 'engine_daemon_health_checks_total',
    help: 'The total number of health checks',
    registers: [registry],
  });
  const healthChecksFailed = new Counter({
    name: 'engine_daemon_health_checks_failed_total',
    help: 'The total number of failed health checks',
    registers: [registry],
  });
  const events = new Counter({
    name: 'engine_daemon_events_total',
    help: 'The number of events logged',
    registers: [registry],
  });
  const subscribers = new Gauge({
    name: 'engine_daemon_events_subscribers_total',
    help: 'The number of current subscribers to events',
    registers: [registry],
  });
  const buildsTriggered = new Counter({
    name: 'builder_builds_triggered_total',
    help: 'Number of triggered image builds',
    registers: [registry],
  });
  const buildsFailed = new Counter({
    name: 'builder_builds_failed_total',
    help: 'Number of failed image builds',
    labelNames: ['reason'],
    registers: [registry],
  });
  for (const r of BUILD_FAILURE_REASONS) buildsFailed.inc({ reason: r }, 0);

  let engineRef: Engine | undefined;
  /** The engine's own info(), not the timed one: a scrape is no GET /info. */
  let engineInfo: Engine['system']['info'] = async () => {
    throw new Error('metrics: no engine yet');
  };
  let scraped: ReturnType<Engine['system']['info']> | undefined;
  const info = () => {
    scraped ??= engineInfo();
    return scraped;
  };
  const all = new AbortController();
  new Gauge({
    name: 'engine_daemon_container_states_containers',
    help: 'The count of containers in various states',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!engineRef) return;
      const i = await info();
      this.set({ state: 'running' }, i.ContainersRunning);
      this.set({ state: 'paused' }, i.ContainersPaused);
      this.set({ state: 'stopped' }, i.ContainersStopped);
    },
  });
  new Gauge({
    name: 'engine_daemon_engine_info',
    help: 'The information related to the engine and the OS it is running on',
    labelNames: [
      'architecture',
      'commit',
      'daemon_id',
      'graphdriver',
      'kernel',
      'os',
      'os_type',
      'os_version',
      'version',
    ],
    registers: [registry],
    async collect() {
      if (!engineRef) return;
      const i = await info();
      const v = engineRef.system.version();
      this.reset();
      this.set(
        {
          architecture: i.Architecture,
          commit: v.GitCommit ?? '',
          daemon_id: i.ID,
          graphdriver: i.Driver,
          kernel: i.KernelVersion,
          os: i.OperatingSystem,
          os_type: i.OSType,
          os_version: i.OSVersion,
          version: i.ServerVersion,
        },
        1,
      );
    },
  });
  new Gauge({
    name: 'engine_daemon_engine_cpus_cpus',
    help: 'The number of cpus that the host system of the engine has',
    registers: [registry],
    async collect() {
      if (engineRef) this.set((await info()).NCPU);
    },
  });
  new Gauge({
    name: 'engine_daemon_engine_memory_bytes',
    help: 'The number of bytes of memory that the host system of the engine has',
    registers: [registry],
    async collect() {
      if (engineRef) this.set((await info()).MemTotal);
    },
  });

  return {
    registry,
    close() {
      all.abort();
    },
    async scrape() {
      scraped = undefined;
      return registry.metrics();
    },
    healthProbe(ok) {
      healthChecks.inc();
      if (!ok) healthChecksFailed.inc();
    },
    instrument(engine) {
      engineRef = engine;
      engineInfo = engine.system.info.bind(engine.system);
      timeMethod(engine.system, 'info', hostInfoFunctions, 'system_info', 'function');
      timeMethod(engine.containers, 'create', containerActions, 'create');
      timeMethod(engine.containers, 'start', containerActions, 'start');
      timeMethod(engine.containers, 'remove', containerActions, 'delete');
      timeMethod(engine.containerFs, 'changes', containerActions, 'changes');
      timeMethod(engine.images, 'commit', containerActions, 'commit');
      timeMethod(engine.images, 'remove', imageActions, 'delete');
      timeMethod(engine.images, 'history', imageActions, 'history');
      timeStream(engine.images, 'pull', imageActions, 'pull');
      timeStream(engine.images, 'push', imageActions, 'push');
      timeMethod(engine.networks, 'connect', networkActions, 'connect');
      if (engine.builds) countBuilds(engine.builds, buildsTriggered, buildsFailed);
      const subscribe = engine.events.subscribe.bind(engine.events);
      engine.events.subscribe = (options, signal) => {
        const stream = subscribe(options, signal);
        return {
          async *[Symbol.asyncIterator]() {
            subscribers.inc();
            try {
              yield* stream;
            } finally {
              subscribers.dec();
            }
          },
        };
      };
      // Every event published from now on (a live subscription of our own, not counted above).
      void (async () => {
        try {
          for await (const _ of subscribe({ filters: {} }, all.signal)) events.inc();
        } catch {
          // aborted at shutdown
        }
      })();
    },
  };
}

/** Replaces `obj[name]` (an async method) by one that times each call under `action`. */
function timeMethod<T extends object>(
  obj: T,
  name: keyof T & string,
  h: Histogram,
  action: string,
  label = 'action',
): void {
  const orig = (obj[name] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  (obj as Record<string, unknown>)[name] = async (...args: unknown[]) => {
    const end = h.startTimer({ [label]: action });
    try {
      return await orig(...args);
    } finally {
      end();
    }
  };
}

/** As timeMethod, for a method returning a progress stream: timed until the stream ends. */
function timeStream<T extends object>(obj: T, name: keyof T & string, h: Histogram, action: string): void {
  const orig = (obj[name] as (...a: unknown[]) => AsyncIterable<unknown>).bind(obj);
  (obj as Record<string, unknown>)[name] = (...args: unknown[]) => {
    const stream = orig(...args);
    return {
      async *[Symbol.asyncIterator]() {
        const end = h.startTimer({ action });
        try {
          yield* stream;
        } finally {
          end();
        }
      },
    };
  };
}

/** moby builder/dockerfile/metrics.go's failure reasons. */
const BUILD_FAILURE_REASONS = [
  'dockerfile_syntax_error',
  'dockerfile_empty_error',
  'command_not_supported_error',
  'error_processing_commands_error',
  'build_target_not_reachable_error',
  'missing_onbuild_arguments_error',
  'unknown_instruction_error',
  'build_canceled',
];

/** The reason dockerd would count for a failed build, from the error berth reports. */
export function buildFailureReason(message: string, canceled: boolean): string {
  if (canceled) return 'build_canceled';
  const m = message.toLowerCase();
  if (m.includes('unknown instruction')) return 'unknown_instruction_error';
  if (m.includes('file with no instructions') || m.includes('dockerfile cannot be empty')) {
    return 'dockerfile_empty_error';
  }
  if (m.includes('dockerfile parse error') || m.includes('syntax error')) return 'dockerfile_syntax_error';
  if (m.includes('target stage') && m.includes('could not be found'))
    return 'build_target_not_reachable_error';
  if (m.includes('not supported')) return 'command_not_supported_error';
  return 'error_processing_commands_error';
}

function countBuilds(builds: NonNullable<Engine['builds']>, triggered: Counter, failed: Counter): void {
  const build = builds.build.bind(builds);
  builds.build = (context, options, signal) => {
    const stream = build(context, options, signal);
    return {
      async *[Symbol.asyncIterator]() {
        triggered.inc();
        let error: string | undefined;
        try {
          for await (const m of stream as AsyncIterable<JsonMessage>) {
            if (m.error || m.errorDetail) error = m.errorDetail?.message ?? m.error ?? '';
            yield m;
          }
        } catch (err) {
          failed.inc({ reason: buildFailureReason((err as Error).message ?? '', signal.aborted) });
          throw err;
        }
        if (error !== undefined) failed.inc({ reason: buildFailureReason(error, signal.aborted) });
      },
    };
  };
}

/** Serves GET /metrics on `addr` (dockerd's startMetricsServer); resolves once listening. */
export async function startMetricsServer(
  metrics: DaemonMetrics,
  addr: { host: string; port: number },
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    metrics
      .scrape()
      .then((text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      })
      .catch((err: Error) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`${err.message}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
