// One failure-reporting scenario driven by the official TypeScript MCP SDK client.
//
//   node ts-client.mjs http  <mcp-url>
//   node ts-client.mjs stdio <path/to/ErrorCoordinator.Mcp.dll> [server args...]
//
// The TS SDK validates every structuredContent against the tool's outputSchema (cached by listTools),
// so a schema the server writes but does not honour makes callTool throw: that is what this proves.
// Prints one JSON summary line on stdout (the last line) and exits 1 on any failed assertion.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const EXPECTED_TOOLS = ['report_failure', 'report_failures', 'query_errors', 'list_error_groups', 'get_error_group', 'update_error_group',
  'check_breaker', 'record_outcome', 'trip_breaker', 'reset_breaker', 'list_breakers', 'configure_breaker', 'report_agent_status',
  'register_dependencies', 'get_dependency_graph', 'correlate_errors', 'list_incidents', 'get_incident', 'acknowledge_incident',
  'resolve_incident', 'open_incident', 'generate_postmortem'];

const [mode, target, ...serverArgs] = process.argv.slice(2);
const summary = { transport: mode, ok: false, failures: [], steps: [] };
let serverStderr = '';

function check(condition, message) {
  if (!condition) summary.failures.push(message);
  return condition;
}

function structured(result, tool) {
  if (!check(result && !result.isError, `${tool} returned isError: ${JSON.stringify(result?.content)}`)) return {};
  if (!check(result.structuredContent && typeof result.structuredContent === 'object', `${tool} returned no structuredContent`)) return {};
  check(Array.isArray(result.content) && result.content.some(c => c.type === 'text' && c.text), `${tool} returned no text content`);
  summary.steps.push(tool);
  return result.structuredContent;
}

function makeTransport() {
  if (mode === 'http') return new StreamableHTTPClientTransport(new URL(target));
  if (mode === 'stdio') {
    const env = { ...process.env };
    delete env.REDIS_URL; // the embedded store unless server args say otherwise
    const transport = new StdioClientTransport({ command: 'dotnet', args: [target, ...serverArgs], env, stderr: 'pipe' });
    transport.stderr?.on('data', d => { serverStderr += d.toString(); });
    return transport;
  }
  throw new Error(`usage: ts-client.mjs http <url> | stdio <server.dll> [args...] (got mode '${mode}')`);
}

async function run() {
  const client = new Client({ name: 'errorcoordinator-ts-interop', version: '1.0.0' });
  const transport = makeTransport();
  await client.connect(transport);
  try {
    const info = client.getServerVersion();
    summary.server = info;
    check(info?.name === 'error-coordinator', `unexpected serverInfo.name: ${JSON.stringify(info)}`);
    check(client.getServerCapabilities()?.tools, 'server did not declare the tools capability');

    // tools/list: every tool with an input schema and an output schema.
    const { tools } = await client.listTools();
    summary.tools = tools.map(t => t.name).sort();
    for (const name of EXPECTED_TOOLS) {
      const tool = tools.find(t => t.name === name);
      if (!check(tool, `tool ${name} is missing`)) continue;
      check(tool.description, `tool ${name} has no description`);
      check(tool.inputSchema?.type === 'object', `tool ${name} has no object inputSchema`);
      check(tool.outputSchema?.type === 'object', `tool ${name} has no object outputSchema`);
    }

    // Two reports that differ only in numbers, from two agents: one group.
    const first = structured(await client.callTool({
      name: 'report_failure',
      arguments: { agent: 'ts-agent-a', error_type: 'TimeoutError', message: 'Connection to db-shard 17 timed out after 3000 ms', component: 'postgres', tags: { region: 'eu-west-1' } },
    }), 'report_failure');
    const second = structured(await client.callTool({
      name: 'report_failure',
      arguments: { agent: 'ts-agent-b', error_type: 'TimeoutError', message: 'Connection to db-shard 42 timed out after 5000 ms', component: 'postgres' },
    }), 'report_failure');
    summary.first = first;
    summary.second = second;
    check(first.is_new_group === true, `first report: is_new_group=${first.is_new_group}, expected true`);
    check(first.group_count === 1, `first report: group_count=${first.group_count}, expected 1`);
    check(second.is_new_group === false, `second report: is_new_group=${second.is_new_group}, expected false`);
    check(second.group_count === 2, `second report: group_count=${second.group_count}, expected 2`);
    check(first.group_id && second.group_id === first.group_id, `group ids differ: ${first.group_id} vs ${second.group_id}`);
    const groupId = first.group_id;

    // A batch with one good and one bad item (nullable fields in the output).
    const batch = structured(await client.callTool({
      name: 'report_failures',
      arguments: { failures: [
        { agent: 'ts-agent-c', error_type: 'TimeoutError', message: 'Connection to db-shard 99 timed out after 100 ms', component: 'postgres' },
        { agent: 'ts-agent-c', error_type: 'TimeoutError', message: 'x', severity: 'catastrophic' },
      ] },
    }), 'report_failures');
    summary.batch = { accepted: batch.accepted, rejected: batch.rejected };
    check(batch.accepted === 1 && batch.rejected === 1, `report_failures: accepted=${batch.accepted} rejected=${batch.rejected}, expected 1 and 1`);
    check(batch.results?.[0]?.result?.group_id === groupId, 'report_failures: item 0 did not join the group');
    check(batch.results?.[1]?.ok === false && /severity/.test(batch.results?.[1]?.error ?? ''), `report_failures: item 1 error does not name severity: ${JSON.stringify(batch.results?.[1])}`);

    // list_error_groups and get_error_group.
    const list = structured(await client.callTool({ name: 'list_error_groups', arguments: {} }), 'list_error_groups');
    const listed = (list.groups ?? []).find(g => g.id === groupId);
    summary.listed = listed ? { id: listed.id, count: listed.count, distinct_agents: listed.distinct_agents, status: listed.status } : null;
    check(listed, `list_error_groups does not list ${groupId}`);
    check(listed?.count === 3, `list_error_groups: count=${listed?.count}, expected 3`);
    check(listed?.distinct_agents === 3, `list_error_groups: distinct_agents=${listed?.distinct_agents}, expected 3`);

    const detail = structured(await client.callTool({ name: 'get_error_group', arguments: { group_id: groupId, samples: 5 } }), 'get_error_group');
    summary.detail = { id: detail.group?.id, count: detail.group?.count, recent_events: detail.recent_events?.length, histogram_hours: detail.histogram?.length };
    check(detail.group?.id === groupId, 'get_error_group returned another group');
    check(detail.group?.count === 3, `get_error_group: count=${detail.group?.count}, expected 3`);
    check(detail.recent_events?.length === 3, `get_error_group: ${detail.recent_events?.length} recent events, expected 3`);

    const events = structured(await client.callTool({ name: 'query_errors', arguments: { group_id: groupId, limit: 2 } }), 'query_errors');
    check(events.events?.length === 2 && events.next_cursor, `query_errors: expected a page of 2 with a next_cursor, got ${events.events?.length} / ${events.next_cursor}`);

    const updated = structured(await client.callTool({ name: 'update_error_group', arguments: { group_id: groupId, status: 'resolved', note: 'fixed in #1234' } }), 'update_error_group');
    check(updated.group?.status === 'resolved' && updated.group?.note === 'fixed in #1234', `update_error_group: ${JSON.stringify(updated.group)}`);

    // Circuit breakers: every output with its nullable fields (permit, retry_after_ms, transition) checked against the schema.
    const component = `ts-dep-${Date.now()}`;
    structured(await client.callTool({ name: 'configure_breaker', arguments: { component, consecutive_failures: 2 } }), 'configure_breaker');
    const allowed = structured(await client.callTool({ name: 'check_breaker', arguments: { component } }), 'check_breaker');
    check(allowed.allowed === true && allowed.state === 'closed' && allowed.permit === null, `check_breaker on a new component: ${JSON.stringify(allowed)}`);
    structured(await client.callTool({ name: 'record_outcome', arguments: { component, success: false, agent: 'ts-agent-a' } }), 'record_outcome');
    const opened = structured(await client.callTool({ name: 'record_outcome', arguments: { component, success: false, agent: 'ts-agent-b', duration_ms: 1200 } }), 'record_outcome');
    summary.breaker = { state: opened.state, transition: opened.transition?.type };
    check(opened.state === 'open' && opened.transition?.type === 'circuit_breaker_opened', `record_outcome did not open: ${JSON.stringify(opened)}`);
    const denied = structured(await client.callTool({ name: 'check_breaker', arguments: { component } }), 'check_breaker');
    check(denied.allowed === false && denied.retry_after_ms > 0, `check_breaker on an open breaker: ${JSON.stringify(denied)}`);
    const tripped = structured(await client.callTool({ name: 'trip_breaker', arguments: { component, reason: 'ts maintenance' } }), 'trip_breaker');
    check(tripped.breaker?.state === 'isolated', `trip_breaker: ${JSON.stringify(tripped.breaker)}`);
    const isolated = structured(await client.callTool({ name: 'list_breakers', arguments: { state: 'isolated' } }), 'list_breakers');
    check((isolated.breakers ?? []).some(b => b.component === component), 'list_breakers does not list the isolated breaker');
    const reset = structured(await client.callTool({ name: 'reset_breaker', arguments: { component } }), 'reset_breaker');
    check(reset.breaker?.state === 'closed' && reset.transition?.from === 'isolated', `reset_breaker: ${JSON.stringify(reset)}`);
    const crash = structured(await client.callTool({ name: 'report_agent_status', arguments: { agent: `ts-worker-${Date.now()}`, status: 'failed', error: 'exit 137' } }), 'report_agent_status');
    check(crash.crash_event_id && crash.breaker?.state === 'closed', `report_agent_status: ${JSON.stringify(crash)}`);

    // Correlation and incidents: every output (nullable fields included) must match its schema.
    const p = `ts${Date.now()}-`;
    structured(await client.callTool({ name: 'register_dependencies', arguments: { component: `${p}api`, depends_on: [`${p}db`] } }), 'register_dependencies');
    const graph = structured(await client.callTool({ name: 'get_dependency_graph', arguments: {} }), 'get_dependency_graph');
    check((graph.components ?? []).some(c => c.component === `${p}api`), 'get_dependency_graph does not list the component');
    const t0 = Date.now() - 30_000;
    for (let i = 0; i < 4; i++) {
      structured(await client.callTool({ name: 'report_failure', arguments: { agent: 'ts-db', error_type: 'ConnectionRefusedError', message: `refused ${i}`, component: `${p}db`, occurred_at: new Date(t0 + i * 1000).toISOString() } }), 'report_failure');
      structured(await client.callTool({ name: 'report_failure', arguments: { agent: 'ts-api', error_type: 'TimeoutError', message: `timeout ${i}`, component: `${p}api`, occurred_at: new Date(t0 + 3000 + i * 1000).toISOString() } }), 'report_failure');
    }
    const corr = structured(await client.callTool({ name: 'correlate_errors', arguments: { window_seconds: 120, component: `${p}db` } }), 'correlate_errors');
    check(corr.root_causes?.[0]?.component === `${p}db` && corr.abstain === false, `correlate_errors: ${JSON.stringify(corr.root_causes?.[0])} ${corr.verdict}`);
    const noise = structured(await client.callTool({ name: 'correlate_errors', arguments: { window_seconds: 1, at: '2020-01-01T00:00:00Z' } }), 'correlate_errors');
    check(noise.abstain === true && noise.primary_cluster_id === null, `correlate_errors over an empty window: ${JSON.stringify(noise)}`);
    const inc = structured(await client.callTool({ name: 'open_incident', arguments: { title: 'ts incident', severity: 'error', components: [`${p}db`] } }), 'open_incident');
    check(inc.status === 'triggered' && inc.acknowledged_at === null, `open_incident: ${JSON.stringify(inc)}`);
    structured(await client.callTool({ name: 'list_incidents', arguments: { status: 'triggered' } }), 'list_incidents');
    const ack = structured(await client.callTool({ name: 'acknowledge_incident', arguments: { id: inc.id, by: 'ts-oncall' } }), 'acknowledge_incident');
    check(ack.changed === true && ack.incident?.status === 'acknowledged', `acknowledge_incident: ${JSON.stringify(ack)}`);
    const res = structured(await client.callTool({ name: 'resolve_incident', arguments: { id: inc.id, resolution: 'restarted' } }), 'resolve_incident');
    check(res.status === 'resolved' && res.root_cause === null, `resolve_incident: ${JSON.stringify(res)}`);
    const got = structured(await client.callTool({ name: 'get_incident', arguments: { id: inc.id } }), 'get_incident');
    check((got.timeline ?? []).length === 3, `get_incident timeline: ${JSON.stringify(got.timeline)}`);
    const pm = structured(await client.callTool({ name: 'generate_postmortem', arguments: { incident_id: inc.id } }), 'generate_postmortem');
    check(typeof pm.markdown === 'string' && pm.markdown.includes('## Action items'), 'generate_postmortem returned no Markdown');
    const range = structured(await client.callTool({ name: 'generate_postmortem', arguments: { since: new Date(t0 - 1000).toISOString(), until: new Date().toISOString() } }), 'generate_postmortem');
    check(range.incident_id === null && range.document?.impact?.total_errors >= 8, `generate_postmortem over a range: ${JSON.stringify(range.document?.impact)}`);

    // Bad input: a tool error naming the field, not a protocol error and not a generic message.
    const bad = await client.callTool({ name: 'report_failure', arguments: { agent: 'ts-agent-a', error_type: 'TimeoutError', message: 'boom', severity: 'catastrophic' } });
    const badText = (bad.content ?? []).filter(c => c.type === 'text').map(c => c.text).join('\n');
    summary.invalidSeverity = { isError: bad.isError === true, message: badText };
    check(bad.isError === true, 'report_failure with severity=catastrophic did not return isError');
    check(/severity/.test(badText), `the error does not name severity: ${badText}`);
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
if (!summary.ok && serverStderr) summary.serverStderr = serverStderr.slice(-4000);
process.stdout.write(JSON.stringify(summary) + '\n');
process.exit(summary.ok ? 0 : 1);
