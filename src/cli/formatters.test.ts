import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerSummary, ImageSummary } from '../api/types/index.ts';
import { formatInspectJson } from './commands/inspect.ts';
import {
  containerRow,
  displayablePorts,
  ellipsis,
  goQuote,
  IMAGES_DEFAULT_TABLE,
  IMAGES_DIGESTS_TABLE,
  IMAGES_HEADERS,
  imageRows,
  PS_DEFAULT_TABLE,
  PS_HEADERS,
  truncateId,
} from './formatters.ts';
import { renderList } from './output.ts';

const NOW = Date.UTC(2024, 0, 2, 3, 4, 5);
const secondsAgo = (s: number) => Math.floor(NOW / 1000) - s;

function container(over: Partial<ContainerSummary>): ContainerSummary {
  return {
    Id: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2',
    Names: ['/web'],
    Image: 'nginx:latest',
    ImageID: 'sha256:1111111111111111111111111111111111111111111111111111111111111111',
    Command: 'nginx -g daemon off;',
    Created: secondsAgo(120),
    Ports: [],
    Labels: {},
    State: 'running',
    Status: 'Up 2 minutes',
    HostConfig: { NetworkMode: 'default' },
    NetworkSettings: { Networks: { bridge: {} } },
    Mounts: [],
    ...over,
  };
}

test('ps renders docker default table columns from list items', async () => {
  const list = [
    container({ Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] }),
    container({
      Id: 'ffffeeeeddddccccbbbbaaaa99998888777766665555444433332222111100000',
      Names: ['/job'],
      Image: 'busybox',
      Command: 'sh -c echo hello world; sleep 1',
      Created: secondsAgo(3600),
      State: 'exited',
      Status: 'Exited (0) 3 seconds ago',
    }),
  ];
  const rows = list.map((c) => containerRow(c, { trunc: true, now: NOW }));
  const out = await renderList(rows, { defaultTable: PS_DEFAULT_TABLE, headers: PS_HEADERS });
  assert.equal(
    out,
    [
      'CONTAINER ID   IMAGE          COMMAND                  CREATED             STATUS                     PORTS                  NAMES',
      'a1b2c3d4e5f6   nginx:latest   "nginx -g daemon off;"   2 minutes ago       Up 2 minutes               0.0.0.0:8080->80/tcp   web',
      'ffffeeeedddd   busybox        "sh -c echo hello wo…"   About an hour ago   Exited (0) 3 seconds ago                          job',
      '',
    ].join('\n'),
  );
});

test('ps with no containers prints only the header', async () => {
  const out = await renderList([], { defaultTable: PS_DEFAULT_TABLE, headers: PS_HEADERS });
  assert.equal(out, 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('ps --format uses row fields and the Label method', async () => {
  const rows = [containerRow(container({ Labels: { tier: 'front', app: 'x' } }), { trunc: false, now: NOW })];
  const out = await renderList(rows, {
    format: '{{.Names}} {{.State}} {{.Labels}} {{.Label "tier"}} {{.Networks}}',
    defaultTable: PS_DEFAULT_TABLE,
    headers: PS_HEADERS,
  });
  assert.equal(out, 'web running app=x,tier=front front bridge\n');
});

test('ps rows keep full ids and commands with --no-trunc', () => {
  const row = containerRow(container({ Command: 'sh -c echo hello world; sleep 1' }), {
    trunc: false,
    now: NOW,
  });
  assert.equal(row.ID.length, 64);
  assert.equal(row.Command, '"sh -c echo hello world; sleep 1"');
});

test('ps shows an image id as a short id and drops digests', () => {
  const byId = containerRow(
    container({ Image: 'sha256:1111111111111111111111111111111111111111111111111111111111111111' }),
    {
      trunc: true,
      now: NOW,
    },
  );
  assert.equal(byId.Image, '111111111111');
  const byDigest = containerRow(container({ Image: 'docker.io/library/alpine:3@sha256:abcd' }), {
    trunc: true,
    now: NOW,
  });
  assert.equal(byDigest.Image, 'alpine:3');
});

test('ports are grouped into ranges as docker displays them', () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 81, Type: 'tcp' },
      { PrivatePort: 80, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
      { IP: '0.0.0.0', PrivatePort: 443, PublicPort: 443, Type: 'tcp' },
      { IP: '::', PrivatePort: 22, PublicPort: 2222, Type: 'tcp' },
    ]),
    '53/udp, 80-81/tcp, 0.0.0.0:443->443/tcp, [::]:2222->22/tcp',
  );
});

test('helpers: truncateId, ellipsis and goQuote', () => {
  assert.equal(truncateId('sha256:0123456789abcdef0123'), '0123456789ab');
  assert.equal(ellipsis('abcdef', 4), 'abc…');
  assert.equal(ellipsis('abc', 4), 'abc');
  assert.equal(goQuote('say "hi"\n'), '"say \\"hi\\"\\n"');
});

function image(over: Partial<ImageSummary>): ImageSummary {
  return {
    Id: 'sha256:2222222222222222222222222222222222222222222222222222222222222222',
    ParentId: '',
    RepoTags: ['busybox:latest'],
    RepoDigests: [],
    Created: secondsAgo(3 * 24 * 3600),
    Size: 4_261_000,
    SharedSize: -1,
    Labels: {},
    Containers: -1,
    ...over,
  };
}

test('images renders repository, tag, short id, age and decimal size', async () => {
  const list = [
    image({ RepoTags: ['busybox:latest', 'docker.io/library/busybox:1.36'] }),
    image({
      Id: 'sha256:3333333333333333333333333333333333333333333333333333333333333333',
      RepoTags: [],
      RepoDigests: [],
      Size: 999,
      Created: secondsAgo(30),
    }),
  ];
  const rows = imageRows(list, { trunc: true, digests: false, now: NOW });
  const out = await renderList(rows, { defaultTable: IMAGES_DEFAULT_TABLE, headers: IMAGES_HEADERS });
  assert.equal(
    out,
    [
      'REPOSITORY   TAG       IMAGE ID       CREATED          SIZE',
      'busybox      latest    222222222222   3 days ago       4.26MB',
      'busybox      1.36      222222222222   3 days ago       4.26MB',
      '<none>       <none>    333333333333   30 seconds ago   999B',
      '',
    ].join('\n'),
  );
});

test('images --digests shows one row per digest and digest-only references', async () => {
  const rows = imageRows(
    [image({ RepoTags: ['alpine:3'], RepoDigests: ['alpine@sha256:aaaa', 'localhost:5000/x@sha256:bbbb'] })],
    { trunc: true, digests: true, now: NOW },
  );
  assert.deepEqual(
    rows.map((r) => [r.Repository, r.Tag, r.Digest]),
    [
      ['alpine', '3', 'sha256:aaaa'],
      ['localhost:5000/x', '<none>', 'sha256:bbbb'],
    ],
  );
  const out = await renderList(rows.slice(0, 1), {
    defaultTable: IMAGES_DIGESTS_TABLE,
    headers: IMAGES_HEADERS,
  });
  assert.equal(
    out,
    'REPOSITORY   TAG       DIGEST        IMAGE ID       CREATED      SIZE\n' +
      'alpine       3         sha256:aaaa   222222222222   3 days ago   4.26MB\n',
  );
});

test('images --format json prints one JSON object per row', async () => {
  const rows = imageRows([image({})], { trunc: true, digests: false, now: NOW });
  const out = await renderList(rows, {
    format: 'json',
    defaultTable: IMAGES_DEFAULT_TABLE,
    headers: IMAGES_HEADERS,
  });
  const parsed = JSON.parse(out.trim());
  assert.equal(parsed.Repository, 'busybox');
  assert.equal(parsed.Size, '4.26MB');
  assert.equal(parsed.ID, '222222222222');
});

test('inspect prints a four-space indented JSON array, [] when nothing matched', () => {
  assert.equal(formatInspectJson([]), '[]\n');
  assert.equal(
    formatInspectJson([{ Id: 'x', State: { Running: true } }]),
    '[\n    {\n        "Id": "x",\n        "State": {\n            "Running": true\n        }\n    }\n]\n',
  );
});
