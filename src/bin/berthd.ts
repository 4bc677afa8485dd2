import { main } from '../daemon/index.ts';

await main(process.argv.slice(2));
