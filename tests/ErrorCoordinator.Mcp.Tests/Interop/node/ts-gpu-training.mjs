// probe_gpu and report_training_metric driven by the official TypeScript MCP SDK client.
//
//   node ts-gpu-training.mjs http <mcp-url>
//
// The TS SDK validates every structuredContent against the tool's outputSchema (cached by listTools): a NaN value
// written as the string "NaN", or a null field, that the schema does not allow makes callTool throw.
// Prints one JSON summary line on stdout (the last line) and exits 1 on any failed assertion.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [mode, target] = process.argv.slice(2);
const summary = { transport: mode, ok: false, failures: [], steps: [] };

function check(condition, message) {
  if (!condition) summary.failures.push(message);
  return condition;
}

function structured(result, tool) {
  if (!check(result && !result.isError, `${tool} returned isError: ${JSON.stringify(result?.content)}`)) return {};
  if (!check(result.structuredContent && typeof result.structuredContent === 'object', `${tool} returned no structuredContent`)) return {};
  summary.steps.push(tool);
  return result.structuredContent;
}

async function run() {
  if (mode !== 'http') throw new Error(`usage: ts-gpu-training.mjs http <url> (got '${mode}')`);
  const client = new Client({ name: 'errorcoordinator-ts-gpu-training', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(target)));
  try {
    const { tools } = await client.listTools();
    for (const name of ['probe_gpu', 'report_training_metric']) {
      const tool = tools.find(t => t.name === name);
      if (!check(tool, `tool ${name} is missing`)) continue;
      check(tool.outputSchema?.type === 'object', `tool ${name} has no object outputSchema`);
    }
    const loss = tools.find(t => t.name === 'report_training_metric')?.inputSchema?.properties?.loss;
    summary.lossSchema = loss;

    const probe = structured(await client.callTool({ name: 'probe_gpu', arguments: {} }), 'probe_gpu');
    summary.probe = { available: probe.available, reason: probe.reason, gpus: probe.gpus?.length };

    const project = `ts-${Date.now()}`;
    const normal = structured(await client.callTool({ name: 'report_training_metric', arguments: { project, step: 0, loss: 2.5, grad_norm: 1.1 } }), 'report_training_metric');
    check(Array.isArray(normal.anomalies) && normal.anomalies.length === 0, `a normal step returned ${JSON.stringify(normal)}`);

    const nan = structured(await client.callTool({ name: 'report_training_metric', arguments: { project, step: 1, loss: 'NaN' } }), 'report_training_metric');
    const a = nan.anomalies?.[0];
    check(a?.type === 'nan_loss_detected' && a?.severity === 'critical' && a?.value === 'NaN', `NaN step returned ${JSON.stringify(nan)}`);
    summary.nan = a;

    const inf = structured(await client.callTool({ name: 'report_training_metric', arguments: { project, step: 2, loss: 1.9, grad_norm: 'Infinity' } }), 'report_training_metric');
    check(inf.anomalies?.[0]?.type === 'gradient_explosion' && inf.anomalies?.[0]?.value === 'Infinity', `Infinity grad_norm returned ${JSON.stringify(inf)}`);
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
