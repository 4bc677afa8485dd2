// The import direction of shared/DESIGN.md, checked on the compiled output (dist/src).
// Why dist and not src: dependency-cruiser parses TypeScript through the `typescript` JS API,
// which TypeScript 7 (the native compiler we build with) no longer ships. Type-only imports are
// erased in dist, so a type-only import against the direction is not caught here.
const domains = '(image|registry|dockerfile|runtime|network|volume|oci)';
const from = (dir) => ({ path: `^dist/src/${dir}/` });
const to = (...dirs) => ({ path: `^dist/src/(${dirs.join('|')})/` });

module.exports = {
  allowed: [
    { from: {}, to: { dependencyTypes: ['core'] } },
    { from: {}, to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg'] } },
    { from: from('bin'), to: to('bin', 'cli', 'daemon', 'runtime-cli', 'common') },
    { from: from('runtime-cli'), to: to('runtime-cli', 'runtime', 'oci', 'platform', 'common') },
    { from: from('cli'), to: to('cli', 'compose', 'client', 'api/types', 'common') },
    { from: from('compose'), to: to('compose', 'client', 'api/types', 'common') },
    { from: from('client'), to: to('client', 'api/types', 'common') },
    { from: from('api/types'), to: to('api/types', 'common') },
    { from: from('daemon'), to: to('daemon', 'api/server', 'api/types', 'engine', domains, 'platform', 'common') },
    { from: from('api/server'), to: to('api/server', 'api/types', 'engine', 'common') },
    { from: from('engine'), to: to('engine', 'api/types', domains, 'platform', 'common') },
    { from: from('registry'), to: to('registry', 'image', 'oci', 'platform', 'common') },
    { from: from('image'), to: to('image', 'oci', 'platform', 'common') },
    { from: from('dockerfile'), to: to('dockerfile', 'common') },
    { from: from('runtime'), to: to('runtime', 'oci', 'platform', 'common') },
    { from: from('network'), to: to('network', 'platform', 'common') },
    { from: from('volume'), to: to('volume', 'platform', 'common') },
    { from: from('oci'), to: to('oci', 'common') },
    { from: from('platform'), to: to('platform', 'common') },
    { from: from('common'), to: to('common') },
  ],
  allowedSeverity: 'error',
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.js$' },
    moduleSystems: ['es6'],
  },
};
