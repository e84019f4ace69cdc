// urql's own client (@urql/core, fetchExchange) asking a deferred query.
//
//   node tools/graphql-http/urql_defer.mjs http://127.0.0.1:4000/graphql 'query { a ... @defer { b } }'
//
// urql lists multipart/mixed in its Accept and merges incremental payloads
// itself; every result it delivers is printed as one JSON object
// `{results: [{data, hasNext}, ...]}`.
import { Client, fetchExchange } from '@urql/core';

const [url, query] = process.argv.slice(2);
const client = new Client({ url, exchanges: [fetchExchange], preferGetMethod: false, requestPolicy: 'network-only' });
const results = await new Promise((resolve) => {
  const seen = [];
  const { unsubscribe } = client.query(query, {}).subscribe((r) => {
    seen.push({ data: r.data ?? null, hasNext: r.hasNext, error: r.error ? r.error.message : null });
    if (!r.hasNext) {
      resolve(seen);
      setTimeout(() => unsubscribe(), 0);
    }
  });
});
console.log(JSON.stringify({ results }));
