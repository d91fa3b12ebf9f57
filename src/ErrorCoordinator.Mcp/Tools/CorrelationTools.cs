using System.ComponentModel;
using ErrorCoordinator.Core.Correlation;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

/// <summary>The dependency graph and error correlation (clusters, cascades, ranked root causes).</summary>
[McpServerToolType]
public sealed class CorrelationTools(CorrelationService correlation)
{
    [McpServerTool(Name = "register_dependencies", Title = "Register a component's dependencies", UseStructuredContent = true, OutputSchemaType = typeof(RegisterDependenciesOutput),
        ReadOnly = false, Idempotent = true, Destructive = true, OpenWorld = false)]
    [Description("Tell the coordinator which components a component depends on (calls), e.g. component='checkout', depends_on=['payments-api','postgres']. " +
                 "Correlation uses the graph to link failures and to walk from symptoms to the likely root cause. The list replaces the component's previous list " +
                 "(send an empty list to clear it); sending the same list again changes nothing. A cycle is accepted and reported in 'cycles'.")]
    public Task<CallToolResult> RegisterDependencies(
        [Description("The component, e.g. 'checkout'. At most 200 characters.")] string component,
        [Description("Components it calls, at most 100 names of at most 200 characters; duplicates are ignored.")] string[]? depends_on = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var r = await correlation.RegisterDependenciesAsync(component, depends_on ?? [], cancellationToken);
                return new RegisterDependenciesOutput(DependencyOutput.From(r.Registration), r.Changed, r.Cycles, r.Components, r.Edges);
            },
            r => $"{r.Registration.Component} depends on {(r.Registration.DependsOn.Count == 0 ? "nothing" : string.Join(", ", r.Registration.DependsOn))}" +
                 $"{(r.Changed ? "" : " (unchanged)")}. Graph: {r.Components} components, {r.Edges} edges" +
                 (r.Cycles.Count == 0 ? "." : $"; {r.Cycles.Count} cycle(s), e.g. {string.Join(" -> ", r.Cycles[0])}."));

    [McpServerTool(Name = "get_dependency_graph", Title = "Get the dependency graph", UseStructuredContent = true, OutputSchemaType = typeof(DependencyGraphOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("The whole registered dependency graph: every component with the components it depends on, and any cycles.")]
    public Task<CallToolResult> GetDependencyGraph(CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var (all, graph, cycles) = await correlation.GetGraphAsync(cancellationToken);
                return new DependencyGraphOutput(all.Select(DependencyOutput.From).ToList(), graph.EdgeCount, cycles);
            },
            r => r.Components.Count == 0 ? "No dependencies registered yet; use register_dependencies." :
                $"{ToolCall.Plural(r.Components.Count, "component")}, {ToolCall.Plural(r.Edges, "edge")}{(r.Cycles.Count == 0 ? "" : $", {ToolCall.Plural(r.Cycles.Count, "cycle")}")}:\n" +
                string.Join("\n", r.Components.Take(30).Select(c => $"- {c.Component} -> {(c.DependsOn.Count == 0 ? "(nothing)" : string.Join(", ", c.DependsOn))}")));

    [McpServerTool(Name = "correlate_errors", Title = "Correlate recent errors", UseStructuredContent = true, OutputSchemaType = typeof(CorrelateOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Group the errors of a time window into clusters that belong together (linked by time, shared trace_id and dependency edges), " +
                 "say whether they cascade, and rank the most likely root causes with the event ids that back each one and the propagation path " +
                 "(in temporal order). abstain=true means the evidence does not single out one cause (unrelated noise, or independent failures); " +
                 "do not act on the top candidate then. Call it when several agents fail at once.")]
    public Task<CallToolResult> CorrelateErrors(
        [Description("Window length in seconds, 1 to 86400. Default 300 (5 minutes).")] int? window_seconds = null,
        [Description("End of the window, ISO-8601 with offset (e.g. 2026-12-04T13:45:00Z). Default: now.")] string? at = null,
        [Description("Only clusters that involve this component.")] string? component = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => CorrelateOutput.From(await correlation.CorrelateAsync(new CorrelationRequest
            {
                WindowSeconds = window_seconds, At = ToolCall.Timestamp("at", at), Component = component,
            }, cancellationToken)),
            r => $"{ToolCall.Plural(r.EventsExamined, "error")} from {r.Since:u} to {r.Until:u} in {ToolCall.Plural(r.Clusters.Count, "cluster")}" +
                 $"{(r.Cascade ? $"; cascade: {r.CascadeReason}" : "")}.\n{r.Verdict}" +
                 (r.RootCauses.Count == 0 ? "" : "\n" + string.Join("\n", r.RootCauses.Take(3).Select((c, i) =>
                     $"{i + 1}. {c.Component} (score {c.Score:0.00}, explains {c.Explains}) path {string.Join(" -> ", c.Path)}"))));
}
