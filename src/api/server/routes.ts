/**
 * The routes table: method, path (Docker's, from the v1.41 swagger) and handler. Every path is
 * also served under `/v{version}`. Names with `{name:.+}` may contain '/' (image references).
 * Order matters where patterns overlap: `/images/json` before `/images/{name:.+}/json`.
 */
import type { Route } from './context.ts';
import { attach, attachHijacked } from './handlers/attach.ts';
import * as build from './handlers/build.ts';
import { checkpoints } from './handlers/checkpoint.ts';
import * as containerUpdate from './handlers/container-update.ts';
import * as containers from './handlers/containers.ts';
import * as exec from './handlers/exec.ts';
import * as transfer from './handlers/image-transfer.ts';
import * as images from './handlers/images.ts';
import * as networks from './handlers/networks.ts';
import * as system from './handlers/system.ts';
import * as volumes from './handlers/volumes.ts';
import * as archive from './handlers/archive.ts';
import * as disk from './handlers/disk.ts';
import * as stats from './handlers/stats.ts';
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
  add('GET', '/system/df', disk.df);

  add('POST', '/containers/create', containers.create);
  add('POST', '/containers/prune', disk.pruneContainers);
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
  add('POST', '/containers/{id}/update', containerUpdate.update);
  add('POST', '/containers/{id}/pause', containerUpdate.pause);
  add('POST', '/containers/{id}/unpause', containerUpdate.unpause);
  add('GET', '/containers/{id}/stats', stats.stats);
  add('GET', '/containers/{id}/checkpoints', checkpoints);
  add('POST', '/containers/{id}/checkpoints', checkpoints);
  add('DELETE', '/containers/{id}/checkpoints/{checkpoint}', checkpoints);

  add('POST', '/containers/{id}/exec', exec.create);
  add('POST', '/exec/{id}/start', exec.start, exec.startHijacked);
  add('GET', '/exec/{id}/json', exec.inspect);
  add('POST', '/exec/{id}/resize', exec.resize);

  add('GET', '/images/json', images.list);
  add('POST', '/images/prune', disk.pruneImages);
  add('GET', '/images/get', transfer.saveMany);
  add('GET', '/images/search', transfer.search);
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

  add('POST', '/build', build.build);
  add('POST', '/build/prune', disk.pruneBuild);
  add('GET', '/networks', networks.list);
  add('POST', '/networks/create', networks.create);
  add('POST', '/networks/prune', networks.prune);
  add('GET', '/networks/{id}', networks.inspect);
  add('DELETE', '/networks/{id}', networks.remove);
  add('POST', '/networks/{id}/connect', networks.connect);
  add('POST', '/networks/{id}/disconnect', networks.disconnect);
  add('GET', '/containers/{id}/archive', archive.get);
  add('PUT', '/containers/{id}/archive', archive.put);
  add('HEAD', '/containers/{id}/archive', archive.head);
  add('GET', '/containers/{id}/changes', archive.changes);
  add('GET', '/containers/{id}/export', archive.exportContainer);

  add('GET', '/volumes', volumes.list);
  add('POST', '/volumes/create', volumes.create);
  add('POST', '/volumes/prune', volumes.prune);
  add('GET', '/volumes/{name}', volumes.inspect);
  add('DELETE', '/volumes/{name}', volumes.remove);
  return r;
}
