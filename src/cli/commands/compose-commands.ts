/**
 * `berth compose exec | run | top | port | images | pull | push` (Docker Compose v2
 * cmd/compose/exec.go, run.go, top.go, port.go, images.go, pull.go, push.go), with their
 * output formats: top and images as tab-aligned tables, port as `ip:port`.
 */
import type { Command } from 'commander';
import {
  containerImages,
  createOneOff,
  LABEL,
  type Project,
  pull,
  push,
  serviceContainer,
  shellSplit,
} from '../../compose/index.ts';
import type { CliContext } from '../context.ts';
import { registryAuthHeader } from '../docker-config.ts';
import { ExitError } from '../errors.ts';
import { streamHijacked } from '../hijack.ts';
import { forwardSignals, monitorTtySize } from '../terminal.ts';
import { humanDuration, humanSize } from '../units.ts';
import { registryDomain } from './transfer.ts';
import { execCommand } from './exec.ts';

/** Go text/tabwriter with padchar ' ' and no flags: each column as wide as its widest cell. */
export function tabwrite(rows: string[][], minwidth: number, padding: number): string {
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let i = 0; i < cols - 1; i++)
    widths[i] = Math.max(
      minwidth,
      ...rows.map((r) => (i < r.length - 1 ? (r[i] ?? '').length + padding : 0)),
    );
  return rows
    .map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join(''))
    .join('\n')
    .concat(rows.length ? '\n' : '');
}

const collect = (v: string, p: string[]) => [...p, v];

export function registerComposeCommands(
  prog: Command,
  ctx: CliContext,
  load: () => Project,
  say: (line: string) => void,
): void {
  const auth = async (image: string) =>
    registryAuthHeader(ctx.env, registryDomain(image.split(/[:@]/)[0] ?? image));

  prog
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<service>')
    .argument('<command...>')
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('-e, --env <env>', 'Set environment variables', collect, [] as string[])
    .option('--index <n>', 'Index of the container if service has multiple replicas', '0')
    .option(
      '-T, --no-TTY',
      'Disable pseudo-TTY allocation. By default it allocates a TTY when stdout is a terminal',
    )
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .option('--privileged', 'Give extended privileges to the process')
    .passThroughOptions()
    .action(async (service: string, command: string[], o) => {
      const p = load();
      if (!p.services[service]) throw new ExitError(1, `no such service: ${service}`);
      const client = await ctx.client();
      const c = await serviceContainer(client, p.name, service, Number(o.index));
      const tty = o.TTY !== false && !!ctx.io.stdout.isTTY;
      const code = await execCommand(
        ctx,
        {
          detach: o.detach,
          tty,
          interactive: true,
          user: o.user,
          workdir: o.workdir,
          env: o.env,
          privileged: o.privileged,
        },
        [c.Id, ...command],
      );
      if (code !== 0) throw new ExitError(code);
    });

  prog
    .command('run')
    .description('Run a one-off command on a service')
    .argument('<service>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('-e, --env <env>', 'Set environment variables', collect, [] as string[])
    .option('-l, --label <label>', 'Add or override a label', collect, [] as string[])
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('--name <name>', 'Assign a name to the container')
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('--cap-add <cap>', 'Add Linux capabilities', collect, [] as string[])
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect, [] as string[])
    .option('--no-deps', "Don't start linked services")
    .option('-v, --volume <volume>', 'Bind mount a volume', collect, [] as string[])
    .option('-p, --publish <port>', "Publish a container's port(s) to the host", collect, [] as string[])
    .option('--use-aliases', "Use the service's network aliases in the network(s) the container connects to")
    .option('-P, --service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('--build', 'Build image before starting container')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .passThroughOptions()
    .action(async (service: string, command: string[], o) => {
      const p = load();
      const client = await ctx.client();
      const labels: Record<string, string> = {};
      for (const l of o.label as string[]) {
        const i = l.indexOf('=');
        if (i < 0) throw new ExitError(1, 'label must be set as KEY=VALUE');
        labels[l.slice(0, i)] = l.slice(i + 1);
      }
      // Compose allocates a TTY by default, but not when stdin is not a terminal.
      const tty = o.TTY !== false && !!ctx.io.stdin.isTTY && !!ctx.io.stdout.isTTY;
      const detach = !!o.detach;
      const { id } = await createOneOff(
        client,
        p,
        {
          service,
          command,
          ...(o.entrypoint !== undefined ? { entrypoint: shellSplit(o.entrypoint) } : {}),
          env: o.env,
          labels,
          name: o.name,
          user: o.user,
          workdir: o.workdir,
          capAdd: o.capAdd,
          capDrop: o.capDrop,
          noDeps: o.deps === false,
          servicePorts: o.servicePorts,
          publish: o.publish,
          volumes: o.volume,
          useAliases: o.useAliases,
          autoRemove: !!o.rm,
          tty,
          interactive: true,
          detach,
          build: o.build,
          removeOrphans: o.removeOrphans,
          progress: say,
        },
        ctx.env,
      );
      if (detach) {
        await client.containerStart(id);
        ctx.out(id);
        return;
      }
      const code = await attachAndStart(ctx, id, tty, !!o.rm);
      if (code !== 0) throw new ExitError(code);
    });

  prog
    .command('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action(async (services: string[]) => {
      const p = load();
      const client = await ctx.client();
      const list = (
        await client.containerList({ filters: { label: [`${LABEL.project}=${p.name}`] } })
      ).filter((c) => !services.length || services.includes(c.Labels?.[LABEL.service] ?? ''));
      const name = (c: (typeof list)[number]) => (c.Names?.[0] ?? '').replace(/^\//, '');
      list.sort((a, b) => name(a).localeCompare(name(b)));
      const tops = await Promise.all(list.map((c) => client.containerTop(c.Id)));
      // Columns in the order met, SERVICE and # first, CMD last (cmd/compose/top.go).
      const header = ['SERVICE', '#'];
      const rows: Record<string, string>[] = [];
      tops.forEach((t, i) => {
        const c = list[i] as (typeof list)[number];
        for (const proc of t.Processes ?? []) {
          const row: Record<string, string> = {
            SERVICE: c.Labels?.[LABEL.service] ?? name(c),
            '#': c.Labels?.[LABEL.number] ?? '',
          };
          (t.Titles ?? []).forEach((title, j) => {
            if (!header.includes(title)) header.push(title);
            row[title] = proc[j] ?? '';
          });
          rows.push(row);
        }
      });
      if (!rows.length) return;
      const cmd = header.indexOf('CMD');
      if (cmd >= 0) header.push(...header.splice(cmd, 1));
      ctx.io.stdout.write(tabwrite([header, ...rows.map((r) => header.map((h) => r[h] ?? '-'))], 4, 2));
    });

  prog
    .command('port')
    .description('Print the public port for a port binding')
    .argument('<service>')
    .argument('<private_port>')
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '0')
    .action(async (service: string, privatePort: string, o) => {
      const port = Number(privatePort);
      if (!/^\d+$/.test(privatePort) || port > 65535)
        throw new ExitError(1, `strconv.ParseUint: parsing ${JSON.stringify(privatePort)}: invalid syntax`);
      const protocol = String(o.protocol).toLowerCase();
      const p = load();
      if (!p.services[service]) throw new ExitError(1, `no such service: ${service}`);
      const c = await serviceContainer(await ctx.client(), p.name, service, Number(o.index));
      const found = (c.Ports ?? []).find((x) => x.PrivatePort === port && x.Type === protocol);
      if (!found) {
        const have = (c.Ports ?? []).map((x) => `${x.PrivatePort}/${x.Type}`).join(', ');
        throw new ExitError(
          1,
          `no port ${port}/${protocol} for container ${(c.Names?.[0] ?? '').replace(/^\//, '')}: ${have}`,
        );
      }
      ctx.out(`${found.IP ?? ''}:${found.PublicPort ?? 0}`);
    });

  prog
    .command('images')
    .description('List images used by the created containers')
    .argument('[services...]')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .action(async (services: string[], o) => {
      const p = load();
      const images = await containerImages(await ctx.client(), p.name, services);
      if (o.quiet) {
        const ids = [...new Set(images.map((i) => i.id.replace(/^[^:]*:/, '')))];
        for (const id of ids) ctx.out(id);
        return;
      }
      if (o.format === 'json') {
        ctx.out(
          JSON.stringify(
            images.map((i) => ({
              ID: i.id,
              ContainerName: i.container,
              Repository: i.repository,
              Tag: i.tag,
              Platform: i.platform,
              Size: i.size,
              ...(i.created !== undefined ? { Created: new Date(i.created).toISOString() } : {}),
            })),
          ),
        );
        return;
      }
      if (o.format !== 'table') throw new ExitError(1, `format value "${o.format}" could not be parsed`);
      const now = Date.now();
      const rows = [['CONTAINER', 'REPOSITORY', 'TAG', 'PLATFORM', 'IMAGE ID', 'SIZE', 'CREATED']];
      for (const i of images)
        rows.push([
          i.container,
          i.repository || '<none>',
          i.tag || '<none>',
          i.platform,
          i.id.replace(/^sha256:/, '').slice(0, 12),
          humanSize(i.size, 3),
          i.created !== undefined ? `${humanDuration(now - i.created)} ago` : 'N/A',
        ]);
      ctx.io.stdout.write(tabwrite(rows, 20, 3));
    });

  prog
    .command('pull')
    .description('Pull service images')
    .argument('[services...]')
    .option('-q, --quiet', 'Pull without printing progress information')
    .option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures')
    .option('--ignore-buildable', 'Ignore images that can be built')
    .action(async (services: string[], o) => {
      const p = load();
      const mustBuild = await pull(await ctx.client(), p, {
        services,
        quiet: o.quiet,
        ignoreFailures: o.ignorePullFailures,
        ignoreBuildable: o.ignoreBuildable,
        auth,
        progress: say,
      });
      if (mustBuild.length)
        ctx.err(
          `WARNING: Some service image(s) must be built from source by running:\n    docker compose build ${mustBuild.join(' ')}`,
        );
    });

  prog
    .command('push')
    .description('Push service images')
    .argument('[services...]')
    .option('-q, --quiet', 'Push without printing progress information')
    .option('--ignore-push-failures', 'Push what it can and ignores images with push failures')
    .action(async (services: string[], o) => {
      const p = load();
      await push(await ctx.client(), p, {
        services,
        quiet: o.quiet,
        ignoreFailures: o.ignorePushFailures,
        auth,
        progress: say,
      });
    });
}

/** Attaches to a created one-off, starts it, streams until it exits; its exit status. */
async function attachAndStart(
  ctx: CliContext,
  id: string,
  tty: boolean,
  autoRemove: boolean,
): Promise<number> {
  const client = await ctx.client();
  const socket = await client.containerAttach(id, { stream: true, stdin: true, stdout: true, stderr: true });
  const streaming = streamHijacked({
    socket,
    tty,
    stdin: ctx.io.stdin,
    stdout: ctx.io.stdout,
    stderr: tty ? ctx.io.stdout : ctx.io.stderr,
  });
  streaming.catch(() => {});
  const wait = client.containerWait(id, autoRemove ? 'removed' : 'next-exit');
  wait.result.catch(() => {});
  await wait.registered.catch(() => {});
  const stopSignals = tty ? undefined : forwardSignals(client, id);
  try {
    try {
      await client.containerStart(id);
    } catch (err) {
      socket.destroy();
      await streaming.catch(() => {});
      if (autoRemove) await client.containerRemove(id, { force: true }).catch(() => {});
      throw err;
    }
    const stopResize =
      tty && ctx.io.stdout.isTTY
        ? monitorTtySize(ctx, (h, w) => client.containerResize(id, h, w))
        : undefined;
    try {
      await streaming;
    } finally {
      stopResize?.();
    }
    const result = await wait.result;
    return result.StatusCode;
  } finally {
    stopSignals?.();
  }
}
