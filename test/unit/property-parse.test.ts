// Property tests for the command parser: whatever a person (or a fuzzer) types after /backup or
// /restic, the parser answers — a parsed command whose every argument is a valid Kubernetes name,
// or a short reply — and never throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildCommands } from '../../src/app.ts';
import { checkName } from '../../src/command/names.ts';
import { parse } from '../../src/command/registry.ts';

const { families } = buildCommands();

// Words the grammar knows, mixed with arbitrary text, so the fuzzer reaches deep branches.
const word = fc.oneof(
  fc.constantFrom('help', '--help', '-h', 'status', 'run', 'doctor', 'window', 'locks', 'unlock', '--remove-all', '--all', '--', '-', 'media', 'plex', 'kube-system', 'a'.repeat(64), 'UPPER', 'x.y', '*', '`', '<!channel>', '\u0000', '\u202e'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const text = fc.oneof(fc.array(word, { maxLength: 8 }).map((ws) => ws.join(' ')), fc.string({ maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 200 }));

test('the parser never throws, and always answers: a valid command or a short reply', () => {
  fc.assert(
    fc.property(fc.constantFrom(...families), text, (family, input) => {
      const result = parse(family, input);
      if (result.ok) {
        for (const spec of result.verb.args) {
          const value: string | undefined = result.parsed.args[spec.name];
          if (value === undefined) {
            assert.ok(spec.optional, `required <${spec.name}> missing from a parsed command`);
            continue;
          }
          assert.equal(checkName(spec.kind, value, spec.name), undefined, `argument ${spec.name}=${JSON.stringify(value)} is not a valid name`);
        }
        for (const flag of result.parsed.flags) assert.ok((result.verb.flags ?? []).some((f) => f.name === flag));
      } else {
        assert.ok(result.reply.text.length > 0 && result.reply.text.length < 4000, 'the answer is short and not empty');
        assert.ok(result.reply.blocks.length > 0);
      }
    }),
    { numRuns: 3000 },
  );
});

test('a line that parses parses the same way again (no hidden state between commands)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...families), text, (family, input) => {
      const a = parse(family, input);
      const b = parse(family, input);
      assert.equal(a.ok, b.ok);
      if (a.ok && b.ok) assert.deepEqual({ ...a.parsed, flags: [...a.parsed.flags] }, { ...b.parsed, flags: [...b.parsed.flags] });
      else if (!a.ok && !b.ok) assert.equal(a.reply.text, b.reply.text);
    }),
    { numRuns: 500 },
  );
});
