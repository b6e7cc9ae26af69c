import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importCycles, importGraph, tsFiles } from '../helpers/importGraph';

/**
 * No two files of the repository import each other, directly or round a longer way: every .ts file
 * outside node_modules and the build outputs (src, functions, scripts, models, bench, test and its
 * helpers), every kind of import (type-only and dynamic included). A cycle makes the order in which
 * modules are evaluated matter, and makes the files in it impossible to read, test or move apart.
 */
describe('the import graph', () => {
  it('finds a cycle when there is one, and names it', () => {
    // The two the repository had: the vocabulary's, and the model build's.
    const graph = new Map([
      ['src/contracts.ts', ['src/keys.ts', 'src/errors.ts']],
      ['src/keys.ts', ['src/status/stageStatus.ts']],
      ['src/status/stageStatus.ts', ['src/contracts.ts']],
      ['src/errors.ts', []],
      ['models/ensure-model.ts', ['models/build-int8.ts']],
      ['models/build-int8.ts', ['models/ensure-model.ts']],
      ['models/self.ts', ['models/self.ts']],
    ]);
    assert.deepEqual(importCycles(graph), [
      ['models/build-int8.ts', 'models/ensure-model.ts', 'models/build-int8.ts'],
      ['models/self.ts', 'models/self.ts'],
      ['src/contracts.ts', 'src/keys.ts', 'src/status/stageStatus.ts', 'src/contracts.ts'],
    ]);
  });

  it('reads every TypeScript file of the repository', () => {
    const files = tsFiles();
    for (const folder of ['src/', 'functions/', 'scripts/', 'models/', 'bench/', 'test/helpers/', 'test/unit/']) {
      assert.ok(
        files.some((f) => f.startsWith(folder)),
        `no file under ${folder}`,
      );
    }
    assert.ok(!files.some((f) => f.includes('node_modules/')), 'node_modules is not read');
    // A type-only import and a dynamic import() are edges too.
    const graph = importGraph(files);
    assert.ok(graph.get('src/lambda/resizeHandler.ts')?.includes('src/app/createApp.ts'), 'a type-only import');
    assert.ok(graph.get('models/ensure-model.ts')?.includes('models/build-int8.ts'), 'a dynamic import()');
  });

  it('has no cycle', () => {
    const cycles = importCycles(importGraph(tsFiles()));
    assert.deepEqual(
      cycles.map((cycle) => cycle.join(' -> ')),
      [],
    );
  });
});
