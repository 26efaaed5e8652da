// The README's code must be real code: every block announced with `<!-- example: PATH -->` must
// equal that file byte for byte (the examples test then runs the file).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';

const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\n```ts\n([\s\S]*?)```/g)];

describe('README examples', () => {
  test('the README quotes at least one example', () => expect(blocks.length).toBeGreaterThan(0));
  for (const [, path, code] of blocks) {
    test(`${path} is quoted verbatim`, () => expect(code).toBe(readFileSync(path!, 'utf8')));
  }
});
