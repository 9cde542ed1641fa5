#!/usr/bin/env node
// The sample data generator (npm run gen-data -- --help).
const { main } = await import('../dist/tools/gendata-cli.js');
process.exitCode = await main(process.argv);
