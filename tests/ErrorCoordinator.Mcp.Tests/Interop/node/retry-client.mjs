// The retry-queue tools driven by the official TypeScript MCP SDK client, which validates every structuredContent
// against the tool's outputSchema: every output shape, with its nullable fields both null and set, must pass.
//
//   node retry-client.mjs http <mcp-url>
//
// Prints one JSON summary line on stdout (the last line) and exits 1 on any failed assertion.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const TOOLS = ['enqueue_retry', 'claim_retries', 'complete_retry', 'extend_lease', 'list_dead_letters', 'replay_dead_letter', 'purge_dead_letters', 'retry_stats'];
const [mode, target] = process.argv.slice(2);
const summary = { transport: mode, ok: false, failures: [], steps: [] };

function check(condition, message) {
  if (!condition) summary.failures.push(message);
  return condition;
}

async function call(client, name, args) {
  const result = await client.callTool({ name, arguments: args });
  if (!check(result && !result.isError, `${name} returned isError: ${JSON.stringify(result?.content)}`)) return {};
  check(result.structuredContent && typeof result.structuredContent === 'object', `${name} returned no structuredContent`);
  summary.steps.push(name);
  return result.structuredContent;
}

async function run() {
  if (mode !== 'http') throw new Error(`usage: retry-client.mjs http <url> (got '${mode}')`);
  const client = new Client({ name: 'errorcoordinator-ts-retry', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(target)));
  try {
    const { tools } = await client.listTools();
    for (const name of TOOLS) {
      const tool = tools.find(t => t.name === name);
      if (!check(tool, `tool ${name} is missing`)) continue;
      check(tool.outputSchema?.type === 'object', `tool ${name} has no object outputSchema`);
    }
    const component = `ts-retry-${Date.now()}`;
    const task = `ts-task-${Date.now()}`;
    const enq = await call(client, 'enqueue_retry', { task_id: task, agent: 'ts', error_type: 'TimeoutError', message: 'timed out', component, payload: '{"a":1}', max_attempts: 2, base_delay_ms: 0, backoff: 'constant' });
    check(enq.status === 'scheduled' && enq.reason === null && enq.rejected === null && enq.budget, `enqueue_retry: ${JSON.stringify(enq)}`);
    const dup = await call(client, 'enqueue_retry', { task_id: task, agent: 'ts', error_type: 'TimeoutError', message: 'again', component });
    check(dup.duplicate === true && dup.budget === null, `duplicate: ${JSON.stringify(dup)}`);
    const zero = await call(client, 'enqueue_retry', { task_id: task + '-z', agent: 'ts', error_type: 'E', message: 'm', component, max_attempts: 0 });
    check(zero.dead_lettered === true && zero.retry_at === null, `max_attempts 0: ${JSON.stringify(zero)}`);

    const c1 = await call(client, 'claim_retries', { worker: 'ts-w1', component });
    const t1 = c1.tasks?.[0];
    check(t1?.task_id === task && t1.payload === '{"a":1}', `claim_retries: ${JSON.stringify(c1)}`);
    const f1 = await call(client, 'complete_retry', { task_id: task, lease: t1?.lease, outcome: 'failed', error: 'still timing out' });
    check(f1.result === 'rescheduled' && f1.reason === null && f1.retry_at, `complete_retry failed: ${JSON.stringify(f1)}`);
    const c2 = await call(client, 'claim_retries', { worker: 'ts-w2', component, lease_seconds: 60 });
    const t2 = c2.tasks?.[0];
    const ext = await call(client, 'extend_lease', { task_id: task, lease: t2?.lease, seconds: 90 });
    check(ext.lease === t2?.lease, `extend_lease: ${JSON.stringify(ext)}`);
    const dead = await call(client, 'complete_retry', { task_id: task, lease: t2?.lease, outcome: 'failed' });
    check(dead.result === 'dead_lettered' && dead.retry_at === null && dead.reason === 'attempts_exhausted', `dead letter: ${JSON.stringify(dead)}`);

    const letters = await call(client, 'list_dead_letters', { component, limit: 1 });
    check(letters.dead_letters?.length === 1 && letters.next_cursor, `list_dead_letters page 1: ${JSON.stringify(letters)}`);
    const page2 = await call(client, 'list_dead_letters', { component, limit: 1, cursor: letters.next_cursor });
    check(page2.dead_letters?.length === 1 && page2.next_cursor === null, `list_dead_letters page 2: ${JSON.stringify(page2)}`);
    const dry = await call(client, 'replay_dead_letter', { task_id: task, dry_run: true });
    check(dry.count === 1 && dry.dry_run === true, `replay dry run: ${JSON.stringify(dry)}`);
    await call(client, 'replay_dead_letter', { task_id: task });
    const c3 = await call(client, 'claim_retries', { worker: 'ts-w3', component });
    const done = await call(client, 'complete_retry', { task_id: task, lease: c3.tasks?.[0]?.lease, outcome: 'succeeded' });
    check(done.result === 'succeeded' && done.budget === null, `complete_retry succeeded: ${JSON.stringify(done)}`);
    const purged = await call(client, 'purge_dead_letters', { task_ids: [task + '-z'] });
    check(purged.purged === 1, `purge: ${JSON.stringify(purged)}`);

    const stats = await call(client, 'retry_stats', { component });
    check(stats.succeeded === 1 && stats.budget && stats.agent === null, `retry_stats: ${JSON.stringify(stats)}`);
    const empty = await call(client, 'retry_stats', { agent: `nobody-${Date.now()}` });
    check(empty.success_rate === null && empty.retry_amplification === null && empty.budget === null, `retry_stats empty: ${JSON.stringify(empty)}`);
    const none = await call(client, 'claim_retries', { worker: 'ts-w4', component });
    check(Array.isArray(none.tasks) && none.tasks.length === 0 && none.deferred === 0, `empty claim: ${JSON.stringify(none)}`);
  } finally {
    await client.close();
  }
}

try {
  await run();
} catch (e) {
  summary.failures.push(`exception: ${e?.stack ?? e}`);
}
summary.ok = summary.failures.length === 0;
process.stdout.write(JSON.stringify(summary) + '\n');
process.exit(summary.ok ? 0 : 1);
