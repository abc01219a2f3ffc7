import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Confirmations, MemoryConfirmationStore } from '../../src/confirm/confirmations.ts';

test('a confirmation expires, and unknown or malformed tokens are refused', async () => {
  let now = new Date('2026-11-22T02:00:00Z');
  const c = new Confirmations({ store: new MemoryConfirmationStore(), ttlMs: 10 * 60_000, now: () => now });
  const rec = await c.create({ action: 'backup-run', target: 'media/plex', requester: { id: 'U1', via: 'slack' } });
  now = new Date('2026-11-22T02:10:00Z');
  await assert.rejects(c.approve(rec.id, { id: 'U1', via: 'slack' }, { action: 'backup-run' }), /expired at 02:10 UTC/);
  await assert.rejects(c.approve('not a token!', { id: 'U1', via: 'slack' }, { action: 'backup-run' }), /not valid/);
  await assert.rejects(c.approve('AAAAAAAAAAAAAAAAAAAAAA', { id: 'U1', via: 'slack' }, { action: 'backup-run' }), /unknown/);
});

test('a confirmation for one action cannot approve another; a cancelled one cannot be approved', async () => {
  const c = new Confirmations({ store: new MemoryConfirmationStore(), ttlMs: 60_000 });
  const rec = await c.create({ action: 'backup-run', target: 'media/plex', requester: { id: 'U1', via: 'slack' } });
  await assert.rejects(c.approve(rec.id, { id: 'U1', via: 'slack' }, { action: 'restic-remove-all' }), /does not match/);
  await c.cancel(rec.id, { id: 'U1', via: 'slack' });
  await assert.rejects(c.approve(rec.id, { id: 'U1', via: 'slack' }, { action: 'backup-run' }), /cancelled/);
});
