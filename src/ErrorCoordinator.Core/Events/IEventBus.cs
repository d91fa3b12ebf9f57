namespace ErrorCoordinator.Core.Events;

/// <summary>A message received on a channel.</summary>
public sealed record BusMessage(string Channel, string Payload);

/// <summary>
/// Publish/subscribe for coordination events (<c>events:errors:&lt;kind&gt;</c>). Redis PUBLISH/PSUBSCRIBE,
/// or in-process for the embedded store.
/// </summary>
public interface IEventBus
{
    Task PublishAsync(string channel, string payload, CancellationToken cancellationToken = default);

    /// <summary>Subscribes to a glob pattern such as <c>events:errors:*</c>. Dispose the result to unsubscribe.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string pattern, Action<BusMessage> handler, CancellationToken cancellationToken = default);
}

/// <summary>Channel names, as in the original design, with an optional prefix for isolating deployments.</summary>
public sealed class ChannelNames(string prefix = "")
{
    public string Prefix { get; } = prefix;
    public string Errors(string kind) => $"{Prefix}events:errors:{kind}";
    public string AllErrors => $"{Prefix}events:errors:*";
    public string Groups => Errors("groups");
    /// <summary>Breaker transitions (circuit_breaker_opened, _half_open, _closed, _reopened).</summary>
    public string Breakers => Errors("circuit_breakers");
    /// <summary>Agent status changes reported with report_agent_status (the original design's <c>events:agents:status</c>).</summary>
    public string AgentStatus => $"{Prefix}events:agents:status";
}
