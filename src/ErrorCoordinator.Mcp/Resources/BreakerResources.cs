using System.ComponentModel;
using System.Text.Json;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Mcp.Hosting;
using ErrorCoordinator.Mcp.Tools;
using ModelContextProtocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006

namespace ErrorCoordinator.Mcp.Resources;

/// <summary>A breaker as a resource: its state, policy and recent transitions. Subscribers are notified on every transition.</summary>
[McpServerResourceType]
public sealed class BreakerResources(BreakerService breakers)
{
    public const string Scheme = "breaker://";

    /// <summary>The resource URI of a component's breaker (the name percent-encoded, as the URI template expands it).</summary>
    public static string UriOf(string component) => Scheme + Uri.EscapeDataString(component);

    [McpServerResource(UriTemplate = "breaker://{component}", Name = "breaker", Title = "Circuit breaker", MimeType = "application/json")]
    [Description("One component's circuit breaker: state, sliding window, effective policy and its 20 most recent transitions. " +
                 "Subscribe to be notified (notifications/resources/updated) on every transition, from any server process.")]
    public async Task<string> Breaker([Description("The component, percent-encoded (e.g. agent%3Aloader for agent:loader).")] string component, CancellationToken cancellationToken)
    {
        try
        {
            var name = Uri.UnescapeDataString(component);
            var view = await breakers.GetAsync(name, cancellationToken);
            var policy = await breakers.GetPolicyAsync(name, cancellationToken);
            var transitions = await breakers.ReadTransitionsAsync(name, 20, cancellationToken);
            return JsonSerializer.Serialize(new
            {
                breaker = BreakerOutput.From(view),
                policy = PolicyOutput.From(policy),
                transitions = transitions.Select(t => JsonDocument.Parse(t).RootElement).ToList(),
            }, McpJson.Options);
        }
        catch (ValidationException ex)
        {
            throw new McpProtocolException(ex.Message, McpErrorCode.InvalidParams);
        }
    }
}

/// <summary>
/// Turns breaker transitions on the event bus (from this or any other server process) into
/// <c>notifications/resources/updated</c> for subscribers of <c>breaker://{component}</c>.
/// </summary>
public sealed partial class BreakerResourceNotifier(IEventBus bus, ChannelNames channels, ResourceSubscriptions subscriptions, ILogger<BreakerResourceNotifier> logger) : IHostedService
{
    private IAsyncDisposable? _subscription;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _subscription = await bus.SubscribeAsync(channels.Breakers, OnTransition, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null) await _subscription.DisposeAsync();
    }

    private void OnTransition(BusMessage message)
    {
        string component;
        try
        {
            component = CoreJson.Deserialize<BreakerEvent>(message.Payload).Component;
        }
        catch (JsonException ex)
        {
            Unreadable(logger, ex.Message);
            return;
        }
        _ = subscriptions.NotifyUpdatedAsync(BreakerResources.UriOf(component));
    }

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Unreadable breaker transition on the bus: {Reason}")]
    private static partial void Unreadable(ILogger logger, string reason);
}
