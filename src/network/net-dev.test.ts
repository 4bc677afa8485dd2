import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProcNetDev } from './net-dev.ts';

test('/proc/<pid>/net/dev rows become counters by interface, without lo', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    1252      14    1    2    0     0          0         0      516       6    3    4    0     0       0          0
`;
  assert.deepEqual(parseProcNetDev(text), {
    eth0: {
      rx_bytes: 1252,
      rx_packets: 14,
      rx_errors: 1,
      rx_dropped: 2,
      tx_bytes: 516,
      tx_packets: 6,
      tx_errors: 3,
      tx_dropped: 4,
    },
  });
});
