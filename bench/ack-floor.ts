/**
 * The floor for bench/ack.ts, in its own process as the bot is: a bare node:http server that only
 * verifies the Slack signature exactly as the bot does and answers 200. Prints its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySlackSignature } from '../src/slack/verify.ts';

const secret = process.env['SLACK_SIGNING_SECRET'] ?? '';
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const header = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v[0] : v;
    };
    const verdict = verifySlackSignature({
      signingSecret: secret,
      signature: header('x-slack-signature'),
      timestamp: header('x-slack-request-timestamp'),
      body: Buffer.concat(chunks),
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    res.writeHead(verdict.ok ? 200 : 401);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => console.log(`floor listening on ${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
