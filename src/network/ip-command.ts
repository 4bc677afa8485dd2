/**
 * The kernel side of networking, phase 1: iproute2 and nftables driven through their batch
 * modes (`ip -batch -`, `nft -f -`), one process per change. Errors carry the tool's message.
 */
import { spawn } from 'node:child_process';
import { internal } from '../common/index.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: string[], input = ''): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => (stdout += c));
    child.stderr?.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    if (child.stdin) {
      // The tool may exit (with its own error) before reading everything: that is its answer.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/**
 * Runs iproute2 commands (one per line, without the leading `ip`). With `netns` (a path such as
 * /proc/<pid>/ns/net) they run inside that network namespace through nsenter.
 */
export async function ipBatch(
  lines: string[],
  options: { netns?: string; force?: boolean } = {},
): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(options.force ? ['-force'] : []), '-batch', '-'];
  const r = options.netns
    ? await runCommand('nsenter', [`--net=${options.netns}`, 'ip', ...args], `${lines.join('\n')}\n`)
    : await runCommand('ip', args, `${lines.join('\n')}\n`);
  if (r.code !== 0) throw internal(`ip: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** `ip -j <args>` parsed. */
export async function ipJson<T>(args: string[], options: { netns?: string } = {}): Promise<T> {
  const r = options.netns
    ? await runCommand('nsenter', [`--net=${options.netns}`, 'ip', '-j', ...args])
    : await runCommand('ip', ['-j', ...args]);
  if (r.code !== 0) throw internal(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout || '[]') as T;
}

/** Applies an nftables script as one transaction. */
export async function nftApply(script: string): Promise<void> {
  const r = await runCommand('nft', ['-f', '-'], script);
  if (r.code !== 0) throw internal(`nft: ${r.stderr.trim() || `exit ${r.code}`}`);
}

export async function nftDeleteTable(family: string, name: string): Promise<void> {
  const r = await runCommand('nft', ['delete', 'table', family, name]);
  if (r.code !== 0 && !/No such file or directory/.test(r.stderr)) {
    throw internal(`nft delete table: ${r.stderr.trim()}`);
  }
}
