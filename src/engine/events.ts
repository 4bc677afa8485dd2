/**
 * The event bus behind GET /events: every service publishes here (container lifecycle, image
 * and daemon events) and subscribers receive Docker's EventMessage shape. Past events are kept
 * in a bounded ring so `--since` can replay them, as dockerd does (it keeps 1024 in memory).
 */
import { on } from 'node:events';
import { EventEmitter } from 'node:events';
import type { EventMessage, EventType } from '../api/types/index.ts';
import type { EventService, Filters } from './engine.ts';

const KEEP = 1024;

export class EventBus implements EventService {
  readonly #past: EventMessage[] = [];
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  /** Publishes an event; `attributes` become Actor.Attributes (Docker adds name, image, labels). */
  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    const event: EventMessage = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    // Older clients read status/id/from on container and image events (API < 1.22 fields,
    // still sent by dockerd).
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = id;
      if (attributes.image) event.from = attributes.image;
    }
    this.#past.push(event);
    if (this.#past.length > KEEP) this.#past.shift();
    this.#emitter.emit('event', event);
  }

  async *subscribe(
    options: { since?: number; until?: number; filters: Filters },
    signal: AbortSignal,
  ): AsyncIterable<EventMessage> {
    const { since, until, filters } = options;
    const nowSec = Date.now() / 1000;
    const matches = (e: EventMessage) => matchesFilters(e, filters);
    // Listen before replaying so nothing published in between is lost.
    const untilSignal =
      until !== undefined && until > nowSec
        ? AbortSignal.any([signal, AbortSignal.timeout(Math.ceil((until - nowSec) * 1000))])
        : signal;
    const live = on(this.#emitter, 'event', { signal: untilSignal });
    if (since !== undefined) {
      for (const e of [...this.#past]) {
        if (e.timeNano / 1e9 < since) continue;
        if (until !== undefined && e.timeNano / 1e9 > until) return;
        if (matches(e)) yield e;
      }
    }
    if (until !== undefined && until <= nowSec) return;
    try {
      for await (const [e] of live as AsyncIterable<[EventMessage]>) {
        if (until !== undefined && e.timeNano / 1e9 > until) return;
        if (matches(e)) yield e;
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  }
}

/**
 * Docker's event filters: type, event (action), container, image, label (key or key=value),
 * plus network/volume/daemon ids. Values of one key are ORed; keys are ANDed.
 */
export function matchesFilters(e: EventMessage, filters: Filters): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const attrs = e.Actor.Attributes;
    const ok = values.some((v) => {
      switch (key) {
        case 'type':
          return e.Type === v;
        case 'event':
          return e.Action === v || e.Action.startsWith(`${v}:`);
        case 'container':
          return e.Type === 'container' && (e.Actor.ID.startsWith(v) || attrs.name === v);
        case 'image':
          return (e.Type === 'image' && (e.Actor.ID === v || attrs.name === v)) || attrs.image === v;
        case 'label': {
          const [k, val] = splitOnce(v, '=');
          return val === undefined ? k in attrs : attrs[k] === val;
        }
        case 'network':
        case 'volume':
        case 'daemon':
          return e.Type === key && (e.Actor.ID === v || attrs.name === v);
        case 'scope':
          return e.scope === v;
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
