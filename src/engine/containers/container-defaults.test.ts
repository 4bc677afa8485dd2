import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultsContext, dnsSettings } from './container-defaults.ts';

test("the daemon's defaults become OciContext fields; no-new-privileges=false turns its default off", () => {
  const d = {
    init: true,
    noNewPrivileges: true,
    seccompProfile: 'unconfined',
    ulimits: [{ name: 'nofile', soft: 1, hard: 2 }],
  };
  assert.deepEqual(defaultsContext(d, {}), {
    initByDefault: true,
    noNewPrivilegesByDefault: true,
    defaultSeccompProfile: 'unconfined',
    defaultUlimits: [{ name: 'nofile', soft: 1, hard: 2 }],
  });
  assert.equal(
    defaultsContext(d, { SecurityOpt: ['no-new-privileges=false'] }).noNewPrivilegesByDefault,
    undefined,
  );
  assert.equal(
    defaultsContext(d, { SecurityOpt: ['no-new-privileges:true'] }).noNewPrivilegesByDefault,
    true,
  );
  assert.deepEqual(defaultsContext({}, {}), {});
});

test("DNS settings: the container's own, else the daemon's, field by field", () => {
  const d = { dns: ['10.0.0.2'], dnsSearch: ['corp.test'], dnsOptions: ['ndots:2'] };
  assert.deepEqual(dnsSettings(d, {}), { dns: ['10.0.0.2'], search: ['corp.test'], options: ['ndots:2'] });
  assert.deepEqual(dnsSettings(d, { dns: ['1.1.1.1'], search: null, options: [] }), {
    dns: ['1.1.1.1'],
    search: ['corp.test'],
    options: ['ndots:2'],
  });
});
