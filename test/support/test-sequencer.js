'use strict';
// Jest's order, except that the conformance suite's files (test/lambda/conformance/<family>.test.ts, minutes each) go
// first. Without timings from an earlier run (a fresh clone in CI), jest orders files by size, and these one-line
// files would start last: one worker would then run a several-minute file alone at the end while the other idles.
const Sequencer = require('@jest/test-sequencer').default;

const LONG = /[\\/]test[\\/]lambda[\\/]conformance[\\/][^\\/]+\.test\.ts$/;

class LongFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((t) => LONG.test(t.path)), ...sorted.filter((t) => !LONG.test(t.path))];
  }
}

module.exports = LongFirstSequencer;
