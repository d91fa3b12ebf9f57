using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Gpu.Hosting;
using ErrorCoordinator.Mcp.Prompts;
using ErrorCoordinator.Mcp.Resources;
using ErrorCoordinator.Mcp.Tools;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>The one composition root. Both transports (stdio and HTTP) call it.</summary>
public static class ErrorCoordinationServiceCollectionExtensions
{
    public const string Instructions =
        "ErrorCoordinator shares failures, error groups and recovery state between agents. " +
        "Report every failed task or dependency call with report_failure (or report_failures for a batch); the answer tells you the error group, " +
        "whether it is new, whether the failure is recoverable and what to do next. Use list_error_groups and get_error_group to see what is failing " +
        "across the fleet, query_errors for individual events, and update_error_group to resolve or ignore a group. " +
        "Before calling a dependency, call check_breaker; when allowed, make the call and report it with record_outcome (pass the permit when probing a half-open breaker). " +
        "Use trip_breaker / reset_breaker to isolate or restore a component, configure_breaker to set its policy, list_breakers to see what is open, " +
        "and report_agent_status when an agent starts, completes or crashes. " +
        "Register which components depend on which with register_dependencies; when several agents fail at once, call correlate_errors for the " +
        "clusters, whether they cascade and the ranked root causes (abstain=true: no single cause). Incidents open automatically on cascades, " +
        "critical errors and breaker openings (list_incidents, get_incident); acknowledge_incident when you take one, resolve_incident when fixed, " +
        "then generate_postmortem. " +
        "Training jobs call report_training_metric every step (it answers the anomalies: NaN/Inf loss, gradient explosion, and what to do); " +
        "call probe_gpu before placing GPU work or after a CUDA error (GPU memory exhaustion opens the gpu_tasks breaker). " +
        "Hand a failed task to the shared retry queue with enqueue_retry instead of retrying it in a loop; workers take due tasks with claim_retries, " +
        "finish each with complete_retry (heartbeat long ones with extend_lease), and list_dead_letters / replay_dead_letter handle what could not be retried.";

    /// <summary>Every capability's services and the store chosen by configuration (Redis when configured, else the embedded store).</summary>
    public static IServiceCollection AddErrorCoordination(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddErrorReporting(configuration);
        services.AddBreakers(configuration);
        services.AddRetries(configuration);
        services.AddHostedService<RetrySweepService>();
        services.AddCorrelation(configuration);
        services.AddIncidents(configuration);
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        if (storage.UsesRedis) services.AddRedisStorage(storage);
        else services.AddInMemoryStores();
        services.AddGpu(configuration);
        services.AddTraining(configuration);
        services.AddSingleton(new StoreDescription(storage.UsesRedis ? "redis" : "in-memory", storage.UsesRedis ? RedisTarget.Describe(storage.Redis!) : null));
        services.AddSingleton<StoreStartup>();
        services.AddSingleton<ResourceSubscriptions>();
        services.AddHostedService<BreakerResourceNotifier>();
        services.AddSingleton<Core.Incidents.IIncidentObserver, IncidentResourceNotifier>();
        services.AddHostedService<IncidentOpenerHostedService>();
        return services;
    }

    /// <summary>The MCP server with every tool, resource and prompt; the caller adds the transport.</summary>
    public static IMcpServerBuilder AddErrorCoordinatorMcpServer(this IServiceCollection services)
    {
        var version = typeof(ErrorCoordinationServiceCollectionExtensions).Assembly.GetName().Version?.ToString(3) ?? "0.1.0";
        var builder = services
            .AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "error-coordinator", Title = "ErrorCoordinator", Version = version };
                o.ServerInstructions = Instructions;
            })
            .WithRequestFilters(f => f.AddCallToolFilter(next => async (request, cancellationToken) =>
            {
                // Bad input is the caller's error, not the server's: answer it as a tool error (the client sees the
                // message naming the field and the limit) without an error-level log entry and stack trace.
                if (request.MatchedPrimitive is ModelContextProtocol.Server.McpServerTool tool &&
                    ArgumentTypes.Check(tool.ProtocolTool.InputSchema, request.Params?.Arguments as IReadOnlyDictionary<string, System.Text.Json.JsonElement>) is { } wrongType)
                    return ArgumentTypes.Error(wrongType);
                try
                {
                    return await next(request, cancellationToken);
                }
                catch (McpException ex) when (ex is not McpProtocolException)
                {
                    return new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = ex.Message }] };
                }
            }))
            .WithTools<ErrorTools>(McpJson.Options)
            .WithTools<BreakerTools>(McpJson.Options)
            .WithTools<CorrelationTools>(McpJson.Options)
            .WithTools<IncidentTools>(McpJson.Options)
            .WithTools<GpuTools>(McpJson.Options)
            .WithTools(TrainingTools.Create())
            .WithTools<RetryTools>(McpJson.Options)
            .WithResources<ErrorResources>()
            .WithResources<BreakerResources>()
            .WithResources<IncidentResources>()
            .WithResources<GpuTrainingResources>()
            .WithPrompts<ErrorPrompts>(McpJson.Options)
            .WithPrompts<IncidentPrompts>(McpJson.Options);
        return ResourceSubscriptions.AddHandlers(builder);
    }
}

/// <summary>Which store the process uses, for logs and /healthz.</summary>
public sealed record StoreDescription(string Kind, string? Target);
