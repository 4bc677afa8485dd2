/**
 * Writing environment- and content-based secrets and configs into a created container before it
 * starts (Compose's injectFileReferences): one tar entry per file, PUT at `/`.
 */
import type { EngineClient } from '../client/index.ts';
import { packTar } from '../common/tar/index.ts';
import { injectedFiles } from './file-refs.ts';
import type { Project } from './model.ts';

export async function injectFiles(
  client: EngineClient,
  project: Project,
  key: string,
  id: string,
): Promise<void> {
  for (const f of injectedFiles(project, key)) {
    const body = Buffer.from(f.content);
    const tar = packTar([
      {
        header: {
          name: f.target.replace(/^\//, ''),
          type: 'file',
          mode: f.mode,
          uid: f.uid,
          gid: f.gid,
          size: body.length,
          mtime: Math.floor(Date.now() / 1000),
        },
        body,
      },
    ]);
    await client.containerPutArchive(id, '/', tar, { copyUIDGID: f.owned });
  }
}
