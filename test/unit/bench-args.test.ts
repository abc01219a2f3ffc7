import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchFlags } from '../../bench/args.ts';

const spec = { numbers: { runs: 5, 'per-namespace': 5 }, strings: { text: 'status' }, switches: ['direct'] } as const;

test('bench flags: defaults when nothing is given', () => {
  assert.deepEqual({ ...benchFlags(spec, []) }, { runs: 5, 'per-namespace': 5, text: 'status', direct: false });
});

test('bench flags: given values, as numbers, strings and switches', () => {
  const f = benchFlags(spec, ['--runs', '12', '--per-namespace=3', '--text', 'doctor media', '--direct']);
  assert.deepEqual({ ...f }, { runs: 12, 'per-namespace': 3, text: 'doctor media', direct: true });
});

test('bench flags: a number flag that is not a number reads as NaN; an unknown flag stops the bench', () => {
  assert.ok(Number.isNaN(benchFlags(spec, ['--runs', 'many']).runs));
  assert.throws(() => benchFlags(spec, ['--rnus', '3']), /Unknown option '--rnus'/);
});
