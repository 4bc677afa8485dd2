import { main } from '../runtime-cli/index.ts';

process.exitCode = await main(process.argv.slice(2));
