using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>GET /healthz: healthy when the store answers (Redis PING), with the store kind and latency.</summary>
public sealed class StoreHealthCheck(StoreDescription store, IServiceProvider services) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["store"] = store.Kind };
        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
            return HealthCheckResult.Healthy("embedded in-memory store", data);
        try
        {
            var latency = await redis.GetDatabase().PingAsync();
            data["redis_ping_ms"] = Math.Round(latency.TotalMilliseconds, 3);
            return HealthCheckResult.Healthy("redis reachable", data);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("redis unreachable: " + ex.Message, data: data);
        }
    }

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var entry = report.Entries.Values.FirstOrDefault();
        var body = new Dictionary<string, object?>
        {
            ["status"] = report.Status == HealthStatus.Healthy ? "ok" : "unhealthy",
            ["detail"] = entry.Description,
        };
        if (entry.Data is not null)
            foreach (var (k, v) in entry.Data) body[k] = v;
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}
