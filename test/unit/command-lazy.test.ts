import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lazy } from '../../src/command/lazy.ts';

test('lazy imports once and hands every caller the same module', async () => {
  let loads = 0;
  const get = lazy(async () => ({ n: ++loads }));
  assert.equal(loads, 0, 'nothing is loaded before the first call');
  const [a, b] = await Promise.all([get(), get()]);
  assert.equal(a, b);
  assert.equal(await get(), a);
  assert.equal(loads, 1);
});

test('lazy tries a failed import again on the next call', async () => {
  let loads = 0;
  const get = lazy(async () => {
    loads++;
    if (loads === 1) throw new Error('ERR_MODULE_NOT_FOUND');
    return 'ok';
  });
  await assert.rejects(get(), /ERR_MODULE_NOT_FOUND/);
  assert.equal(await get(), 'ok');
  assert.equal(loads, 2);
});
