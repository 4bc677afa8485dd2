/**
 * The routes table: method, path (Docker's, from the v1.41 swagger) and handler. Every path is
 * also served under `/v{version}`. Names with `{name:.+}` may contain '/' (image references).
 * Order matters where patterns overlap: `/images/json` before `/images/{name:.+}/json`.
 */
import type { Route } from './context.ts';
import { attach, attachHijacked } from './handlers/attach.ts';
import * as containers from './handlers/containers.ts';
import * as exec from './handlers/exec.ts';
import * as transfer from './handlers/image-transfer.ts';
import * as images from './handlers/images.ts';
import * as system from './handlers/system.ts';
import { Router } from './router.ts';

export function buildRouter(): Router<Route> {
  const r = new Router<Route>();
  const add = (method: string, path: string, route: Route['handle'], hijack?: Route['hijack']) =>
    r.add(method, path, hijack ? { handle: route, hijack } : { handle: route });

  add('GET', '/_ping', system.ping);
  add('HEAD', '/_ping', system.pingHead);
  add('GET', '/version', system.version);
  add('GET', '/info', system.info);
  add('GET', '/events', system.events);

  add('POST', '/containers/create', containers.create);
  add('GET', '/containers/json', containers.list);
  add('GET', '/containers/{id}/json', containers.inspect);
  add('POST', '/containers/{id}/start', containers.start);
  add('POST', '/containers/{id}/stop', containers.stop);
  add('POST', '/containers/{id}/restart', containers.restart);
  add('POST', '/containers/{id}/kill', containers.kill);
  add('POST', '/containers/{id}/wait', containers.wait);
  add('DELETE', '/containers/{id}', containers.remove);
  add('POST', '/containers/{id}/rename', containers.rename);
  add('GET', '/containers/{id}/top', containers.top);
  add('GET', '/containers/{id}/logs', containers.logs);
  add('POST', '/containers/{id}/attach', attach, attachHijacked);
  add('POST', '/containers/{id}/resize', containers.resize);

  add('POST', '/containers/{id}/exec', exec.create);
  add('POST', '/exec/{id}/start', exec.start, exec.startHijacked);
  add('GET', '/exec/{id}/json', exec.inspect);
  add('POST', '/exec/{id}/resize', exec.resize);

  add('GET', '/images/json', images.list);
  add('GET', '/images/get', transfer.saveMany);
  add('POST', '/images/load', transfer.load);
  add('POST', '/commit', transfer.commit);
  add('POST', '/auth', transfer.auth);
  add('GET', '/images/{name:.+}/get', transfer.saveOne);
  add('POST', '/images/{name:.+}/push', transfer.push);
  add('POST', '/images/create', images.create);
  add('GET', '/images/{name:.+}/json', images.inspect);
  add('GET', '/images/{name:.+}/history', images.history);
  add('POST', '/images/{name:.+}/tag', images.tag);
  add('DELETE', '/images/{name:.+}', images.remove);
  return r;
}
