// The GraphQL over HTTP spec audit (graphql-http's serverAudits) against one URL.
//
//   node tools/graphql-http/audit.mjs http://127.0.0.1:4000/graphql
//
// Prints one JSON object: every audit's id, name, status (ok, error, warn,
// notice) and reason, and the counts. Exit code 1 when any MUST (error) or
// SHOULD (warn) fails: the suite expects zero of both.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({ id: result.id, name: result.name, status: result.status, reason: result.reason ?? null });
}
const count = (s) => results.filter((r) => r.status === s).length;
const summary = { ok: count('ok'), error: count('error'), warn: count('warn'), notice: count('notice'), results };
console.log(JSON.stringify(summary));
process.exit(summary.error || summary.warn ? 1 : 0);
