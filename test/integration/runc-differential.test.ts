/**
 * The differential suite: the same OCI bundle (config.json made by engine/spec's toOciSpec, as
 * berthd makes it for a `docker run` with the given flags) is run through the command line of
 * berth-runtime (our runtime behind runc's CLI) and of Debian's runc, and a probe script (busybox sh) prints what the container observes: capabilities,
 * seccomp mode, no_new_privs, ids and groups, hostname, uid/gid maps, rlimits, mountinfo,
 * /dev, masked and read-only paths, namespaces (host or new), cgroup limits, sysctls, env, and
 * the errno of syscalls the profile blocks. The two outputs must be identical.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ContainerCreateRequest, HostConfig } from '../../src/api/types/index.ts';
import { type OciContext, toContainerSpec, toOciSpec } from '../../src/engine/spec/index.ts';
import type { RuntimeSpec } from '../../src/oci/index.ts';
import { BERTH_RUNTIME, ensureBundles } from '../helpers/bins.ts';

ensureBundles();
const berthRuntime = [process.execPath, BERTH_RUNTIME];
const busybox = '/bin/busybox';
const hasRunc = (() => {
  try {
    execFileSync('runc', ['--version']);
    return true;
  } catch {
    return false;
  }
})();
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : !existsSync(busybox)
      ? 'needs busybox-static'
      : !hasRunc && 'needs runc';

/** What the container observes, one section per fact. */
const PROBE = String.raw`
exec 2>&1
echo "== status"; grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|Seccomp|NoNewPrivs|Uid|Gid|Groups):' /proc/self/status
echo "== id"; id
echo "== hostname"; hostname; cat /proc/sys/kernel/domainname
echo "== maps"; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups
echo "== ulimit"; ulimit -a
echo "== mounts"; awk '{ for (i = 7; $i != "-"; i++); print $5, $6, $(i+1), $(i+3) }' /proc/self/mountinfo
echo "== dev"; ls -ln /dev | awk 'NR > 1 { print $1, $3, $4, $5, $6, $NF }'
echo "== masked"
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/acpi /sys/firmware /proc/scsi; do
  if [ -e $p ]; then echo "$p $(ls -ld $p | cut -c1) $(head -c 8 $p 2>/dev/null | wc -c) $(ls $p 2>/dev/null | wc -l)"; fi
done
echo "== readonly"
for p in /proc/sys/kernel/domainname /proc/sysrq-trigger /proc/irq/default_smp_affinity /sys/kernel/profiling; do
  if [ -e $p ]; then (echo 0 > $p) 2>/dev/null && echo "$p writable" || echo "$p refused"; fi
done
echo "== ns"; for n in cgroup ipc mnt net pid user uts; do echo "$n $(readlink /proc/self/ns/$n)"; done
echo "== cgroup"; cat /proc/self/cgroup | sed 's/ours-d[0-9]*\|runc-d[0-9]*/CID/'
cgpath() { awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup; }
for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.soft_limit_in_bytes pids/pids.max cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus blkio/blkio.weight; do
  c=$(echo $f | cut -d/ -f1); p=/hostcg/$c$(cgpath $c)/$(echo $f | cut -d/ -f2)
  [ -e $p ] && echo "$f $(cat $p)"
done
# The same rules, in the order each runtime wrote them: compare them as a set.
echo "== devices.list"; sort /hostcg/devices$(cgpath devices)/devices.list 2>&1
echo "== sysctl"; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range 2>&1
echo "== env"; env | grep -v '^PWD=\|^SHLVL=\|^_=' | sort
echo "== cwd"; pwd
echo "== oom"; cat /proc/self/oom_score_adj
echo "== syscalls"
try() { "$@" >/dev/null 2>/tmp/p/err; echo "$* -> $? $(sed 's/^[^:]*: //' /tmp/p/err 2>/dev/null | head -1)"; }
rm -rf /tmp/p 2>/dev/null; mkdir -p /tmp/p/m
try mount -t tmpfs t /tmp/p/m
try unshare -n true
try unshare -U true
try chroot / true
try mknod /tmp/p/null c 1 3
try mknod /tmp/p/sda b 8 0
try head -c1 /tmp/p/sda
try mkdir /tmp/p/newdir
try chmod 700 /tmp/p/newdir
try hostname probe-renamed
try nice -n -5 true
try swapoff /nope
try sync
try setpriv --help
umount /tmp/p/m 2>/dev/null; rm -rf /tmp/p 2>/dev/null
echo "== end"
`;

interface Config {
  name: string;
  hostConfig?: HostConfig;
  body?: ContainerCreateRequest;
  ctx?: Partial<OciContext>;
  /** Changes to the spec after toOciSpec (user namespace maps, custom seccomp…). */
  edit?: (s: RuntimeSpec) => void;
}

const MB = 1024 * 1024;
const USERNS_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

const CUSTOM_PROFILE = JSON.stringify({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    { names: ['chmod', 'fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    { names: ['sync'], action: 'SCMP_ACT_ERRNO' },
  ],
});

/**
 * A process holding a user namespace (USERNS_MAP) and a network namespace of its own, for the
 * bundle that joins both by path (as a container sharing another's network under userns-remap).
 */
const holder = { pid: 0, pidnsPid: 0 };

const CONFIGS: Config[] = [
  { name: 'docker defaults' },
  { name: 'read-only rootfs', hostConfig: { ReadonlyRootfs: true } },
  { name: 'cap-drop ALL', hostConfig: { CapDrop: ['ALL'] } },
  {
    name: 'cap-drop ALL, cap-add CHOWN and KILL',
    hostConfig: { CapDrop: ['ALL'], CapAdd: ['CHOWN', 'KILL'] },
  },
  { name: 'cap-add SYS_ADMIN (seccomp opens mount/unshare)', hostConfig: { CapAdd: ['SYS_ADMIN'] } },
  {
    name: 'cap-add SYS_NICE, NET_ADMIN, SYS_PTRACE',
    hostConfig: { CapAdd: ['SYS_NICE', 'NET_ADMIN', 'SYS_PTRACE'] },
  },
  { name: 'cap-drop CHOWN, MKNOD, NET_RAW', hostConfig: { CapDrop: ['CHOWN', 'MKNOD', 'NET_RAW'] } },
  { name: 'seccomp unconfined', hostConfig: { SecurityOpt: ['seccomp=unconfined'] } },
  { name: 'custom seccomp profile with errnos', hostConfig: { SecurityOpt: [`seccomp=${CUSTOM_PROFILE}`] } },
  { name: 'no-new-privileges', hostConfig: { SecurityOpt: ['no-new-privileges'] } },
  {
    name: 'no-new-privileges with a custom profile',
    hostConfig: { SecurityOpt: ['no-new-privileges', `seccomp=${CUSTOM_PROFILE}`] },
  },
  {
    name: 'systempaths=unconfined (no masked or read-only paths)',
    hostConfig: { MaskedPaths: [], ReadonlyPaths: [] },
  },
  { name: 'user 1000:1000 with groups', body: { User: '1000:1000' }, hostConfig: { GroupAdd: ['10', '20'] } },
  { name: 'user 65534 with default caps', body: { User: '65534:65534' } },
  {
    name: 'rlimits nofile, nproc, core',
    hostConfig: {
      Ulimits: [
        { Name: 'nofile', Soft: 512, Hard: 1024 },
        { Name: 'nproc', Soft: 100, Hard: 200 },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
    },
  },
  {
    name: 'memory and swap limits',
    hostConfig: { Memory: 64 * MB, MemorySwap: 128 * MB, MemoryReservation: 32 * MB },
  },
  { name: 'cpu quota, shares, cpuset', hostConfig: { NanoCpus: 500000000, CpuShares: 512, CpusetCpus: '0' } },
  { name: 'pids limit and blkio weight', hostConfig: { PidsLimit: 50, BlkioWeight: 300 } },
  { name: 'device cgroup rules', hostConfig: { DeviceCgroupRules: ['c 1:3 rwm', 'b 8:* r'] } },
  {
    name: 'a --device node',
    ctx: {
      devices: [
        {
          path: '/dev/myzero',
          type: 'c',
          major: 1,
          minor: 5,
          fileMode: 0o666,
          uid: 0,
          gid: 0,
          permissions: 'rw',
        },
      ],
    },
  },
  { name: 'host uts namespace', hostConfig: { UTSMode: 'host' }, ctx: { utsns: { mode: 'host' } } },
  {
    name: 'host ipc namespace',
    hostConfig: { IpcMode: 'host' },
    ctx: { ipcns: { mode: 'host' }, shmPath: '/dev/shm' },
  },
  { name: 'host pid namespace', hostConfig: { PidMode: 'host' }, ctx: { pidns: { mode: 'host' } } },
  { name: 'host network namespace', hostConfig: { NetworkMode: 'host' }, ctx: { netns: { mode: 'host' } } },
  { name: 'private cgroup namespace', hostConfig: { CgroupnsMode: 'private' } },
  {
    name: 'sysctls in the container namespaces',
    hostConfig: { Sysctls: { 'kernel.shmmax': '123456', 'net.ipv4.ip_forward': '1' } },
  },
  {
    name: 'oom score adj and tmpfs',
    hostConfig: { OomScoreAdj: 500, Tmpfs: { '/run': 'rw,size=1m,mode=755' } },
  },
  {
    name: 'hostname, domainname, env and workdir',
    body: { Hostname: 'probe', Domainname: 'example.org', Env: ['A=1', 'B=two words'], WorkingDir: '/tmp' },
  },
  {
    name: 'user namespace with uid/gid maps',
    edit: (s) => {
      s.linux?.namespaces?.push({ type: 'user' });
      if (s.linux) {
        s.linux.uidMappings = USERNS_MAP;
        s.linux.gidMappings = USERNS_MAP;
        // Only gids the namespace maps can be given (both runtimes refuse 2147483647 here).
        s.linux.sysctl = { ...s.linux.sysctl, 'net.ipv4.ping_group_range': '0 65535' };
      }
    },
  },
  {
    name: "another process's user and network namespaces joined by path",
    edit: (s) => {
      if (!s.linux) return;
      s.linux.namespaces = (s.linux.namespaces ?? []).filter((n) => n.type !== 'network');
      s.linux.namespaces.push(
        { type: 'user', path: `/proc/${holder.pid}/ns/user` },
        { type: 'network', path: `/proc/${holder.pid}/ns/net` },
      );
      // runc 1.1 wants the maps of a joined user namespace listed too (dockerd lists them).
      s.linux.uidMappings = USERNS_MAP;
      s.linux.gidMappings = USERNS_MAP;
      s.linux.sysctl = { ...s.linux.sysctl, 'net.ipv4.ping_group_range': '0 65535' };
    },
  },
  {
    name: "another process's user, network and PID namespaces joined by path",
    edit: (s) => {
      if (!s.linux) return;
      s.linux.namespaces = (s.linux.namespaces ?? []).filter((n) => n.type !== 'network' && n.type !== 'pid');
      s.linux.namespaces.push(
        { type: 'user', path: `/proc/${holder.pid}/ns/user` },
        { type: 'network', path: `/proc/${holder.pid}/ns/net` },
        { type: 'pid', path: `/proc/${holder.pidnsPid}/ns/pid` },
      );
      s.linux.uidMappings = USERNS_MAP;
      s.linux.gidMappings = USERNS_MAP;
      s.linux.sysctl = { ...s.linux.sysctl, 'net.ipv4.ping_group_range': '0 65535' };
    },
  },
  {
    name: 'user namespace with maps and a read-only rootfs',
    hostConfig: { ReadonlyRootfs: true },
    edit: (s) => {
      s.linux?.namespaces?.push({ type: 'user' });
      if (s.linux) {
        s.linux.uidMappings = USERNS_MAP;
        s.linux.gidMappings = USERNS_MAP;
        // Only gids the namespace maps can be given (both runtimes refuse 2147483647 here).
        s.linux.sysctl = { ...s.linux.sysctl, 'net.ipv4.ping_group_range': '0 65535' };
      }
    },
  },
];

describe('differential: berth runtime vs runc on the same bundle', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-diff-'));
  const cgroupParent = `berth-test-diff${process.pid}`;
  const rootfs = join(tmp, 'rootfs');
  const out = join(tmp, 'out');
  const runcRoot = join(tmp, 'runc');
  const oursRoot = join(tmp, 'berth-runtime');
  const hostNs = new Map<string, string>();
  let n = 0;

  before(() => {
    chmodSync(tmp, 0o755);
    for (const d of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'out', 'hostcg', 'run'])
      mkdirSync(join(rootfs, d), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync(busybox, join(rootfs, 'bin/busybox'));
    chmodSync(join(rootfs, 'bin/busybox'), 0o755);
    for (const applet of execFileSync(busybox, ['--list']).toString().split('\n').filter(Boolean)) {
      if (applet !== 'busybox') symlinkSync('busybox', join(rootfs, 'bin', applet));
    }
    writeFileSync(
      join(rootfs, 'etc/passwd'),
      'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n',
    );
    writeFileSync(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    writeFileSync(join(rootfs, 'probe.sh'), PROBE);
    mkdirSync(out, { mode: 0o777 });
    chmodSync(out, 0o777);
    for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts']) {
      hostNs.set(readlinkSync(`/proc/self/ns/${ns}`), 'host');
    }
  });

  before(async () => {
    // unshare(1) makes the namespaces, then the maps are written from here (as a runtime does).
    const child = spawn('unshare', ['--user', '--net', '--pid', '--fork', '--', 'sleep', '600'], {
      stdio: 'ignore',
    });
    holder.pid = child.pid ?? 0;
    const ours = readlinkSync('/proc/self/ns/user');
    for (let i = 0; i < 200 && readlinkSync(`/proc/${holder.pid}/ns/user`) === ours; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const map = USERNS_MAP.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
    writeFileSync(`/proc/${holder.pid}/uid_map`, map);
    writeFileSync(`/proc/${holder.pid}/gid_map`, map);
    // unshare --fork: its child (sleep) is PID 1 of the new PID namespace.
    const children = `/proc/${holder.pid}/task/${holder.pid}/children`;
    for (let i = 0; i < 200 && !holder.pidnsPid; i++) {
      holder.pidnsPid = Number(readFileSync(children, 'utf8').trim().split(' ')[0]) || 0;
      if (!holder.pidnsPid) await new Promise((r) => setTimeout(r, 10));
    }
  });

  after(() => {
    // PID 1 of the holder's PID namespace first: unshare's death would leave it running.
    for (const pid of [holder.pidnsPid, holder.pid]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {}
    }
    rmSync(tmp, { recursive: true, force: true });
    for (const h of readdirSync('/sys/fs/cgroup')) {
      const dir = join('/sys/fs/cgroup', h, cgroupParent);
      if (!existsSync(dir)) continue;
      for (const sub of readdirSync(dir, { withFileTypes: true })) {
        if (sub.isDirectory()) rmdirSync(join(dir, sub.name));
      }
      rmdirSync(dir);
    }
  });

  function bundleFor(c: Config): { dir: string; spec: RuntimeSpec } {
    const id = `d${++n}`;
    const created = toContainerSpec(
      { Image: 'probe', Cmd: ['sh', '/probe.sh'], ...c.body, HostConfig: c.hostConfig ?? {} },
      { config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] } },
      { id: id.padEnd(64, '0'), name: id, apiVersion: '1.41' },
    ).spec;
    const user = (c.body?.User ?? '0:0').split(':').map(Number);
    const spec = toOciSpec(created, {
      rootfsPath: rootfs,
      cgroupsPath: `/${cgroupParent}/${id}`,
      user: {
        uid: user[0] ?? 0,
        gid: user[1] ?? 0,
        additionalGids: (c.hostConfig?.GroupAdd ?? []).map(Number),
        // resolveUser's HOME (runc would add the passwd one itself when the env has none).
        home: (user[0] ?? 0) === 0 ? '/root' : '/',
      },
      netns: { mode: 'new' },
      mounts: [
        { source: out, destination: '/out', writable: true },
        { source: '/sys/fs/cgroup', destination: '/hostcg', writable: false },
      ],
      ...c.ctx,
    });
    if (spec.process) spec.process.args = ['sh', '-c', 'sh /probe.sh > /out/result'];
    c.edit?.(spec);
    const dir = join(tmp, `bundle-${id}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 1));
    return { dir, spec };
  }

  /**
   * `<runtime> --root R run --bundle B <name>` in the foreground (the container's stdio is the
   * runtime's), then the probe's output from /out/result. For every fifth configuration our side uses
   * create/start/state/delete instead, so both paths of berth-runtime are covered.
   */
  async function runCli(
    cli: string[],
    root: string,
    bundle: { dir: string; spec: RuntimeSpec },
    name: string,
    split: boolean,
  ): Promise<string> {
    rmSync(join(out, 'result'), { force: true });
    const spec: RuntimeSpec = JSON.parse(readFileSync(join(bundle.dir, 'config.json'), 'utf8'));
    spec.linux = { ...spec.linux, cgroupsPath: `/${cgroupParent}/${name}` };
    writeFileSync(join(bundle.dir, 'config.json'), JSON.stringify(spec, null, 1));
    const call = async (args: string[]) => {
      const child = spawn(cli[0]!, [...cli.slice(1), '--root', root, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 20_000,
      });
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      child.stdout.on('data', (c) => (err += c));
      // `create` hands its stdio to the container, which keeps the pipes open until it exits:
      // wait for the runtime's exit, not for the pipes to close.
      const event = args[0] === 'create' ? 'exit' : 'close';
      const code = await new Promise<number>((resolve) =>
        child.on(event, (c: number | null) => resolve(c ?? -1)),
      );
      return { code, err };
    };
    let res: { code: number; err: string };
    if (split) {
      res = await call(['create', '--bundle', bundle.dir, name]);
      if (res.code === 0) res = await call(['start', name]);
      // The probe's last line first (cheap), then the runtime must report the container stopped.
      const result = join(out, 'result');
      for (
        let i = 0;
        i < 400 && !(existsSync(result) && readFileSync(result, 'utf8').endsWith('== end\n'));
        i++
      )
        await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 50 && !/"status": "stopped"/.test((await call(['state', name])).err); i++)
        await new Promise((r) => setTimeout(r, 100));
      const del = await call(['delete', name]);
      assert.equal(del.code, 0, del.err);
    } else {
      res = await call(['run', '--bundle', bundle.dir, name]);
    }
    if (!existsSync(join(out, 'result'))) throw new Error(`${cli.at(-1)} failed (${res.code}): ${res.err}`);
    return readFileSync(join(out, 'result'), 'utf8');
  }

  /**
   * Namespace links → host/new; the per-runtime cgroup leaf names → one name. One known
   * difference is masked, in user namespaces only: runc creates the IPC namespace after becoming
   * the user namespace's root (uid only), so /dev/mqueue belongs to 0:65534 there; our shim
   * clones every namespace at once, so it belongs to 65534:65534.
   */
  function normalize(text: string, id: string): string {
    return text
      .replace(/^drwxrwxrwt (0|65534) 65534 (\d+ \w+ mqueue)$/m, 'drwxrwxrwt USERNS-MQUEUE-OWNER $2')
      .replace(/^(\w+) (\w+:\[\d+\])$/gm, (_, ns, link) => `${ns} ${hostNs.get(link) ?? 'new'}`)
      .replaceAll(`ours-${id}`, 'CID')
      .replaceAll(`runc-${id}`, 'CID');
  }

  for (const c of CONFIGS) {
    test(`same observations: ${c.name}`, async () => {
      const bundle = bundleFor(c);
      const id = `d${n}`;
      const ours = normalize(await runCli(berthRuntime, oursRoot, bundle, `ours-${id}`, n % 5 === 0), id);
      const theirs = normalize(await runCli(['runc'], runcRoot, bundle, `runc-${id}`, false), id);
      assert.match(ours, /== end\n$/);
      assert.equal(ours, theirs);
    });
  }
});
