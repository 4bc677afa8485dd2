import { registryMain } from '../daemon/index.ts';

process.exitCode = await registryMain(process.argv.slice(2));
