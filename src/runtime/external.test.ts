import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runtimeMessage, updateResources } from './external.ts';

test('runtimeMessage takes the last logrus msg of a runtime’s stderr, else its last line', () => {
  assert.equal(
    runtimeMessage(
      'time="x" level=warning msg="w"\ntime="y" level=error msg="container \\"a\\" not running"\n',
    ),
    'container "a" not running',
  );
  assert.equal(runtimeMessage('first\nexec failed: boom\n'), 'exec failed: boom');
  assert.equal(runtimeMessage(''), '');
});

test('updateResources keeps what runc update reads (no devices, blkio weight only)', () => {
  assert.deepEqual(
    updateResources({
      memory: { limit: 1 },
      devices: [{ allow: false, access: 'rwm' }],
      blockIO: { weight: 100, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
      pids: { limit: -1 },
    }),
    { memory: { limit: 1 }, blockIO: { weight: 100 }, pids: { limit: -1 } },
  );
});
